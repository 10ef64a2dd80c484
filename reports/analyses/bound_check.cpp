#include "reports/analyses/bound_check.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <tuple>

#include <boost/math/distributions/students_t.hpp>
#include <fmt/format.h>

#include "harness/config/run_config.h"
#include "harness/results/probe_protocols.h"
#include "harness/results/vocabulary.h"
#include "harness/store/artifact_paths.h"
#include "harness/store/npy.h"
#include "harness/probe/lbfgs_probe.h"
#include "harness/probe/linear_probe.h"
#include "reports/analyses/analysis_probe.h"
#include "reports/run_labels.h"
#include "reports/statistics.h"
#include "sem/simplex_stats.h"
#include "sem/simplicial_embedding.h"

namespace semharness {

namespace {

void check_blocks(const at::Tensor& x, int64_t L, int64_t V, const char* what) {
  if (L > 0 && x.size(1) != L * V) {
    throw std::invalid_argument(fmt::format("{}: {} columns are not L*V = {}*{}", what, x.size(1), L, V));
  }
}

}  // namespace

RademacherEstimate rademacher_complexity_for_signs(const at::Tensor& x, const at::Tensor& sigma, int64_t L, int64_t V) {
  torch::NoGradGuard no_grad;
  check_blocks(x, L, V, "rademacher_complexity");
  if (sigma.dim() != 2 || sigma.size(0) != x.size(0)) {
    throw std::invalid_argument("rademacher_complexity: sigma must be [n, M] with n the rows of x");
  }
  const auto xd = x.to(torch::kDouble);
  const double n = static_cast<double>(x.size(0));
  const auto projection = xd.t().mm(sigma.to(xd.device(), torch::kDouble));  // [D, M]: X^T sigma per draw
  RademacherEstimate estimate;
  estimate.l2 = projection.norm(2, {0}).mean().item<double>() / n;
  estimate.linf = projection.abs().amax({0}).mean().item<double>() / n;
  if (L > 0) {
    // Row v*L + l of X^T sigma is vertex v of simplex l: [V, L, M], norm over the vertices.
    const auto per_block = projection.view({V, L, -1}).norm(2, {0});  // [L, M]
    estimate.group_l21 = per_block.amax({0}).mean().item<double>() / n;
  }
  return estimate;
}

RademacherEstimate rademacher_complexity(const at::Tensor& x, int64_t L, int64_t V, int64_t draws, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto sigma = torch::randint(0, 2, {x.size(0), draws}, generator, torch::kDouble) * 2 - 1;
  return rademacher_complexity_for_signs(x, sigma, L, V);
}

WeightNorms weight_norms(const at::Tensor& weight, int64_t L, int64_t V) {
  torch::NoGradGuard no_grad;
  check_blocks(weight, L, V, "weight_norms");
  const auto w = weight.to(torch::kCPU, torch::kDouble);
  WeightNorms norms;
  norms.l2 = w.norm().item<double>();
  norms.l1 = w.abs().sum().item<double>();
  if (L > 0) {
    const auto group = w.view({w.size(0), V, L}).pow(2).sum({0, 1}).sqrt();  // [L]
    norms.group_l21 = group.sum().item<double>();
    const double largest = group.max().item<double>();
    norms.group_sparsity = largest > 0 ? (group < 0.01 * largest).to(torch::kDouble).mean().item<double>() : 1.0;
  }
  return norms;
}

std::vector<double> block_entropy_histogram(const at::Tensor& y, int64_t L, int64_t V, int64_t bins) {
  torch::NoGradGuard no_grad;
  if (bins < 1) throw std::invalid_argument("block_entropy_histogram: bins must be >= 1");
  check_blocks(y, L, V, "block_entropy_histogram");
  const auto entropy = block_entropy(y.to(torch::kCPU, torch::kDouble).contiguous(), L, V).reshape({-1});
  const double top = std::log(static_cast<double>(V));
  std::vector<double> histogram(static_cast<size_t>(bins), 0.0);
  const auto values = entropy.accessor<double, 1>();
  for (int64_t i = 0; i < values.size(0); ++i) {
    int64_t bin = top > 0 ? static_cast<int64_t>(std::floor(values[i] / top * static_cast<double>(bins))) : 0;
    histogram[static_cast<size_t>(std::clamp<int64_t>(bin, 0, bins - 1))] += 1;
  }
  for (double& count : histogram) count /= static_cast<double>(std::max<int64_t>(1, values.size(0)));
  return histogram;
}

namespace {

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start;
    while (end + 1 < order.size() && values[order[end + 1]] == values[order[start]]) ++end;
    const double rank = (static_cast<double>(start) + static_cast<double>(end)) / 2.0 + 1.0;
    for (size_t k = start; k <= end; ++k) ranks[order[k]] = rank;
    start = end + 1;
  }
  return ranks;
}

}  // namespace

