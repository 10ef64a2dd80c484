// The matrix-multiply peak of the machine, measured in the same run as everything else: float32 N x N
// products (LibTorch's BLAS on the CPU, cuBLAS on CUDA). items/s = FLOP/s (2 N^3 per product), the yardstick
// for the training step's arithmetic rate (`bench --vs-python` prints the step's share of it).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "harness/bench/bench_context.h"
#include "tests/bench/manual_timing.h"

namespace semharness {
namespace {

void matmul_peak(benchmark::State& state) {
  const c10::Device device = bench_context().device;
  const int64_t n = state.range(0);
  const auto options = torch::TensorOptions().device(device);
  const auto a = torch::randn({n, n}, options), b = torch::randn({n, n}, options);
  auto c = torch::empty({n, n}, options);
  torch::mm_out(c, a, b);  // warm: BLAS threads up, pages touched
  time_iterations(state, device, [&] { torch::mm_out(c, a, b); });
  state.SetItemsProcessed(state.iterations() * 2 * n * n * n);
}

const bool registered = [] {
  benchmark::RegisterBenchmark("matmul/peak", matmul_peak)
      ->ArgName("N")
      ->Arg(64)
      ->Arg(1024)
      ->Arg(2048)
      ->Arg(4096)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
}  // namespace semharness
