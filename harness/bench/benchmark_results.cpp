#include "harness/bench/benchmark_results.h"

#include <algorithm>

namespace semharness {

std::string benchmark_params(const std::string& args) {
  std::string params = args;
  std::replace(params.begin(), params.end(), '/', ' ');
  std::replace(params.begin(), params.end(), ':', '=');
  return params;
}

void CollectingReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    if (run.error_occurred) {
      ++errors_;
      continue;
    }
    if (run.run_type != Run::RT_Iteration) continue;
    BenchmarkResult result;
    result.row.name = run.run_name.function_name;
    result.row.params = benchmark_params(run.run_name.args);
    result.row.device = device_;
    result.row.count = static_cast<int64_t>(run.iterations);
    // real_accumulated_time holds the manual time for UseManualTime benchmarks; seconds either way.
    result.row.total_ms = run.real_accumulated_time * 1000.0;
    for (const auto& [name, counter] : run.counters) result.counters[name] = counter.value;
    if (auto it = result.counters.find("items_per_second"); it != result.counters.end())
      result.row.items_per_second = it->second;
    if (auto it = result.counters.find("bytes_per_second"); it != result.counters.end())
      result.row.bytes_per_second = it->second;
    results_.push_back(std::move(result));
  }
  ConsoleReporter::ReportRuns(runs);
}

}  // namespace semharness