std::optional<RankCorrelation> spearman(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("spearman: the two sides differ in length");
  const size_t n = a.size();
  if (n < 3) return std::nullopt;
  const auto ra = average_ranks(a), rb = average_ranks(b);
  const double mean = (static_cast<double>(n) + 1.0) / 2.0;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  if (saa == 0 || sbb == 0) return std::nullopt;
  RankCorrelation result;
  result.n = static_cast<int64_t>(n);
  result.rho = std::clamp(sab / std::sqrt(saa * sbb), -1.0, 1.0);
  const double df = static_cast<double>(n) - 2.0;
  if (result.rho >= 1.0) {
    result.p_positive = 0.0;
  } else if (result.rho <= -1.0) {
    result.p_positive = 1.0;
  } else {
    const double t = result.rho * std::sqrt(df / (1.0 - result.rho * result.rho));
    result.p_positive = boost::math::cdf(boost::math::complement(boost::math::students_t(df), t));
  }
  return result;
}

namespace {

torch::Tensor load_tensor(const std::filesystem::path& path) {
  auto array = read_npy(path.string());
  if (array.dtype == "<f4") {
    return torch::from_blob(array.f32.data(), array.shape, torch::kFloat).clone();
  }
  return torch::from_blob(array.i64.data(), array.shape, torch::kLong).clone();
}

// At most max_rows of x's rows, evenly spaced (the stored rows are in dataset order: the first max_rows would
// be one end of it); all of them when max_rows is 0 or not fewer.
torch::Tensor at_most_rows(const torch::Tensor& x, int64_t max_rows) {
  const int64_t n = x.size(0);
  if (max_rows <= 0 || n <= max_rows) return x;
  return x.index_select(
      0, torch::linspace(0, static_cast<double>(n - 1), max_rows, torch::kDouble).floor().to(torch::kLong));
}

// One feature of a run's stored sample.
struct FeatureSample {
  Feature kind;
  std::optional<double> tau_d;
  std::string tau_text;
  torch::Tensor train, test;  // [n, D] float
  int64_t L = 0, V = 0;       // blocks (0: none)
};

bool same_tau(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)); }

std::string feature_name(Feature kind, const std::string& tau_text) {
  switch (kind) {
    case Feature::Backbone: return "h";
    case Feature::Embedding: return "e";
    case Feature::Sem: break;
  }
  return "SEM tau_d=" + tau_text;
}

struct Measurement {
  std::string run_id, label, tau_text;
  Feature kind = Feature::Backbone;
  std::string probe;                            // protocol and hyper-parameters of the retrained probe
  std::optional<ProbeConvergence> convergence;  // L-BFGS
  std::optional<double> tau_d;
  double fraction = 1;
  int64_t n = 0;
  SplitScore train, test;
  double gap_top1 = 0, gap_loss = 0;  // train - test top-1 (points); test - train loss
  WeightNorms norms;
  RademacherEstimate unit;
  double proxy_l2 = 0, proxy_l1 = 0;
  std::optional<double> proxy_group;
};

struct SimplexRow {
  std::string label, tau_text;
  double tau_d = 0;
  int64_t L = 0, V = 0;
  double mean_squared_norm = 0, mean_entropy = 0;
  std::vector<double> histogram;
};

std::string percent(double fraction) {
  const double value = fraction * 100.0;
  return value == std::floor(value) ? fmt::format("{:.0f}%", value) : fmt::format("{:g}%", value);
}

ReportCell number(double value, const char* format = "{:.2f}") {
  return {fmt::format(fmt::runtime(format), value), value, false};
}
ReportCell optional_number(const std::optional<double>& value, const char* format = "{:.2f}") {
  return value ? number(*value, format) : ReportCell{"-", std::nullopt, false};
}
ReportCell text(const std::string& value) { return {value, std::nullopt, false}; }

class GridBoundCheck {
 public:
  GridBoundCheck(const std::vector<ResultRow>& results, const BoundCheckOptions& options, torch::Device device)
      : results_(results), options_(options), device_(device) {}

