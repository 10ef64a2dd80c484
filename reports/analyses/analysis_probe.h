#pragma once
// The linear probe that the analyses of stored features (the bound check, semantic coherence) read and
// retrain for a run, chosen in one place so that they agree: the first protocol of linear_probe_protocols()
// the run stored (the converged L-BFGS probe before the authors' SGD probe), with the hyper-parameters that
// protocol selected on validation.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/store/store.h"
#include "harness/probe/lbfgs_probe.h"
#include "harness/probe/linear_probe.h"

namespace semharness {

// The probe protocols the analyses can repeat: they retrain probes on stored fixed features, so every linear
// probe but the augmented one (linear_probe_augmented), in linear_probe_protocols() order.
const std::vector<std::string>& analysis_probe_protocols();

// The protocol the analyses use for the run: the first of analysis_probe_protocols() with a result row of the
// run; nullopt when it stored none of them.
std::optional<std::string> analysis_probe_protocol(const std::vector<ResultRow>& results, const std::string& run_id);

// Whether the protocol's probe was fitted on standardised features (lbfgs_probe); its stored weights have the
// standardisation folded in, so they apply to raw features all the same.
bool protocol_standardizes(const std::string& protocol);

// The tau_d whose SEM probe under the protocol has the best validation top-1 (ties: the smallest tau_d);
// nullopt when the run has no such rows.
std::optional<double> selected_sem_tau_d(const std::vector<ResultRow>& results, const std::string& run_id,
                                         const std::string& protocol);

// The run's selected probe of one feature under a protocol, as one candidate to retrain on other data.
// linear_probe: the stored probe_lr and probe_wd1 with the run's probe.wd2, probe.epochs, probe.batch_size;
// lbfgs_probe / lbfgs_probe_raw: the stored probe_l2 with the run's probe.max_iter and probe.tolerance,
// standardised as the protocol was.
struct SelectedProbe {
  std::string protocol;
  SgdProbeSpec sgd;
  LbfgsProbeSpec lbfgs;

  bool is_lbfgs() const;
  std::string hyper_parameters() const;  // "lr 0.1, wd1 0" or "l2 0.001"
};
// feature: the stored text of a Feature (harness/results/vocabulary.h), with its tau_d for Feature::Sem. Throws
// std::runtime_error when the run's results lack the selected hyper-parameters.
SelectedProbe selected_probe(const RunRecord& run, const std::vector<ResultRow>& results, const std::string& protocol,
                             std::string_view feature, std::optional<double> tau_d);

// Trains the one probe on train and scores it on train and test; train stands in for validation, as with one
// candidate there is nothing to select. The SGD probe draws its batches from the default generator: seed it
// first for a reproducible answer. A standardising probe standardises with `statistics` when given (fitted
// on more images than train labels: the bound check's label subsets), else with train's own; the returned
// weight and bias apply to raw features either way.
ProbeResult retrain_probe(const SelectedProbe& probe, const LabeledFeatures& train, const LabeledFeatures& test,
                          int64_t classes, const std::optional<FeatureStandardizer>& statistics = std::nullopt);

// The number of classes: the rows of the protocol's stored backbone probe bias in the run's folder.
int64_t stored_probe_classes(const std::filesystem::path& dir, const std::string& protocol);

// For report text: each protocol used with its description and how many runs used it, e.g.
// "lbfgs_probe (a converged probe: ...) for 2 runs".
std::string protocols_used_text(const std::map<std::string, int64_t>& runs_per_protocol);

}  // namespace semharness
