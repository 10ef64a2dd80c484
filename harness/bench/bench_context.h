#pragma once
// What `semharness bench` hands the benchmark suites (tests/bench/): the device they run on. Suites read it
// when a benchmark runs, not when it registers (registration happens before main).
#include <c10/core/Device.h>

namespace semharness {

struct BenchContext {
  c10::Device device{c10::kCPU};
};
BenchContext& bench_context();

}  // namespace semharness