  // Adds nothing when it throws (the run stored no linear probe, lacks the hyper-parameters of a selected
  // probe, or a file is unreadable); the caller names the run.
  void add_run(const RunRecord& run, const std::string& label, const std::filesystem::path& dir) {
    const auto protocol = analysis_probe_protocol(results_, run.run_id);
    if (!protocol) throw std::runtime_error("no linear-probe results");
    const auto load = [&](const char* name) { return at_most_rows(load_tensor(dir / name), options_.max_rows); };
    const auto train_labels = load("train_labels.npy");
    const auto test_labels = load("test_labels.npy").to(device_);
    const int64_t classes = stored_probe_classes(dir, *protocol);
    std::vector<FeatureSample> features;
    features.push_back({Feature::Backbone, std::nullopt, "", load("train_h.npy"), load("test_h.npy")});
    std::vector<SimplexRow> simplex_rows;
    const RunSpec spec = stored_run_spec(run);
    const int64_t L = spec.embedder.L, V = spec.embedder.V;
    if (spec.embedder.present() && std::filesystem::exists(dir / "train_e.npy")) {
      FeatureSample e{Feature::Embedding, std::nullopt, "", load("train_e.npy"), load("test_e.npy"), L, V};
      if (spec.embedder.has_simplices()) {
        for (size_t t = 0; t < spec.probe.tau_d.size(); ++t) {
          const double tau_d = spec.probe.tau_d[t];
          const std::string& tau_text = spec.probe.tau_d_texts[t];
          FeatureSample y{Feature::Sem,
                          tau_d,
                          tau_text,
                          downstream_feature(e.train, L, V, tau_d),
                          downstream_feature(e.test, L, V, tau_d),
                          L,
                          V};
          SimplexRow row;
          row.label = label;
          row.tau_text = tau_text;
          row.tau_d = tau_d;
          row.L = L;
          row.V = V;
          row.mean_squared_norm = squared_norm(y.train).mean().item<double>();
          row.mean_entropy = block_entropy(y.train, L, V).mean().item<double>();
          row.histogram = block_entropy_histogram(y.train, L, V, options_.entropy_bins);
          simplex_rows.push_back(std::move(row));
          features.push_back(std::move(y));
        }
      }
      features.insert(features.begin() + 1, std::move(e));
    }
    std::vector<SelectedProbe> selected;
    for (const auto& feature : features) {
      selected.push_back(selected_probe(run, results_, *protocol, text(feature.kind), feature.tau_d));
    }

    // Nested label subsets of the stored training sample: the first k of one fixed permutation.
    std::vector<Measurement> measured;
    const int64_t n = train_labels.size(0);
    auto generator = at::make_generator<at::CPUGeneratorImpl>(options_.seed);
    const auto permutation = torch::randperm(n, generator, torch::TensorOptions().dtype(torch::kLong));
    const int64_t full_epochs = std::min<int64_t>(options_.max_probe_epochs, spec.probe.sgd.epochs);
    for (size_t f = 0; f < features.size(); ++f) {
      const FeatureSample& feature = features[f];
      SelectedProbe probe = selected[f];
      // SGD steps per epoch on k labels, as train_linear_probes takes them.
      const auto steps_per_epoch = [&](int64_t k) {
        return std::max<int64_t>(1, k / std::min(probe.sgd.batch_size, k));
      };
      const auto test_x = feature.test.to(device_);
      // A standardising probe takes its statistics from every stored training image, as the run's probe did
      // from its whole split: a label fraction has fewer labels, not fewer images. Fitted on a few labelled
      // rows, a nearly constant column (a saturated SEM vertex) would get a tiny std and a huge raw weight.
      std::optional<FeatureStandardizer> statistics;
      if (probe.is_lbfgs() && probe.lbfgs.standardize) {
        statistics = FeatureStandardizer::fit(feature.train.to(device_));
      }
      for (double fraction : options_.label_fractions) {
        const int64_t k =
            std::clamp<int64_t>(std::llround(fraction * static_cast<double>(n)), std::min<int64_t>(2, n), n);
        const auto index = permutation.slice(0, 0, k);
        // A smaller label set trains for as many SGD steps as the full one (more epochs), so that the probes
        // differ in their data, not in how far they were optimised. The L-BFGS probe runs to convergence.
        if (!probe.is_lbfgs()) {
          probe.sgd.epochs = (full_epochs * steps_per_epoch(n) + steps_per_epoch(k) - 1) / steps_per_epoch(k);
        }
        const auto x = feature.train.index_select(0, index).to(device_);
        const auto y = train_labels.index_select(0, index).to(device_);
        torch::manual_seed(options_.seed);
        const ProbeResult result = retrain_probe(probe, {x, y}, {test_x, test_labels}, classes, statistics);
        Measurement m;
        m.run_id = run.run_id;
        m.label = label;
        m.kind = feature.kind;
        m.tau_d = feature.tau_d;
        m.tau_text = feature.tau_text;
        m.fraction = fraction;
        m.n = k;
        m.probe = fmt::format("{} {}", probe.protocol, probe.hyper_parameters());
        m.convergence = result.convergence;
        m.train = result.train;
        m.test = result.test;
        m.gap_top1 = result.train.top1 - result.test.top1;
        m.gap_loss = result.test.loss - result.train.loss;
        m.norms = weight_norms(result.weight, feature.L, feature.V);
        m.unit = rademacher_complexity(x, feature.L, feature.V, options_.rademacher_draws, options_.seed + 1);
        m.proxy_l2 = m.norms.l2 * m.unit.l2;
        m.proxy_l1 = m.norms.l1 * m.unit.linf;
        if (m.norms.group_l21 && m.unit.group_l21) m.proxy_group = *m.norms.group_l21 * *m.unit.group_l21;
        measured.push_back(std::move(m));
      }
    }
    measurements_.insert(measurements_.end(), measured.begin(), measured.end());
    simplex_rows_.insert(simplex_rows_.end(), simplex_rows.begin(), simplex_rows.end());
    if (const auto tau_d = selected_sem_tau_d(results_, run.run_id, *protocol)) best_tau_[run.run_id] = *tau_d;
    ++runs_per_protocol_[*protocol];
    ++runs_;
  }

