#pragma once
// `semharness bench --vs-python`: the same SSL training step (model, method, SEM, batch) timed in
// semharness and in idiomatic PyTorch user code (tests/bench/python_reference.py, run with the project's
// .venv Python: the same LibTorch), eager and under torch.compile, in turn, several repetitions.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "harness/store/records.h"

namespace semharness {

struct RaceCase {
  std::string name;      // "convnet+sem"
  std::string backbone;  // "convnet", "resnet18"
  int64_t L = 5000, V = 13;
  int64_t batch = 256;
};
// SimCLR with SEM L=5000 V=13 on each backbone ("convnet": Fashion-MNIST's shape, "resnet18": CIFAR's) at
// the batch size. Throws InputError for an unknown backbone.
std::vector<RaceCase> race_cases(const std::vector<std::string>& backbones, int64_t batch);

struct RaceOptions {
  std::string python = ".venv/bin/python";
  std::string script = "tests/bench/python_reference.py";
  int repetitions = 3;  // each contestant runs this many times, interleaved
  int steps = 10;       // timed steps per repetition
  int warmup = 3;       // untimed steps first (torch.compile compiles in them)
  int threads = 2;
  bool compile = true;  // also race torch.compile
};

struct RaceEntry {
  // impl: "semharness", "python-eager", "python-compile", and with tcmalloc preloaded into Python (when the
  // harness runs on it) "python-eager-tcmalloc", "python-compile-tcmalloc"
  std::string case_name, impl;
  std::vector<double> images_per_second;  // one per repetition
  std::string error;                      // why it has no numbers (e.g. compile failed)
  double median_images_per_second() const;
};

// The arithmetic rate of a case: FLOPs of one step counted by torch.utils.flop_counter in the eager Python
// reference (the same model), over semharness's median times, against the matrix-multiply peak.
struct RaceFlops {
  std::string case_name;
  double step_flops = 0, backbone_flops = 0;      // per step (both views, forward and backward)
  double step_seconds = 0, backbone_seconds = 0;  // semharness: whole step, backbone alone
  double matmul_peak = 0;                         // FLOP/s, float32 2048 x 2048 products, best of this run
};

// Runs the race on the CPU, printing each round's result to `out`. Returns the entries (an entry that could
// not run carries its error) and the FLOP rates; `bench` prints the table.
struct RaceResult {
  std::vector<RaceEntry> entries;
  std::vector<RaceFlops> flops;  // the cases whose FLOPs were counted
};
RaceResult run_python_race(const std::vector<RaceCase>& cases, const RaceOptions& options, std::ostream& out);

// The shared library this process's tcmalloc comes from (the allocator the harness links), for LD_PRELOAD;
// empty when it runs on glibc's malloc.
std::string tcmalloc_library();

// Benchmark rows for the store: name "race/<impl>", params "<case> B=<batch>", the median repetition; and
// "race/flops/step", "race/flops/backbone" with items/s = FLOP/s.
std::vector<BenchmarkRow> race_rows(const RaceResult& race, const std::vector<RaceCase>& cases);

}  // namespace semharness
