#pragma once
// The results vocabulary: every text the database stores to name a feature, split, run status, protocol or
// metric (README "Database schema"), in one place, so that the store, the run and the reports spell each the
// same way. Changing a text here changes the schema: every stored result would stop matching.
//
// Closed sets the code branches on are enums, each with one table mapping value <-> stored text: Feature
// (results.feature), Split (results.split), RunStatus (runs.status). Protocols and metrics are named
// constants: their sets are open (a new probe adds a protocol and its metrics), the reports carry them as
// text (a protocol is a parameter of most report functions, and a gate metric is named after one), and the
// row structs of harness/store/store.h hold them as text, so an enum would only add conversions.
// Torch-free, header-only.
#include <cstddef>
#include <optional>
#include <string_view>

namespace semharness {

// --- Closed sets: enums with their stored text ----------------------------------------------------------

// results.feature: what a probe or classifier was trained on.
enum class Feature {
  Backbone,   // "backbone": the backbone feature h
  Embedding,  // "embedding": the embedder output e, before the softmax (runs with an embedder)
  Sem,        // "sem": the SEM feature at a downstream temperature (results.tau_d)
};

// results.split
enum class Split { Train, Val, Test };

// runs.status, in the order of a run's life (the order `status` lists them in).
enum class RunStatus {
  Pending,   // registered, not started
  Running,   // taken by a worker (runs.worker), heartbeat_at refreshed
  Finished,  // results stored
  Failed,    // an error; the next `run` retries it
  Diverged,  // a non-finite loss; done, not retried
};

template <typename E>
struct StoredTerm {
  E value;
  std::string_view text;
};

// One table per enum, every value once, in declaration order.
inline constexpr StoredTerm<Feature> kFeatureTexts[] = {
    {Feature::Backbone, "backbone"}, {Feature::Embedding, "embedding"}, {Feature::Sem, "sem"}};
inline constexpr StoredTerm<Split> kSplitTexts[] = {
    {Split::Train, "train"}, {Split::Val, "val"}, {Split::Test, "test"}};
inline constexpr StoredTerm<RunStatus> kRunStatusTexts[] = {{RunStatus::Pending, "pending"},
                                                            {RunStatus::Running, "running"},
                                                            {RunStatus::Finished, "finished"},
                                                            {RunStatus::Failed, "failed"},
                                                            {RunStatus::Diverged, "diverged"}};

namespace vocabulary_detail {

template <typename E, std::size_t N>
constexpr std::string_view text_of(const StoredTerm<E> (&table)[N], E value) {
  for (const auto& term : table) {
    if (term.value == value) return term.text;
  }
  return {};  // only for a value outside the enum's declared ones
}

template <typename E, std::size_t N>
constexpr std::optional<E> parse_in(const StoredTerm<E> (&table)[N], std::string_view text) {
  for (const auto& term : table) {
    if (term.text == text) return term.value;
  }
  return std::nullopt;
}

}  // namespace vocabulary_detail

// The stored text of a value.
constexpr std::string_view text(Feature feature) { return vocabulary_detail::text_of(kFeatureTexts, feature); }
constexpr std::string_view text(Split split) { return vocabulary_detail::text_of(kSplitTexts, split); }
constexpr std::string_view text(RunStatus status) { return vocabulary_detail::text_of(kRunStatusTexts, status); }

// The value a stored text names, nullopt for any other text (the match is exact: case and spaces count).
constexpr std::optional<Feature> parse_feature(std::string_view stored) {
  return vocabulary_detail::parse_in(kFeatureTexts, stored);
}
constexpr std::optional<Split> parse_split(std::string_view stored) {
  return vocabulary_detail::parse_in(kSplitTexts, stored);
}
constexpr std::optional<RunStatus> parse_run_status(std::string_view stored) {
  return vocabulary_detail::parse_in(kRunStatusTexts, stored);
}

// Finished or diverged: a run no worker takes up again.
constexpr bool is_done(RunStatus status) { return status == RunStatus::Finished || status == RunStatus::Diverged; }

// --- Open sets: named constants ---------------------------------------------------------------------------

// results.protocol. The linear probes (what each is: harness/results/probe_protocols.h):
// the authors' probe (SPEC §2): SGD with momentum on raw frozen features, (lr, wd1) selected on validation.
inline constexpr std::string_view kSgdProbe = "linear_probe";
// The same SGD probe as the authors' code runs it (SPEC §7): each batch's features recomputed by the frozen
// encoder from augmented training images (random resized crop and flip).
inline constexpr std::string_view kSgdAugmentedProbe = "linear_probe_augmented";
// The converged probe: full-batch L-BFGS on the L2-penalised multinomial logistic loss, the penalty selected
// on validation, on features standardised with training-split statistics (folded into the stored weights).
inline constexpr std::string_view kLbfgsProbe = "lbfgs_probe";
// The same L-BFGS probe on raw features (probe.standardize = off).
inline constexpr std::string_view kLbfgsRawProbe = "lbfgs_probe_raw";
// The weighted kNN classifier on the backbone feature.
inline constexpr std::string_view kKnnProtocol = "knn";
// The online linear classifier trained on the detached backbone feature during pretraining (solo-learn's
// protocol for its published numbers).
inline constexpr std::string_view kOnlineLinearProtocol = "online_linear";

// results.metric. Every protocol stores top-1 (%); probes store it, and the loss, on every split.
inline constexpr std::string_view kTop1Metric = "top1";
inline constexpr std::string_view kLossMetric = "loss";
// Metrics a probe stores on the train split besides top1 and loss: the selected hyper-parameters
// (probe_lr, probe_wd1 for SGD; probe_l2 for L-BFGS), weight_l1 (sum |W| of the stored weight) and, for
// L-BFGS, its convergence: probe_iterations, probe_grad_norm (the largest |gradient| entry of the penalised
// objective at the end) and probe_converged (1 when probe_grad_norm <= probe.tolerance, else 0).
inline constexpr std::string_view kWeightL1Metric = "weight_l1";
inline constexpr std::string_view kProbeLrMetric = "probe_lr";
inline constexpr std::string_view kProbeWd1Metric = "probe_wd1";
inline constexpr std::string_view kProbeL2Metric = "probe_l2";
inline constexpr std::string_view kProbeIterationsMetric = "probe_iterations";
inline constexpr std::string_view kProbeGradNormMetric = "probe_grad_norm";
inline constexpr std::string_view kProbeConvergedMetric = "probe_converged";

// metrics.name: the training curves, one row per epoch.
inline constexpr std::string_view kTrainLossCurve = "train_loss";
inline constexpr std::string_view kLrCurve = "lr";
inline constexpr std::string_view kOnlineTrainTop1Curve = "online_train_top1";
// The online classifier's top-1 on the test split after each epoch (solo-learn validates it every epoch).
inline constexpr std::string_view kOnlineTestTop1Curve = "online_test_top1";

}  // namespace semharness