  void skip_run(const std::string& run_id, const std::string& why) {
    not_measured_.push_back(fmt::format("{} ({})", run_id, why));
  }

  ReportSection section(const std::string& grid, int64_t finished, int64_t without_features) const {
    ReportSection section;
    section.id = "bound_check_" + grid;
    section.title = fmt::format("Generalization-bound check (SPEC §4.2): grid '{}'", grid);
    const std::string not_measured = fmt::format("Not measured: {}.", join(not_measured_, "; "));
    if (runs_ == 0) {
      section.paragraphs.push_back(
          fmt::format("None of the {} finished runs with stored features could be measured. {}",
                      finished - without_features, not_measured));
      return section;
    }
    section.paragraphs.push_back(fmt::format(
        "{} finished runs with stored features{}. Probe protocol (per run the first it stored of {}): {}. Per run, "
        "feature and label fraction ({} of the stored training sample, one fixed-seed permutation, nested), a "
        "linear probe of the run's protocol is retrained at the hyper-parameters the run selected on validation "
        "for that feature ({}) and evaluated on the stored test sample; the empirical Rademacher complexity of "
        "each norm ball is estimated with {} sign vectors on the same training matrix, its radius B the trained "
        "probe's norm (bias excluded).",
        runs_,
        without_features > 0 ? fmt::format(" ({} of {} finished runs stored none)", without_features, finished) : "",
        join(analysis_probe_protocols(), ", "), protocols_used_text(runs_per_protocol_), fraction_list(),
        retraining_text(), options_.rademacher_draws));
    rank_verdicts(section);
    sem_versus_unnormalized(section);
    temperature_verdict(section);
    section.tables.push_back(measurement_table(grid));
    if (!simplex_rows_.empty()) {
      section.tables.push_back(simplex_table(grid));
      section.plots.push_back(entropy_plot(grid));
    }
    if (!not_measured_.empty()) section.paragraphs.push_back(not_measured);
    return section;
  }

 private:
  // How the retrained probes were trained, per protocol used.
  std::string retraining_text() const {
    std::vector<std::string> parts;
    if (runs_per_protocol_.count(std::string(kSgdProbe))) {
      parts.push_back(
          fmt::format("linear_probe: SGD at the selected lr and wd1, probe.epochs (at most {}) on all "
                      "stored labels and as many SGD steps on fewer",
                      options_.max_probe_epochs));
    }
    int64_t lbfgs = 0, converged = 0;
    for (const auto& m : measurements_) {
      if (!m.convergence) continue;
      ++lbfgs;
      converged += m.convergence->converged;
    }
    if (lbfgs > 0) {
      parts.push_back(
          fmt::format("L-BFGS: full-batch at the selected l2, standardised as the run's probe was "
                      "(lbfgs_probe: with the statistics of the whole stored training sample at every "
                      "label fraction), to convergence (probe.tolerance, at most probe.max_iter "
                      "iterations): {} of {} retrained probes converged, so their gaps and norms are "
                      "those of the optimum; the norms are of the weights on raw features",
                      converged, lbfgs));
    }
    return join(parts, "; ");
  }

