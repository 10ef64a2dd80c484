#include "reports/analyses/analysis_probe.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "harness/results/probe_protocols.h"
#include "harness/results/vocabulary.h"
#include "harness/store/artifact_paths.h"
#include "harness/store/npy.h"
#include "reports/comparison_table.h"
#include "reports/run_labels.h"

namespace semharness {

namespace {

bool same_tau_d(std::optional<double> a, std::optional<double> b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::abs(*a - *b) <= 1e-9 * std::max(std::abs(*a), std::abs(*b));
}

std::optional<double> stored_metric(const std::vector<ResultRow>& results, const std::string& run_id,
                                    const std::string& protocol, std::string_view feature, std::optional<double> tau_d,
                                    std::string_view metric) {
  for (const auto& r : results) {
    if (r.run_id == run_id && r.protocol == protocol && r.feature == feature && r.split == text(Split::Train) &&
        r.metric == metric && same_tau_d(r.tau_d, tau_d)) {
      return r.value;
    }
  }
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& analysis_probe_protocols() {
  static const std::vector<std::string> protocols = [] {
    std::vector<std::string> fixed;
    for (const auto& protocol : linear_probe_protocols()) {
      if (protocol != kSgdAugmentedProbe) fixed.push_back(protocol);
    }
    return fixed;
  }();
  return protocols;
}

std::optional<std::string> analysis_probe_protocol(const std::vector<ResultRow>& results, const std::string& run_id) {
  const auto& protocols = analysis_probe_protocols();
  size_t first = protocols.size();
  for (const auto& r : results) {
    if (r.run_id != run_id) continue;
    const auto it = std::find(protocols.begin(), protocols.end(), r.protocol);
    first = std::min(first, static_cast<size_t>(it - protocols.begin()));
  }
  if (first == protocols.size()) return std::nullopt;
  return protocols[first];
}

bool protocol_standardizes(const std::string& protocol) { return protocol == kLbfgsProbe; }

std::optional<double> selected_sem_tau_d(const std::vector<ResultRow>& results, const std::string& run_id,
                                         const std::string& protocol) {
  const auto best = best_sem_tau_d(results, protocol);
  const auto it = best.find(run_id);
  if (it == best.end()) return std::nullopt;
  return it->second;
}

bool SelectedProbe::is_lbfgs() const { return is_lbfgs_protocol(protocol); }

std::string SelectedProbe::hyper_parameters() const {
  if (is_lbfgs()) return fmt::format("l2 {:g}", lbfgs.l2s.at(0));
  return fmt::format("lr {:g}, wd1 {:g}", sgd.lrs.at(0), sgd.wd1s.at(0));
}

SelectedProbe selected_probe(const RunRecord& run, const std::vector<ResultRow>& results, const std::string& protocol,
                             std::string_view feature, std::optional<double> tau_d) {
  const auto metric = [&](std::string_view name) -> double {
    const auto value = stored_metric(results, run.run_id, protocol, feature, tau_d, name);
    if (!value) {
      throw std::runtime_error(fmt::format("run {}: no stored {} of the {} probe on {}{}", run.run_id, name, protocol,
                                           feature, tau_d ? fmt::format(" at tau_d {:g}", *tau_d) : ""));
    }
    return *value;
  };
  SelectedProbe probe;
  probe.protocol = protocol;
  if (!is_lbfgs_protocol(protocol) && protocol != kSgdProbe) {
    throw std::invalid_argument(fmt::format("selected_probe: '{}' is not a linear-probe protocol", protocol));
  }
  // The run's settings of both probes; the grid the run selected from narrowed to what it selected.
  const ProbeSuiteSpec stored = stored_run_spec(run).probe;
  probe.sgd = stored.sgd;
  probe.lbfgs = stored.lbfgs;
  if (is_lbfgs_protocol(protocol)) {
    probe.lbfgs.l2s = {metric(kProbeL2Metric)};
    // The stored protocol records probe.standardize (stored_probe_protocol): lbfgs_probe_raw is the "off".
    probe.lbfgs.standardize = protocol_standardizes(protocol);
  } else {
    probe.sgd.lrs = {metric(kProbeLrMetric)};
    probe.sgd.wd1s = {metric(kProbeWd1Metric)};
  }
  return probe;
}

ProbeResult retrain_probe(const SelectedProbe& probe, const LabeledFeatures& train, const LabeledFeatures& test,
                          int64_t classes, const std::optional<FeatureStandardizer>& statistics) {
  if (!probe.is_lbfgs()) return train_linear_probes(train, train, test, classes, probe.sgd);
  if (!probe.lbfgs.standardize || !statistics) return train_lbfgs_probes(train, train, test, classes, probe.lbfgs);
  LbfgsProbeSpec on_standardized = probe.lbfgs;
  on_standardized.standardize = false;
  const LabeledFeatures train_standardized{statistics->apply(train.x), train.y};
  ProbeResult result = train_lbfgs_probes(train_standardized, train_standardized, {statistics->apply(test.x), test.y},
                                          classes, on_standardized);
  std::tie(result.weight, result.bias) = statistics->fold(result.weight, result.bias);
  result.weight_l1 = result.weight.abs().sum().item<double>();
  return result;
}

int64_t stored_probe_classes(const std::filesystem::path& dir, const std::string& protocol) {
  const auto path = dir / (probe_file_stem(protocol, text(Feature::Backbone)) + "_bias.npy");
  const NpyArray bias = read_npy(path.string());
  if (bias.shape.size() != 1) {
    throw std::runtime_error(fmt::format("{}: expected a rank-1 array, got rank {}", path.string(), bias.shape.size()));
  }
  return bias.shape[0];
}

std::string protocols_used_text(const std::map<std::string, int64_t>& runs_per_protocol) {
  std::string text;
  for (const auto& protocol : analysis_probe_protocols()) {
    const auto it = runs_per_protocol.find(protocol);
    if (it == runs_per_protocol.end()) continue;
    text += fmt::format("{}{} ({}) for {} run{}", text.empty() ? "" : "; ", protocol,
                        probe_protocol_description(protocol), it->second, it->second == 1 ? "" : "s");
  }
  return text;
}

}  // namespace semharness
