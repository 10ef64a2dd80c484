#include "reports/analyses/semantic_coherence.h"

#include "reports/run_labels.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness/data/image_set.h"
#include "harness/results/probe_protocols.h"
#include "harness/results/vocabulary.h"
#include "harness/store/artifact_paths.h"
#include "harness/store/npy.h"
#include "harness/probe/lbfgs_probe.h"
#include "reports/analyses/analysis_probe.h"
#include "reports/comparison_table.h"
#include "sem/simplicial_embedding.h"

namespace semharness {
namespace {

namespace fs = std::filesystem;

// Class names in label order, as the dataset readers name them (harness/data/readers/load_dataset.cpp).
const std::vector<std::string> kFashionMnistNames = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                     "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
const std::vector<std::string> kCifar10Names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

// ---------------------------------------------------------------------------------------------------------
// What is measured on one probe of one run.

struct ProbeAnalysis {
  std::string protocol;                                    // the run's probe protocol (analysis_probe.h)
  int64_t dim = 0;                                         // feature dimension D
  std::vector<std::vector<int64_t>> top_k;                 // per class: feature indices, largest |w| first
  SharingStats features;                                   // sharing of top-K features
  std::optional<SharingStats> simplices;                   // SEM: sharing of the simplices they fall in
  std::vector<std::vector<int64_t>> shared_counts;         // [C][C]: top-K features two classes share
  int64_t kept_dims = 0;                                   // dims the masked probe keeps
  double full_top1 = 0, masked_top1 = 0, random_top1 = 0;  // test top-1 %, probes retrained on the sample
};

struct PairAnalysis {
  const RunRecord* sem_run = nullptr;
  const RunRecord* baseline_run = nullptr;  // nullptr when the grid has no matching sem=off run
  std::string label;                        // method and the other keys that vary
  std::string tau_d_text;                   // the validation-best tau_d of the SEM probe
  int64_t L = 0, V = 0;
  int64_t n_train = 0, n_test = 0;
  ProbeAnalysis sem;
  std::optional<ProbeAnalysis> baseline;
  std::optional<ClassGroups> groups;
};

NpyArray load_array(const fs::path& dir, const std::string& name, const std::string& dtype, int64_t rank) {
  NpyArray array = read_npy((dir / name).string());
  if (array.dtype != dtype || static_cast<int64_t>(array.shape.size()) != rank) {
    throw std::runtime_error(fmt::format("{}: expected a rank-{} {} array, got rank {} {}", (dir / name).string(), rank,
                                         dtype, array.shape.size(), array.dtype));
  }
  return array;
}

at::Tensor float_tensor(const NpyArray& array) {
  return torch::from_blob(const_cast<float*>(array.f32.data()), array.shape, torch::kFloat).clone();
}
at::Tensor long_tensor(const NpyArray& array) {
  return torch::from_blob(const_cast<int64_t*>(array.i64.data()), array.shape, torch::kLong).clone();
}

// The stored sample of one feature kind, and the probe selected on it at training time.
struct StoredFeature {
  at::Tensor train_x, train_y, test_x, test_y;  // on the analysis device
  NpyArray weight;                              // [C, D]
};

StoredFeature load_feature(const fs::path& dir, const std::string& feature_file_prefix /* "h" or "e" */,
                           const std::string& probe_stem, const c10::Device& device) {
  StoredFeature stored;
  const auto train_x = load_array(dir, "train_" + feature_file_prefix + ".npy", "<f4", 2);
  const auto test_x = load_array(dir, "test_" + feature_file_prefix + ".npy", "<f4", 2);
  const auto train_y = load_array(dir, "train_labels.npy", "<i8", 1);
  const auto test_y = load_array(dir, "test_labels.npy", "<i8", 1);
  stored.weight = load_array(dir, probe_stem + "_weight.npy", "<f4", 2);
  const int64_t dim = stored.weight.shape[1];
  if (train_x.shape[1] != dim || test_x.shape[1] != dim || train_x.shape[0] != train_y.shape[0] ||
      test_x.shape[0] != test_y.shape[0]) {
    throw std::runtime_error(
        fmt::format("{}: the stored features, labels and {}_weight.npy disagree in shape", dir.string(), probe_stem));
  }
  stored.train_x = float_tensor(train_x).to(device);
  stored.test_x = float_tensor(test_x).to(device);
  stored.train_y = long_tensor(train_y).to(device);
  stored.test_y = long_tensor(test_y).to(device);
  return stored;
}

// Test top-1 of a probe retrained, with the run's protocol and selected hyper-parameters, on the kept columns
// of the stored training sample (all columns when kept is empty).
double retrained_test_top1(const at::Tensor& train_x, const at::Tensor& train_y, const at::Tensor& test_x,
                           const at::Tensor& test_y, const std::vector<int64_t>& kept, int64_t classes,
                           const SelectedProbe& probe, uint64_t seed) {
  torch::manual_seed(seed);
  at::Tensor train_kept = train_x, test_kept = test_x;
  if (!kept.empty()) {
    const auto index = torch::tensor(kept, torch::kLong).to(train_x.device());
    train_kept = train_x.index_select(1, index);
    test_kept = test_x.index_select(1, index);
  }
  return retrain_probe(probe, {train_kept, train_y}, {test_kept, test_y}, classes).test.top1;
}

// The weights that rank a class's features. A probe fitted on standardised features (lbfgs_probe) is stored
// with the standardisation folded in, w_raw = w_std / std: its raw weight grows as a feature's scale shrinks,
// so a nearly constant feature would top the ranking on scale alone. Its weight on the standardised feature,
// raw weight times the feature's std (here on the stored training sample, a sample of the split the probe
// was fitted on), is what says how much the probe relies on the feature.
std::vector<float> ranking_weights(const StoredFeature& stored, const at::Tensor& train_x,
                                   const std::string& protocol) {
  if (!protocol_standardizes(protocol)) return stored.weight.f32;
  const auto scale = FeatureStandardizer::fit(train_x).scale.to(torch::kCPU, torch::kFloat);
  const auto standardized = (float_tensor(stored.weight) * scale.unsqueeze(0)).contiguous();
  return {standardized.data_ptr<float>(), standardized.data_ptr<float>() + standardized.numel()};
}

std::vector<std::vector<int64_t>> shared_count_matrix(const std::vector<std::vector<int64_t>>& top_k) {
  const size_t classes = top_k.size();
  std::vector<std::vector<int64_t>> counts(classes, std::vector<int64_t>(classes, 0));
  std::map<int64_t, std::vector<size_t>> classes_of_unit;
  for (size_t c = 0; c < classes; ++c) {
    for (int64_t unit : std::set<int64_t>(top_k[c].begin(), top_k[c].end())) classes_of_unit[unit].push_back(c);
  }
  for (const auto& [unit, owners] : classes_of_unit) {
    for (size_t a = 0; a < owners.size(); ++a) {
      for (size_t b = a + 1; b < owners.size(); ++b) {
        ++counts[owners[a]][owners[b]];
        ++counts[owners[b]][owners[a]];
      }
    }
  }
  return counts;
}

// `count` distinct values of 0..universe-1, ascending, drawn with a fixed seed.
std::vector<int64_t> random_subset(int64_t universe, int64_t count, uint64_t seed) {
  std::vector<int64_t> all(static_cast<size_t>(universe));
  std::iota(all.begin(), all.end(), 0);
  std::mt19937_64 generator(seed);
  std::shuffle(all.begin(), all.end(), generator);
  all.resize(static_cast<size_t>(std::min(count, universe)));
  std::sort(all.begin(), all.end());
  return all;
}

// Top-K, sharing, and the three retrained probes (all features, the top-K mask, a random mask of the same
// size). For SEM (L > 0) masks are whole simplices: the softmax ties a simplex's V entries together (they
// sum to 1), so a vertex carries its meaning only with the others of its simplex.
ProbeAnalysis analyse_probe(const StoredFeature& stored, const at::Tensor& train_x, const at::Tensor& test_x,
                            const std::vector<int64_t>& group_of_class, int64_t L, int64_t V, int64_t top_k,
                            const SelectedProbe& probe, uint64_t seed) {
  ProbeAnalysis analysis;
  analysis.protocol = probe.protocol;
  const int64_t classes = stored.weight.shape[0];
  analysis.dim = stored.weight.shape[1];
  analysis.top_k = top_k_features(ranking_weights(stored, train_x, probe.protocol), classes, analysis.dim, top_k);
  analysis.features = sharing_stats(analysis.top_k, group_of_class);
  analysis.shared_counts = shared_count_matrix(analysis.top_k);
  std::vector<int64_t> kept, random_kept;
  if (L > 0) {
    const auto simplices = simplices_of(analysis.top_k, L);
    analysis.simplices = sharing_stats(simplices, group_of_class);
    const auto kept_simplices = union_of(simplices);
    kept = features_of_simplices(kept_simplices, L, V);
    random_kept = features_of_simplices(random_subset(L, static_cast<int64_t>(kept_simplices.size()), seed), L, V);
  } else {
    kept = union_of(analysis.top_k);
    random_kept = random_subset(analysis.dim, static_cast<int64_t>(kept.size()), seed);
  }
  analysis.kept_dims = static_cast<int64_t>(kept.size());
  const auto train = [&](const std::vector<int64_t>& columns) {
    return retrained_test_top1(train_x, stored.train_y, test_x, stored.test_y, columns, classes, probe, seed);
  };
  analysis.full_top1 = train({});
  analysis.masked_top1 = analysis.kept_dims == analysis.dim ? analysis.full_top1 : train(kept);
  analysis.random_top1 = analysis.kept_dims == analysis.dim ? analysis.full_top1 : train(random_kept);
  return analysis;
}

// The item of the run's probe.tau_d list that is the tau_d value of the results table.
std::string tau_d_text_of(const RunRecord& run, const ProbeSuiteSpec& probe, double tau_d) {
  for (size_t t = 0; t < probe.tau_d.size(); ++t) {
    if (std::abs(probe.tau_d[t] - tau_d) <= 1e-9 * std::abs(tau_d)) return probe.tau_d_texts[t];
  }
  throw std::runtime_error(fmt::format("run {}: tau_d {} is not in its probe.tau_d '{}'", run.run_id, tau_d,
                                       fmt::join(probe.tau_d_texts, ",")));
}

bool is_sem_key(const std::string& key) { return key == "sem" || key.rfind("sem.", 0) == 0; }

// The identity of a run apart from its SEM settings: a sem=off run with the same key is the baseline.
std::string baseline_key(const RunRecord& run) {
  std::string key = fmt::format("seed={}", run.seed);
  for (const auto& spec : config_keys()) {
    if (spec.identity && !is_sem_key(spec.name)) key += fmt::format("\n{}={}", spec.name, stored_value(run, spec.name));
  }
  return key;
}

// ---------------------------------------------------------------------------------------------------------
// Formatting.

ReportCell text_cell(std::string text) {
  ReportCell cell;
  cell.text = std::move(text);
  return cell;
}
// Mean (± std when asked and there are several values); the cell's value is the mean.
ReportCell number_cell(const std::vector<double>& values, int decimals, bool with_std = true) {
  if (values.empty()) return text_cell("-");
  const auto s = seed_stats(values);
  ReportCell cell = text_cell(fmt::format("{:.{}f}", s.mean, decimals));
  if (with_std && s.n > 1) cell.text += fmt::format(" ± {:.{}f}", s.std, decimals);
  cell.value = s.mean;
  if (with_std) cell.details = {{"std", s.std}, {"n", static_cast<double>(s.n)}};
  return cell;
}
double mean_of(const std::vector<double>& values) {
  return values.empty() ? std::nan("") : std::accumulate(values.begin(), values.end(), 0.0) / values.size();
}

// "pear* (3), orange* (2), bus (1)": the classes sharing most top-K features with class c; * = same group.
std::string partners_text(const ProbeAnalysis& analysis, size_t c, const std::vector<std::string>& names,
                          const std::vector<int64_t>& group_of_class, size_t limit = 3) {
  std::vector<std::pair<int64_t, size_t>> partners;
  for (size_t other = 0; other < analysis.shared_counts.size(); ++other) {
    if (other != c && analysis.shared_counts[c][other] > 0)
      partners.push_back({-analysis.shared_counts[c][other], other});
  }
  std::sort(partners.begin(), partners.end());
  if (partners.empty()) return "-";
  std::string text;
  for (size_t i = 0; i < std::min(limit, partners.size()); ++i) {
    const size_t other = partners[i].second;
    const bool same = !group_of_class.empty() && group_of_class[c] == group_of_class[other];
    text += fmt::format("{}{}{} ({})", i ? ", " : "", other < names.size() ? names[other] : std::to_string(other),
                        same ? "*" : "", -partners[i].first);
  }
  if (partners.size() > limit) text += fmt::format(" +{}", partners.size() - limit);
  return text;
}

std::string join_numbers(const std::vector<int64_t>& values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) text += (i ? " " : "") + std::to_string(values[i]);
  return text;
}

// Distinct simplices in order of the weights' rank.
std::vector<int64_t> ranked_simplices(const std::vector<int64_t>& features, int64_t L) {
  std::vector<int64_t> simplices;
  for (int64_t f : features) {
    const int64_t l = simplex_of_feature(f, L);
    if (std::find(simplices.begin(), simplices.end(), l) == simplices.end()) simplices.push_back(l);
  }
  return simplices;
}

ReportTable per_class_table(const PairAnalysis& pair, const std::string& grid, int64_t top_k) {
  ReportTable table;
  table.id = "coherence_classes_" + grid;
  table.title = fmt::format("Top-{} probe weights per class: {} seed {}", top_k, pair.label, pair.sem_run->seed);
  table.header = {"class",
                  "group",
                  "SEM simplices of the top-K",
                  "SEM shares most with",
                  "baseline top-K features",
                  "baseline shares most with"};
  const int64_t classes = static_cast<int64_t>(pair.sem.top_k.size());
  std::vector<std::string> names;
  std::vector<int64_t> groups;
  if (pair.groups) {
    names = pair.groups->class_names;
    groups = pair.groups->group_of_class;
  }
  for (int64_t c = 0; c < classes; ++c) {
    const std::string name = c < static_cast<int64_t>(names.size()) ? names[c] : std::to_string(c);
    const std::string group =
        pair.groups && c < static_cast<int64_t>(groups.size()) ? pair.groups->group_names[groups[c]] : std::string("-");
    const auto simplices = ranked_simplices(pair.sem.top_k[c], pair.L);
    std::vector<ReportCell> row = {text_cell(name), text_cell(group),
                                   text_cell(fmt::format("{} ({})", join_numbers(simplices), simplices.size())),
                                   text_cell(partners_text(pair.sem, c, names, groups))};
    if (pair.baseline && c < static_cast<int64_t>(pair.baseline->top_k.size())) {
      row.push_back(text_cell(join_numbers(pair.baseline->top_k[c])));
      row.push_back(text_cell(partners_text(*pair.baseline, c, names, groups)));
    } else {
      row.push_back(text_cell("-"));
      row.push_back(text_cell("-"));
    }
    table.rows.push_back(std::move(row));
  }
  table.notes.push_back(fmt::format(
      "SEM: the simplices (l of vertex v*L + l, L = {}) the class's top-{} |w| fall in, by rank, and how many; "
      "baseline: backbone feature indices by rank. \"shares most with\": the classes with the most top-K "
      "features in common (count in brackets), * = same semantic group.",
      pair.L, top_k));
  return table;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Groups.

std::optional<ClassGroups> class_groups(const std::string& dataset) {
  ClassGroups groups;
  if (dataset == "cifar100") {
    groups.class_names = cifar100_fine_names();
    groups.group_names = cifar100_superclass_names();
    groups.group_of_class = cifar100_coarse_of_fine();
    groups.source =
        "CIFAR-100 superclasses: the coarse label stored with each fine label in the CIFAR-100 "
        "files (Krizhevsky 2009, the dataset's 20 superclasses)";
    return groups;
  }
  if (dataset == "cifar10") {
    groups.class_names = kCifar10Names;
    groups.group_names = {"vehicles", "animals"};
    groups.group_of_class = {0, 0, 1, 1, 1, 1, 1, 1, 0, 0};
    groups.source =
        "CIFAR-10: vehicles (airplane, automobile, ship, truck) and animals (bird, cat, deer, dog, "
        "frog, horse)";
    return groups;
  }
  if (dataset == "fashion_mnist") {
    groups.class_names = kFashionMnistNames;
    groups.group_names = {"tops", "footwear", "trouser", "dress", "bag"};
    groups.group_of_class = {0, 2, 0, 3, 0, 1, 0, 1, 4, 1};
    groups.source =
        "Fashion-MNIST: tops (T-shirt/top, pullover, coat, shirt), footwear (sandal, sneaker, ankle "
        "boot); trouser, dress and bag are each a group of their own";
    return groups;
  }
  return std::nullopt;
}

double chance_within_group_fraction(const std::vector<int64_t>& group_of_class) {
  const size_t classes = group_of_class.size();
  if (classes < 2) return std::nan("");
  int64_t within = 0;
  for (size_t a = 0; a < classes; ++a) {
    for (size_t b = a + 1; b < classes; ++b) within += group_of_class[a] == group_of_class[b];
  }
  return static_cast<double>(within) / (static_cast<double>(classes) * (classes - 1) / 2.0);
}

// ---------------------------------------------------------------------------------------------------------
// Top-K and sharing.

std::vector<std::vector<int64_t>> top_k_features(const std::vector<float>& weight, int64_t classes, int64_t dim,
                                                 int64_t k) {
  if (static_cast<int64_t>(weight.size()) != classes * dim) {
    throw std::invalid_argument(fmt::format("top_k_features: {} weights for {} x {}", weight.size(), classes, dim));
  }
  const int64_t kk = std::min(k, dim);
  std::vector<std::vector<int64_t>> top(static_cast<size_t>(classes));
  std::vector<int64_t> order(static_cast<size_t>(dim));
  for (int64_t c = 0; c < classes; ++c) {
    const float* row = weight.data() + c * dim;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + kk, order.end(), [row](int64_t a, int64_t b) {
      const float wa = std::abs(row[a]), wb = std::abs(row[b]);
      return wa > wb || (wa == wb && a < b);
    });
    top[c].assign(order.begin(), order.begin() + kk);
  }
  return top;
}

std::vector<std::vector<int64_t>> simplices_of(const std::vector<std::vector<int64_t>>& features_per_class, int64_t L) {
  std::vector<std::vector<int64_t>> result;
  for (const auto& features : features_per_class) {
    std::set<int64_t> simplices;
    for (int64_t f : features) simplices.insert(simplex_of_feature(f, L));
    result.emplace_back(simplices.begin(), simplices.end());
  }
  return result;
}

std::optional<double> SharingStats::within_group_fraction() const {
  if (!grouped || shared_pairs == 0) return std::nullopt;
  return static_cast<double>(within_group_pairs) / static_cast<double>(shared_pairs);
}

SharingStats sharing_stats(const std::vector<std::vector<int64_t>>& units_per_class,
                           const std::vector<int64_t>& group_of_class) {
  std::map<int64_t, std::vector<size_t>> classes_of_unit;
  for (size_t c = 0; c < units_per_class.size(); ++c) {
    for (int64_t unit : std::set<int64_t>(units_per_class[c].begin(), units_per_class[c].end())) {
      classes_of_unit[unit].push_back(c);
    }
  }
  SharingStats stats;
  stats.grouped = !group_of_class.empty();
  for (const auto& [unit, owners] : classes_of_unit) {
    if (owners.size() < 2) continue;
    ++stats.shared_units;
    for (size_t a = 0; a < owners.size(); ++a) {
      for (size_t b = a + 1; b < owners.size(); ++b) {
        ++stats.shared_pairs;
        if (!group_of_class.empty() && group_of_class.at(owners[a]) == group_of_class.at(owners[b])) {
          ++stats.within_group_pairs;
        }
      }
    }
  }
  return stats;
}

std::vector<int64_t> union_of(const std::vector<std::vector<int64_t>>& units_per_class) {
  std::set<int64_t> all;
  for (const auto& units : units_per_class) all.insert(units.begin(), units.end());
  return {all.begin(), all.end()};
}

std::vector<int64_t> features_of_simplices(const std::vector<int64_t>& simplices, int64_t L, int64_t V) {
  std::vector<int64_t> features;
  for (int64_t l : simplices) {
    for (int64_t v = 0; v < V; ++v) features.push_back(v * L + l);
  }
  std::sort(features.begin(), features.end());
  return features;
}

// ---------------------------------------------------------------------------------------------------------
// The report sections.

namespace {

// The sem=on runs of a grid with stored features, each analysed with its sem=off baseline (same keys apart from
// SEM's, same seed) when it has one; runs that cannot be analysed are named with the reason.
struct CoherencePairs {
  std::vector<const RunRecord*> sem_runs;  // every finished sem=on run
  std::vector<PairAnalysis> pairs;
  std::map<std::string, ProbeAnalysis> baselines;  // by run_id: a sem=off run may be the baseline of several
  std::vector<std::string> skipped;
};

CoherencePairs analyse_pairs(Store& store, const std::string& db_path, const std::string& grid, int64_t top_k) {
  const auto runs = store.runs(grid);
  const auto results = store.results();
  const c10::Device device = torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  CoherencePairs out;
  auto& sem_runs = out.sem_runs;
  auto& pairs = out.pairs;
  auto& skipped = out.skipped;
  auto& baseline_cache = out.baselines;
  std::map<std::string, const RunRecord*> baseline_of;
  for (const auto& run : runs) {
    if (run.status == text(RunStatus::Finished) && stored_sem_mode(run) == EmbedderMode::Off) {
      baseline_of.emplace(baseline_key(run), &run);
    }
  }
  for (const auto& run : runs) {
    if (run.status == text(RunStatus::Finished) && stored_sem_mode(run) == EmbedderMode::Softmax)
      sem_runs.push_back(&run);
  }
  // Keys (other than sem itself) telling the SEM runs apart go into the row label, the method first.
  std::vector<std::string> varying;
  for (const auto& key : distinguishing_keys(sem_runs, true)) {
    if (key != "sem") varying.push_back(key);
  }

  for (const auto* run : sem_runs) {
    const auto dir = stored_artifacts(db_path, run->run_id);
    if (!dir) {
      skipped.push_back(fmt::format("{} (no stored features)", run->run_id));
      continue;
    }
    try {
      PairAnalysis pair;
      pair.sem_run = run;
      pair.label = row_label(*run, varying);
      pair.groups = class_groups(stored_run_spec(*run).data.dataset);
      const std::vector<int64_t> group_of_class = pair.groups ? pair.groups->group_of_class : std::vector<int64_t>{};
      const auto protocol = analysis_probe_protocol(results, run->run_id);
      if (!protocol) throw std::runtime_error("no linear-probe results");
      const auto tau_d = selected_sem_tau_d(results, run->run_id, *protocol);
      if (!tau_d) throw std::runtime_error(fmt::format("no SEM {} results", *protocol));
      const RunSpec spec = stored_run_spec(*run);
      pair.tau_d_text = tau_d_text_of(*run, spec.probe, *tau_d);
      pair.L = spec.embedder.L;
      pair.V = spec.embedder.V;
      const auto stored =
          load_feature(*dir, "e", probe_file_stem(*protocol, text(Feature::Sem), pair.tau_d_text), device);
      if (stored.weight.shape[1] != pair.L * pair.V) {
        throw std::runtime_error(
            fmt::format("the SEM probe has {} inputs, not L*V = {}", stored.weight.shape[1], pair.L * pair.V));
      }
      pair.n_train = stored.train_x.size(0);
      pair.n_test = stored.test_x.size(0);
      const auto seed = static_cast<uint64_t>(run->seed);
      pair.sem =
          analyse_probe(stored, downstream_feature(stored.train_x, pair.L, pair.V, *tau_d),
                        downstream_feature(stored.test_x, pair.L, pair.V, *tau_d), group_of_class, pair.L, pair.V,
                        top_k, selected_probe(*run, results, *protocol, text(Feature::Sem), *tau_d), seed);
      const auto base = baseline_of.find(baseline_key(*run));
      if (base != baseline_of.end()) {
        const RunRecord* baseline_run = base->second;
        auto cached = baseline_cache.find(baseline_run->run_id);
        if (cached == baseline_cache.end()) {
          const auto base_dir = stored_artifacts(db_path, baseline_run->run_id);
          const auto base_protocol = analysis_probe_protocol(results, baseline_run->run_id);
          if (base_dir && base_protocol) {
            const auto base_stored =
                load_feature(*base_dir, "h", probe_file_stem(*base_protocol, text(Feature::Backbone)), device);
            cached =
                baseline_cache
                    .emplace(baseline_run->run_id, analyse_probe(base_stored, base_stored.train_x, base_stored.test_x,
                                                                 group_of_class, 0, 0, top_k,
                                                                 selected_probe(*baseline_run, results, *base_protocol,
                                                                                text(Feature::Backbone), std::nullopt),
                                                                 static_cast<uint64_t>(baseline_run->seed)))
                    .first;
          } else if (base_dir) {
            skipped.push_back(
                fmt::format("{} (baseline of {}: no linear-probe results)", baseline_run->run_id, run->run_id));
          } else {
            skipped.push_back(
                fmt::format("{} (baseline of {}: no stored features)", baseline_run->run_id, run->run_id));
          }
        }
        if (cached != baseline_cache.end()) {
          pair.baseline_run = baseline_run;
          pair.baseline = cached->second;
        }
      }
      pairs.push_back(std::move(pair));
    } catch (const std::exception& error) {
      skipped.push_back(fmt::format("{} ({})", run->run_id, error.what()));
    }
  }
  return out;
}

// What the section measures, and how: its opening paragraphs.
std::vector<std::string> method_paragraphs(const CoherencePairs& analysed, int64_t top_k) {
  const auto& pairs = analysed.pairs;
  std::vector<std::string> paragraphs;
  const auto& first = pairs.front();
  std::string groups_text = first.groups ? "groups: " + first.groups->source + "."
                                         : "this dataset has no semantic groups (synthetic classes are unrelated "
                                           "random templates), so only sharing counts and masked accuracies are "
                                           "reported, no within-group fractions.";
  std::map<std::string, int64_t> runs_per_protocol;
  for (const auto& pair : pairs) ++runs_per_protocol[pair.sem.protocol];
  for (const auto& [run_id, analysis] : analysed.baselines) ++runs_per_protocol[analysis.protocol];
  std::vector<std::string> protocol_order;
  for (const auto& protocol : analysis_probe_protocols()) protocol_order.push_back(protocol);
  paragraphs.push_back(fmt::format(
      "Probe protocol (per run the first it stored of {}): {}. Each run's stored probe of that protocol is read, "
      "and the masked probes below are retrained with the same protocol at the hyper-parameters it selected on "
      "validation.",
      fmt::join(protocol_order, ", "), protocols_used_text(runs_per_protocol)));
  paragraphs.push_back(fmt::format(
      "For each class, the {k} features with the largest |w| in its row of the run's stored probe (SEM: the "
      "SEM feature of sem=on runs at the tau_d best on validation; baseline: the backbone feature of the sem=off "
      "run with the same method and seed); for a probe fitted on standardised features ({standardized}) w is its "
      "weight on the standardised feature, the stored raw weight times the feature's std on the stored training "
      "sample, since the raw weight of such a probe grows as the feature's scale shrinks. A feature in the "
      "top-{k} of several classes is shared; every pair of classes sharing it counts once per feature, and the "
      "within-group fraction is the share of those pairs whose classes are in the same semantic group (chance: "
      "the fraction of all class pairs in one group). For SEM the same is also counted on the simplices the "
      "top-{k} features fall in; {groups}",
      fmt::arg("k", top_k), fmt::arg("standardized", kLbfgsProbe), fmt::arg("groups", groups_text)));
  paragraphs.push_back(fmt::format(
      "Masked probes: a probe is retrained on the stored sample ({} training images of the probe-train split, {} "
      "test images) with the run's protocol at its selected hyper-parameters (linear_probe: SGD at the lr and "
      "wd1 for probe.epochs; L-BFGS: full-batch at the l2, to convergence or probe.max_iter iterations), on (a) "
      "every feature, (b) only the union of the classes' top-{} features, (c) a random set of the same size; all "
      "report test top-1 %. For SEM the mask keeps whole simplices (all V vertices of each simplex a top-{} "
      "feature falls in), because the softmax ties a simplex's entries together (they sum to 1) and a vertex "
      "means something only next to the others; the random control then draws as many whole simplices.",
      first.n_train, first.n_test, top_k, top_k));

  return paragraphs;
}

// Per configuration, mean over seeds: the shared-feature table and the masked-probe table.
std::vector<ReportTable> seed_mean_tables(const std::vector<PairAnalysis>& pairs, const std::string& grid,
                                          int64_t top_k) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const PairAnalysis*>> by_label;
  for (const auto& pair : pairs) {
    if (!by_label.count(pair.label)) order.push_back(pair.label);
    by_label[pair.label].push_back(&pair);
  }
  ReportTable sharing;
  sharing.id = "coherence_sharing_" + grid;
  sharing.title = fmt::format("Shared top-{} probe features (mean ± std over seeds)", top_k);
  sharing.header = {"configuration",
                    "seeds",
                    "tau_d",
                    "SEM shared features",
                    "SEM within-group %",
                    "SEM within-group % (simplices)",
                    "baseline shared features",
                    "baseline within-group %",
                    "chance %"};
  ReportTable masked;
  masked.id = "coherence_masked_" + grid;
  masked.title = "Probes retrained on masked features: test top-1 % (mean ± std over seeds)";
  masked.header = {"configuration",  "SEM kept dims",       "SEM all",
                   "SEM top-K mask", "SEM random mask",     "baseline kept dims",
                   "baseline all",   "baseline top-K mask", "baseline random mask"};
  for (const auto& label : order) {
    const auto& group = by_label.at(label);
    std::vector<double> sem_shared, sem_within, sem_within_simplex, base_shared, base_within, chance;
    std::vector<double> sem_kept, sem_full, sem_masked, sem_random, base_kept, base_full, base_masked, base_random;
    std::set<std::string> taus;
    int64_t sem_dim = 0, base_dim = 0;
    for (const auto* pair : group) {
      taus.insert(pair->tau_d_text);
      sem_dim = pair->sem.dim;
      sem_shared.push_back(static_cast<double>(pair->sem.features.shared_units));
      if (auto f = pair->sem.features.within_group_fraction(); f && pair->groups) sem_within.push_back(100 * *f);
      if (auto f = pair->sem.simplices->within_group_fraction(); f && pair->groups)
        sem_within_simplex.push_back(100 * *f);
      if (pair->groups) chance.push_back(100 * chance_within_group_fraction(pair->groups->group_of_class));
      sem_kept.push_back(static_cast<double>(pair->sem.kept_dims));
      sem_full.push_back(pair->sem.full_top1);
      sem_masked.push_back(pair->sem.masked_top1);
      sem_random.push_back(pair->sem.random_top1);
      if (pair->baseline) {
        base_dim = pair->baseline->dim;
        base_shared.push_back(static_cast<double>(pair->baseline->features.shared_units));
        if (auto f = pair->baseline->features.within_group_fraction(); f && pair->groups)
          base_within.push_back(100 * *f);
        base_kept.push_back(static_cast<double>(pair->baseline->kept_dims));
        base_full.push_back(pair->baseline->full_top1);
        base_masked.push_back(pair->baseline->masked_top1);
        base_random.push_back(pair->baseline->random_top1);
      }
    }
    sharing.rows.push_back({text_cell(label), text_cell(std::to_string(group.size())),
                            text_cell(fmt::format("{}", fmt::join(taus, ", "))), number_cell(sem_shared, 1),
                            number_cell(sem_within, 1), number_cell(sem_within_simplex, 1), number_cell(base_shared, 1),
                            number_cell(base_within, 1), number_cell(chance, 1, false)});
    const auto kept_cell = [](const std::vector<double>& kept, int64_t dim) {
      if (kept.empty()) return text_cell("-");
      const double mean = mean_of(kept);
      ReportCell cell = text_cell(fmt::format("{:.0f} / {} ({:.0f}%)", mean, dim, 100.0 * mean / dim));
      cell.value = mean;
      return cell;
    };
    masked.rows.push_back({text_cell(label), kept_cell(sem_kept, sem_dim), number_cell(sem_full, 2),
                           number_cell(sem_masked, 2), number_cell(sem_random, 2), kept_cell(base_kept, base_dim),
                           number_cell(base_full, 2), number_cell(base_masked, 2), number_cell(base_random, 2)});
  }
  sharing.notes.push_back(
      "shared features: features in the top-K of two or more classes. within-group %: of the (feature, class "
      "pair) sharings, those whose two classes are in the same semantic group; chance: the fraction of all class "
      "pairs in one group.");
  masked.notes.push_back(
      "kept dims: features the top-K mask keeps (SEM: whole simplices), of all. all / top-K mask / random mask: "
      "a probe retrained on the stored sample on every feature, on the mask, on a random mask of the same size.");
  std::vector<ReportTable> out;
  out.push_back(std::move(sharing));
  out.push_back(std::move(masked));
  return out;
}

// The section's verdict: within-group sharing of SEM against the baseline, and what the masks keep.
std::string verdict_text(const std::vector<PairAnalysis>& pairs, int64_t top_k) {
  const auto& first = pairs.front();
  std::vector<double> sem_fraction, base_fraction, sem_keep, base_keep, sem_random_keep, base_random_keep;
  int64_t paired = 0, sem_higher = 0;
  double chance = std::nan("");
  for (const auto& pair : pairs) {
    if (pair.sem.full_top1 > 0) {
      sem_keep.push_back(100 * pair.sem.masked_top1 / pair.sem.full_top1);
      sem_random_keep.push_back(100 * pair.sem.random_top1 / pair.sem.full_top1);
    }
    if (pair.baseline && pair.baseline->full_top1 > 0) {
      base_keep.push_back(100 * pair.baseline->masked_top1 / pair.baseline->full_top1);
      base_random_keep.push_back(100 * pair.baseline->random_top1 / pair.baseline->full_top1);
    }
    if (!pair.groups) continue;
    chance = 100 * chance_within_group_fraction(pair.groups->group_of_class);
    const auto s = pair.sem.features.within_group_fraction();
    if (s) sem_fraction.push_back(100 * *s);
    if (!pair.baseline) continue;
    const auto b = pair.baseline->features.within_group_fraction();
    if (b) base_fraction.push_back(100 * *b);
    if (s && b) {
      ++paired;
      sem_higher += *s > *b;
    }
  }
  std::string verdict;
  if (!first.groups) {
    verdict = "No semantic groups for this dataset: the within-group comparison does not apply. ";
  } else if (sem_fraction.empty() || base_fraction.empty()) {
    verdict = fmt::format(
        "Too few shared top-{} features to compare within-group fractions ({} SEM and {} baseline "
        "runs with shared features). ",
        top_k, sem_fraction.size(), base_fraction.size());
  } else {
    const double sem_mean = mean_of(sem_fraction), base_mean = mean_of(base_fraction);
    verdict = fmt::format(
        "Shared top-{} features stay within a semantic group {} for SEM than for the baseline: {:.1f}% of shared "
        "pairs for SEM against {:.1f}% for the baseline (chance {:.1f}%), SEM higher in {} of {} paired runs. ",
        top_k,
        sem_mean > base_mean   ? "more often"
        : sem_mean < base_mean ? "less often"
                               : "as often",
        sem_mean, base_mean, chance, sem_higher, paired);
  }
  verdict += fmt::format(
      "Masked probes keep {:.1f}% of the all-feature accuracy for SEM (random mask of the same size: "
      "{:.1f}%)",
      mean_of(sem_keep), mean_of(sem_random_keep));
  if (!base_keep.empty()) {
    verdict +=
        fmt::format(" and {:.1f}% for the baseline (random: {:.1f}%)", mean_of(base_keep), mean_of(base_random_keep));
  }
  verdict += fmt::format(", over {} SEM runs. ", pairs.size());
  if (pairs.size() < 3) verdict += "Few runs: read these numbers as indicative, not as a test. ";
  return verdict;
}

ReportSection grid_section(Store& store, const std::string& db_path, const std::string& grid, int64_t top_k) {
  ReportSection section;
  section.id = "coherence_" + grid;
  section.title = fmt::format("Semantic coherence of probe weights: {}", grid);
  const CoherencePairs analysed = analyse_pairs(store, db_path, grid, top_k);
  const auto& pairs = analysed.pairs;
  const auto& skipped = analysed.skipped;
  if (pairs.empty()) {
    section.paragraphs.push_back(fmt::format(
        "No sem=on run of this grid has stored features and probes to analyse ({} finished sem=on runs{}). "
        "Runs store them when analysis.samples > 0 (the default); runs finished before that have none.",
        analysed.sem_runs.size(), skipped.empty() ? "" : ": " + fmt::format("{}", fmt::join(skipped, "; "))));
    return section;
  }

  section.paragraphs = method_paragraphs(analysed, top_k);
  section.tables = seed_mean_tables(pairs, grid, top_k);
  section.tables.push_back(per_class_table(pairs.front(), grid, top_k));
  section.paragraphs.push_back(verdict_text(pairs, top_k));
  if (!skipped.empty()) {
    section.paragraphs.push_back(fmt::format("Not analysed: {}.", fmt::join(skipped, "; ")));
  }
  return section;
}

}  // namespace

std::vector<ReportSection> coherence_sections(Store& store, const std::string& db_path, const std::string& grid,
                                              int64_t top_k) {
  std::vector<std::string> grids;
  if (!grid.empty()) {
    grids.push_back(grid);
  } else {
    for (const auto& run : store.runs()) {
      if (std::find(grids.begin(), grids.end(), run.grid) == grids.end()) grids.push_back(run.grid);
    }
  }
  std::vector<ReportSection> sections;
  for (const auto& name : grids) {
    bool has_sem = false;
    for (const auto& run : store.runs(name)) {
      has_sem |= run.status == text(RunStatus::Finished) && stored_sem_mode(run) == EmbedderMode::Softmax;
    }
    if (has_sem) sections.push_back(grid_section(store, db_path, name, top_k));
  }
  return sections;
}

}  // namespace semharness