  std::string fraction_list() const {
    std::string list;
    for (double f : options_.label_fractions) list += (list.empty() ? "" : ", ") + percent(f);
    return list;
  }

  void rank_verdicts(ReportSection& section) const {
    struct Proxy {
      const char* name;
      std::function<std::optional<double>(const Measurement&)> value;
    };
    const std::vector<Proxy> proxies = {
        {"L2 ball", [](const Measurement& m) { return std::optional<double>(m.proxy_l2); }},
        {"L1 ball", [](const Measurement& m) { return std::optional<double>(m.proxy_l1); }},
        {"group L(2,1) ball (e and SEM only)", [](const Measurement& m) { return m.proxy_group; }},
    };
    ReportTable table;
    table.id = "bound_rank_" + section.id.substr(std::string("bound_check_").size());
    table.title = "Spearman rank correlation of the bound proxy B * R_hat with the measured gap, across configurations";
    table.header = {"proxy", "labels", "gap", "configurations", "rho", "one-sided p (rho > 0)"};
    table.label_columns = 3;
    for (const auto& proxy : proxies) {
      std::vector<std::optional<double>> scopes = {std::nullopt};
      for (double f : options_.label_fractions) scopes.push_back(f);
      for (const auto& scope : scopes) {
        for (const bool loss : {false, true}) {
          std::vector<double> bound, gap;
          for (const auto& m : measurements_) {
            if (scope && m.fraction != *scope) continue;
            const auto value = proxy.value(m);
            if (!value) continue;
            bound.push_back(*value);
            gap.push_back(loss ? m.gap_loss : m.gap_top1);
          }
          const auto r = spearman(bound, gap);
          table.rows.push_back({text(proxy.name), text(scope ? percent(*scope) : "all"),
                                text(loss ? "loss (test - train)" : "top-1 (train - test)"),
                                number(static_cast<double>(bound.size()), "{:.0f}"),
                                r ? number(r->rho, "{:+.2f}") : text("-"),
                                r ? number(*r->p_positive, "{:.3g}") : text("-")});
        }
      }
    }
    table.notes.push_back(
        "R_hat: Monte-Carlo empirical Rademacher complexity (1/n) E ||X^T sigma||_* of the unit ball; B: "
        "the retrained probe's norm (Frobenius, sum |W|, sum over simplices of the block's Frobenius norm).");
    table.notes.push_back(
        "A configuration is one run x feature (h, e, SEM at each tau_d) x label fraction. Descriptive: the "
        "configurations of one run share its checkpoint and are not independent samples; the verdict below "
        "tests at the level of runs.");
    section.tables.push_back(std::move(table));
    section.tables.push_back(run_level_table(proxies, section));
  }

