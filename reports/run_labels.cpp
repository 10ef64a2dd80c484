#include "reports/run_labels.h"

#include <set>

#include <fmt/format.h>

#include "harness/config/run_config.h"

namespace semharness {

std::vector<std::string> distinguishing_keys(const std::vector<const RunRecord*>& runs, bool method_first) {
  std::vector<std::string> keys;
  if (method_first) keys.push_back("method");
  for (const KeySpec& spec : config_keys()) {
    if (!spec.identity || (method_first && spec.name == "method")) continue;
    std::set<std::string> values;
    std::map<std::string, std::set<std::string>> values_per_method;
    for (const RunRecord* run : runs) {
      const std::string value = stored_value(*run, spec.name);
      values.insert(value);
      values_per_method[run->config.at("method")].insert(value);
    }
    if (values.size() <= 1) continue;
    // Dataset, backbone and epochs say what a row is even when each method has its own.
    bool follows_method =
        spec.name != "method" && spec.name != "dataset" && spec.name != "backbone" && spec.name != "epochs";
    for (const auto& [method, method_values] : values_per_method)
      follows_method = follows_method && method_values.size() == 1;
    if (!follows_method) keys.push_back(spec.name);
  }
  return keys;
}

std::map<std::string, std::string> run_labels(const std::vector<RunRecord>& runs) {
  std::map<std::string, std::vector<const RunRecord*>> by_grid;
  for (const RunRecord& run : runs) by_grid[run.grid].push_back(&run);
  std::map<std::string, std::vector<std::string>> keys;
  for (const auto& [grid, grid_runs] : by_grid) keys[grid] = distinguishing_keys(grid_runs);
  std::map<std::string, std::string> labels;
  for (const RunRecord& run : runs) {
    RunConfig config;
    config.values = run.config;
    config.seed = run.seed;
    labels[run.run_id] = config.label(keys[run.grid]);
  }
  return labels;
}

RunSpec stored_run_spec(const RunRecord& run) {
  std::map<std::string, std::string> stored;
  for (const auto& [key, value] : run.config) {
    if (!value.empty()) stored.emplace(key, value);
  }
  RunConfig config = RunConfig::defaults(stored, "run " + run.run_id);
  config.seed = run.seed;
  return RunSpec::parse(config);
}

EmbedderMode stored_sem_mode(const RunRecord& run) {
  return parse_embedder_mode(run.config.at("sem"), "run " + run.run_id);
}

std::string stored_value(const RunRecord& run, const std::string& key) {
  const std::string& value = run.config.at(key);
  if (!value.empty()) return value;
  const KeySpec* spec = find_key(key);
  return spec ? spec->default_value : value;
}

bool is_untrained(const RunRecord& run) { return run.config.at("epochs") == "0"; }

std::string row_label(const RunRecord& run, const std::vector<std::string>& keys) {
  std::string label;
  for (const auto& key : keys)
    label += label.empty() ? stored_value(run, key) : fmt::format(" {}={}", key, stored_value(run, key));
  return label;
}

}  // namespace semharness
