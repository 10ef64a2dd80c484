#pragma once
// What a run writes and what the store reads back, as plain records: the rows of the metrics, results and
// timings tables, a run's stored features, its whole outcome, and a run's row. Torch-free and SQL-free, so
// that training code can fill them without including the store (harness/store/store.h).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/store/npy.h"

namespace semharness {

struct MetricRow {
  int64_t epoch;
  std::string name;
  double value;
};
struct ResultRow {
  std::string run_id;           // filled when read back; ignored on write (the outcome's run_id is used)
  std::string protocol;         // kSgdProbe, kKnnProtocol, ... (harness/results/vocabulary.h)
  std::string feature;          // text(Feature)
  std::optional<double> tau_d;  // only for Feature::Sem
  std::string split;            // text(Split)
  std::string metric;           // kTop1Metric, kLossMetric, ...
  double value;
};
struct TimingRow {
  std::string name;
  std::string device;
  int64_t count;
  double total_ms;
};
// A phase's timings summed over a grid's runs.
struct TimingTotal {
  std::string grid, name, device;
  int64_t runs = 0, count = 0;  // runs that timed it, timed calls
  double total_ms = 0;
};
// One benchmark result: `count` timed iterations taking `total_ms` in all.
struct BenchmarkRow {
  std::string name;    // the benchmark's family, e.g. "sem/fused"
  std::string params;  // its arguments, e.g. "B=256 L=5000 V=13"
  std::string device;  // "cpu", "cuda:0"
  int64_t count = 0;
  double total_ms = 0;
  std::optional<double> items_per_second, bytes_per_second;
};

// One line of a run's profile (profile.steps, harness/train/op_profile.h): an operator's or a device kernel's
// calls and times over the profiled steps, for one part of the model.
struct ProfileRow {
  std::string run_id;  // filled when read back; ignored on write (the outcome's run_id is used)
  std::string device;  // "cpu", "cuda:0"
  std::string kind;    // kProfileOperator or kProfileKernel
  std::string part;    // kProfileSemPart (the SEM block) or kProfileRestPart
  std::string name, shapes;
  int64_t steps = 0, calls = 0;  // profiled steps; calls in them
  double self_ms = 0, total_ms = 0;
  double step_share = 0;  // self time over the profiled steps' wall time
};
inline constexpr const char* kProfileOperator = "operator";
inline constexpr const char* kProfileKernel = "kernel";
inline constexpr const char* kProfileSemPart = "sem";
inline constexpr const char* kProfileRestPart = "rest";
// The row of the profiled steps' wall time that no recorded CPU operator covers (waits, host code between
// operators).
inline constexpr const char* kOutsideOperators = "[outside operators]";

// Stored features and probe weights of a finished run (README "Stored features"): .npy files by name and
// meta.json, written next to the database (harness/train/artifacts.h), not into it.
struct RunArtifacts {
  std::vector<std::pair<std::string, NpyArray>> arrays;  // file name ("train_h.npy") -> array
  std::string meta_json;
  std::string trace_json;  // the profiler's Chrome trace (profile.steps > 0), written as trace.json
  bool empty() const { return arrays.empty() && trace_json.empty(); }
};

// Everything a finished (or diverged) run writes, in one transaction.
struct RunOutcome {
  std::string run_id;
  std::string status;  // text(RunStatus::Finished) or text(RunStatus::Diverged)
  std::string error;   // reason when diverged
  std::vector<MetricRow> metrics;
  std::vector<ResultRow> results;
  std::vector<TimingRow> timings;
  std::vector<ProfileRow> profile;            // empty unless profile.steps > 0
  std::optional<int64_t> resumed_from_epoch;  // set when pretraining went on from a checkpoint
  RunArtifacts artifacts;                     // empty when analysis.samples is 0 or the run diverged
};

struct RunRecord {
  std::string run_id, cell_id, grid, status, error;  // status: text(RunStatus)
  std::string created_at, started_at, finished_at;
  std::string worker, heartbeat_at;  // who runs it ("host:pid") and when it last said so
  int64_t attempts = 0;
  std::optional<int64_t> resumed_from_epoch;
  int64_t seed = 0;
  std::map<std::string, std::string> config;  // key (e.g. "sem.L") -> value, for every config key
};

}  // namespace semharness