  // The verdict, with runs as the independent units: Spearman's rho between proxy and top-1 gap within each run
  // (over its features, temperatures and label fractions), the mean over runs tested by sign flips, Holm-adjusted
  // over the three proxies, with the mean's 95% interval beside the verdict.
  template <typename Proxies>
  ReportTable run_level_table(const Proxies& proxies, ReportSection& section) const {
    std::vector<std::optional<SignFlipTest>> tests;
    for (const auto& proxy : proxies) {
      std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_run;  // run -> (proxy, gap)
      for (const auto& m : measurements_) {
        const auto value = proxy.value(m);
        if (!value) continue;
        by_run[m.run_id].first.push_back(*value);
        by_run[m.run_id].second.push_back(m.gap_top1);
      }
      std::vector<double> rhos;
      for (const auto& [run_id, values] : by_run) {
        if (const auto r = spearman(values.first, values.second)) rhos.push_back(r->rho);
      }
      tests.push_back(sign_flip_test(rhos));
    }
    std::vector<double> p;
    for (const auto& test : tests) {
      if (test) p.push_back(test->p_positive);
    }
    const std::vector<double> adjusted = holm_adjusted(p);
    ReportTable table;
    table.id = "bound_runs_" + section.id.substr(std::string("bound_check_").size());
    table.title = "Within-run Spearman rho of the bound proxy with the top-1 gap, tested across runs";
    table.header = {"proxy", "runs", "mean rho", "95% CI", "sign-flip p (rho > 0)", "Holm-adjusted p", "verdict"};
    std::vector<std::string> verdicts;
    size_t next = 0;
    for (size_t k = 0; k < proxies.size(); ++k) {
      const auto& test = tests[k];
      if (!test) {
        table.rows.push_back(
            {text(proxies[k].name), text("-"), text("-"), text("-"), text("-"), text("-"), text("not tested")});
        verdicts.push_back(fmt::format("{}: not tested (fewer than 2 runs with a within-run rho)", proxies[k].name));
        continue;
      }
      const double holm = adjusted[next++];
      const bool passes = test->mean > 0 && holm < 0.05;
      const char* verdict = passes ? "passes" : "does not pass";
      table.rows.push_back({text(proxies[k].name), number(static_cast<double>(test->n), "{:.0f}"),
                            number(test->mean, "{:+.2f}"),
                            text(fmt::format("[{:+.2f}, {:+.2f}]", test->low, test->high)),
                            number(test->p_positive, "{:.3g}"), number(holm, "{:.3g}"), text(verdict)});
      verdicts.push_back(
          fmt::format("{}: mean within-run rho {:+.2f} [{:+.2f}, {:+.2f}] over {} runs, sign-flip p = "
                      "{:.3g}, Holm-adjusted {:.3g}: {}",
                      proxies[k].name, test->mean, test->low, test->high, test->n, test->p_positive, holm, verdict));
    }
    table.notes.push_back(
        "Each run's rho is over its own configurations; the runs are the independent units. Sign-flip p: the share "
        "of the 2^runs patterns of negated run rhos (20,000 drawn beyond 16 runs) whose mean is at least the "
        "observed one. Holm: adjusted over the proxies tested, so that the chance of any proxy passing by chance "
        "stays at or below 0.05; with n runs the smallest possible p is 2^-n, so passing after Holm over three "
        "proxies takes at least 6 runs. 95% CI: a t-interval of the mean over runs.");
    section.paragraphs.push_back(
        "Verdict, does the bound proxy order configurations as the measured gaps do (passes: the mean within-run "
        "rho is above 0 with Holm-adjusted sign-flip p < 0.05, runs as the units)? " +
        join(verdicts, "; ") + ".");
    return table;
  }

