#pragma once
// Google Benchmark results as `semharness bench` stores and summarises them.
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "harness/store/records.h"

namespace semharness {

// One benchmark's measurement: the store's row and its user counters (after Google Benchmark's rate
// conversion, e.g. items_per_second), by name.
struct BenchmarkResult {
  BenchmarkRow row;
  std::map<std::string, double> counters;
  double mean_ms() const { return row.total_ms / static_cast<double>(row.count > 0 ? row.count : 1); }
};

// "B:256/L:5000/V:13" -> "B=256 L=5000 V=13".
std::string benchmark_params(const std::string& args);

// Prints as the console reporter does and keeps every iteration run (aggregates of repetitions are
// printed, not kept: the store holds each repetition).
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  // colour: ANSI colours (for a terminal).
  CollectingReporter(std::string device, bool colour)
      : ConsoleReporter(colour ? OO_ColorTabular : OO_Tabular), device_(std::move(device)) {}
  void ReportRuns(const std::vector<Run>& runs) override;
  const std::vector<BenchmarkResult>& results() const { return results_; }
  int errors() const { return errors_; }

 private:
  std::string device_;
  std::vector<BenchmarkResult> results_;
  int errors_ = 0;
};

}  // namespace semharness