  static std::string join(const std::vector<std::string>& items, const std::string& separator) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
  }

  const Measurement* find(const std::string& run_id, Feature kind, std::optional<double> tau_d, double fraction) const {
    for (const auto& m : measurements_) {
      if (m.run_id == run_id && m.kind == kind && m.fraction == fraction && !m.tau_d && !tau_d) return &m;
    }
    return nullptr;
  }

  void sem_versus_unnormalized(ReportSection& section) const {
    int64_t pairs = 0, below_e = 0, below_h = 0, loss_below_e = 0, loss_below_h = 0;
    double sum_sem = 0, sum_e = 0, sum_h = 0;
    for (const auto& m : measurements_) {
      if (m.kind != Feature::Sem) continue;
      // The tau_d the run's own probe selected on validation (ties: the smallest); the first one otherwise.
      const auto best = best_tau_.find(m.run_id);
      const Measurement* first_sem = nullptr;
      for (const auto& other : measurements_) {
        if (other.run_id == m.run_id && other.kind == Feature::Sem && other.fraction == m.fraction) {
          first_sem = &other;
          break;
        }
      }
      const bool selected = best != best_tau_.end() ? (m.tau_d && same_tau(*m.tau_d, best->second)) : (&m == first_sem);
      if (!selected) continue;
      const Measurement* e = find(m.run_id, Feature::Embedding, std::nullopt, m.fraction);
      const Measurement* h = find(m.run_id, Feature::Backbone, std::nullopt, m.fraction);
      if (!e || !h) continue;
      ++pairs;
      below_e += m.gap_top1 < e->gap_top1;
      below_h += m.gap_top1 < h->gap_top1;
      loss_below_e += m.gap_loss < e->gap_loss;
      loss_below_h += m.gap_loss < h->gap_loss;
      sum_sem += m.gap_top1;
      sum_e += e->gap_top1;
      sum_h += h->gap_top1;
    }
    if (pairs == 0) {
      section.paragraphs.push_back(
          "Verdict, is the SEM gap smaller than the unnormalized ones: no sem=on runs with "
          "stored features, nothing to compare.");
      return;
    }
    const double p = static_cast<double>(pairs);
    const bool holds = 2 * below_e > pairs && 2 * below_h > pairs;
    section.paragraphs.push_back(fmt::format(
        "Verdict, is the SEM gap smaller than the unnormalized ones (SEM at the tau_d selected on validation, "
        "per run and label fraction)? The top-1 gap of SEM is smaller than that of e in {} of {} cases and than "
        "that of h in {} of {}; the loss gap in {} and {} of {}. Mean top-1 gap: SEM {:.2f}, e {:.2f}, h {:.2f} "
        "points. {}",
        below_e, pairs, below_h, pairs, loss_below_e, loss_below_h, pairs, sum_sem / p, sum_e / p, sum_h / p,
        holds ? "The claim holds here (a majority of cases against both)." : "The claim does not hold here."));
  }

  void temperature_verdict(ReportSection& section) const {
    int64_t cases = 0, smaller_gap = 0, higher_loss = 0;
    std::set<std::pair<std::string, double>> seen;
    for (const auto& m : measurements_) {
      if (m.kind != Feature::Sem || !seen.insert({m.run_id, m.fraction}).second) continue;
      const Measurement *lowest = nullptr, *highest = nullptr;
      for (const auto& other : measurements_) {
        if (other.run_id != m.run_id || other.kind != Feature::Sem || other.fraction != m.fraction) continue;
        if (!lowest || *other.tau_d < *lowest->tau_d) lowest = &other;
        if (!highest || *other.tau_d > *highest->tau_d) highest = &other;
      }
      if (lowest == highest) continue;
      ++cases;
      smaller_gap += lowest->gap_top1 < highest->gap_top1;
      higher_loss += lowest->train.loss > highest->train.loss;
    }
    if (cases == 0) {
      section.paragraphs.push_back(
          "Verdict, does a lower tau_d shrink the gap: needs sem=on runs with at least two "
          "tau_d values; none here.");
      return;
    }
    section.paragraphs.push_back(fmt::format(
        "Verdict, does a lower tau_d shrink the gap (lowest against highest tau_d of each run and label fraction)? "
        "The top-1 gap is smaller at the lowest tau_d in {} of {} cases, and the training loss higher in {} of {}. "
        "{}",
        smaller_gap, cases, higher_loss, cases,
        2 * smaller_gap > cases ? "The claim holds here (a majority of cases)." : "The claim does not hold here."));
  }

  static std::string probe_text(const Measurement& m) {
    if (!m.convergence) return m.probe;
    return fmt::format("{}, {} it., {}", m.probe, m.convergence->iterations,
                       m.convergence->converged ? "converged" : "not converged");
  }

  ReportTable measurement_table(const std::string& grid) const {
    ReportTable table;
    table.id = "bound_gaps_" + grid;
    table.title = "Measured gaps and bound proxies per configuration";
    table.header = {"run",       "feature",    "labels",    "n",        "train top-1",    "test top-1",
                    "gap top-1", "train loss", "test loss", "gap loss", "B L2",           "B*R L2",
                    "B L1",      "B*R L1",     "B L21",     "B*R L21",  "group sparsity", "probe"};
    table.label_columns = 3;
    for (const auto& m : measurements_) {
      table.rows.push_back({text(m.label), text(feature_name(m.kind, m.tau_text)), text(percent(m.fraction)),
                            number(static_cast<double>(m.n), "{:.0f}"), number(m.train.top1), number(m.test.top1),
                            number(m.gap_top1), number(m.train.loss, "{:.4f}"), number(m.test.loss, "{:.4f}"),
                            number(m.gap_loss, "{:.4f}"), number(m.norms.l2, "{:.3g}"), number(m.proxy_l2, "{:.3g}"),
                            number(m.norms.l1, "{:.3g}"), number(m.proxy_l1, "{:.3g}"),
                            optional_number(m.norms.group_l21, "{:.3g}"), optional_number(m.proxy_group, "{:.3g}"),
                            optional_number(m.norms.group_sparsity, "{:.3f}"), text(probe_text(m))});
    }
    table.notes.push_back(fmt::format(
        "Top-1 in %, on the stored samples (not the full test set; at most {} evenly spaced rows of each split); "
        "gap top-1 = train - test, gap loss = test - train cross-entropy. B*R: the radius times the unit-ball "
        "Rademacher estimate.",
        options_.max_rows));
    table.notes.push_back(
        "group sparsity: fraction of simplices whose probe weight group norm is below 1% of the "
        "largest. h has no blocks, so no group norm.");
    table.notes.push_back(
        "probe: the retrained probe's protocol and hyper-parameters; L-BFGS: its iterations and "
        "whether it converged.");
    return table;
  }

  ReportTable simplex_table(const std::string& grid) const {
    ReportTable table;
    table.id = "bound_simplex_" + grid;
    table.title = "Simplex statistics of the SEM feature on the stored training sample";
    table.header = {"run", "tau_d", "mean ||y||_2^2", "L/V .. L", "mean block entropy", "ln V"};
    const int64_t bins = options_.entropy_bins;
    for (int64_t b = 0; b < bins; ++b) {
      table.header.push_back(fmt::format("H in [{:.2f},{:.2f}){}", static_cast<double>(b) / bins,
                                         static_cast<double>(b + 1) / bins, b + 1 == bins ? "]" : ""));
    }
    table.label_columns = 2;
    for (const auto& row : simplex_rows_) {
      std::vector<ReportCell> cells = {text(row.label),
                                       text(row.tau_text),
                                       number(row.mean_squared_norm, "{:.3f}"),
                                       text(fmt::format("{:g} .. {}", static_cast<double>(row.L) / row.V, row.L)),
                                       number(row.mean_entropy, "{:.3f}"),
                                       number(std::log(static_cast<double>(row.V)), "{:.3f}")};
      for (double fraction : row.histogram) cells.push_back(number(100.0 * fraction, "{:.1f}"));
      table.rows.push_back(std::move(cells));
    }
    table.notes.push_back(
        "Histogram columns: % of the sample's simplices whose entropy H / ln V lies in the bin "
        "(the paper's Fig. 2b: at tau_d 0.01 and 0.1 many simplices sit at ln 2, two vertices near 0.5).");
    return table;
  }

  LinePlot entropy_plot(const std::string& grid) const {
    LinePlot plot;
    plot.id = "bound_entropy_" + grid;
    plot.title = "Block entropy of the SEM feature (fraction of simplices per bin)";
    plot.x_label = "entropy / ln V (bin centre)";
    plot.y_label = "fraction of simplices";
    for (const auto& row : simplex_rows_) {
      PlotSeries series;
      series.label = row.label + " tau_d=" + row.tau_text;
      const auto bins = static_cast<double>(row.histogram.size());
      for (size_t b = 0; b < row.histogram.size(); ++b) {
        series.points.emplace_back((static_cast<double>(b) + 0.5) / bins, row.histogram[b]);
      }
      plot.series.push_back(std::move(series));
    }
    return plot;
  }

  const std::vector<ResultRow>& results_;
  BoundCheckOptions options_;
  torch::Device device_;
  std::map<std::string, double> best_tau_;  // run -> the SEM tau_d its probe selected on validation
  std::map<std::string, int64_t> runs_per_protocol_;
  std::vector<std::string> not_measured_;
  std::vector<Measurement> measurements_;
  std::vector<SimplexRow> simplex_rows_;
  int64_t runs_ = 0;
};

}  // namespace

std::vector<ReportSection> bound_check_sections(Store& store, const std::string& db_path, const std::string& grid,
                                                const BoundCheckOptions& options) {
  const auto runs = store.runs(grid);
  const auto labels = run_labels(runs);
  const auto results = store.results();
  const torch::Device device = torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  std::vector<std::string> grids;
  for (const auto& run : runs) {
    if (std::find(grids.begin(), grids.end(), run.grid) == grids.end()) grids.push_back(run.grid);
  }
  std::vector<ReportSection> sections;
  for (const auto& name : grids) {
    GridBoundCheck check(results, options, device);
    int64_t finished = 0, without = 0;
    for (const auto& run : runs) {
      if (run.grid != name || run.status != text(RunStatus::Finished)) continue;
      ++finished;
      const auto dir = stored_artifacts(db_path, run.run_id);
      if (!dir) {
        ++without;
        continue;
      }
      try {
        check.add_run(run, labels.at(run.run_id), *dir);
      } catch (const std::exception& error) {
        check.skip_run(run.run_id, error.what());
      }
    }
    if (finished == 0) continue;
    if (finished == without) {
      ReportSection section;
      section.id = "bound_check_" + name;
      section.title = fmt::format("Generalization-bound check (SPEC §4.2): grid '{}'", name);
      section.paragraphs.push_back(fmt::format(
          "None of the {} finished runs stored features (analysis.samples = 0, or the runs were stored before "
          "features were saved): nothing to check. Re-run with analysis.samples > 0 into a new database.",
          finished));
      sections.push_back(std::move(section));
      continue;
    }
    sections.push_back(check.section(name, finished, without));
  }
  return sections;
}

}  // namespace semharness
