// Benchmarks of the SEM softmax over simplices (sem/kernels/simplex_softmax_kernel.h), forward + backward,
// fused kernel against the unfused LibTorch ops, and of the memory bandwidth that bounds them.
//   sem/fused/B:../L:../V:..               fused_simplex_softmax, float32, tau 0.5, vertex-major
//   sem/unfused/...                        the same with LibTorch ops and their autograd
//   sem/fused_block_major/..., sem/unfused_block_major/...   the block-major layout
//   memory/copy/MB:..                      a parallel tensor copy: its bytes_per_second is the bandwidth
// Counters read by `semharness bench`: floor_bytes (bytes a fused forward + backward must move per
// iteration: read x, write y; read y and dy, write dx = 5 N floats), bytes_per_second (copy: bytes read and
// written; sem rows: floor_bytes per second), items_per_second (batch rows B per second). The tiny sizes (B:8, MB:1)
// exist so that a smoke filter finds every family.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "sem/kernels/simplex_softmax_kernel.h"

namespace {

using semharness::SimplexLayout;

constexpr double kTau = 0.5;

template <bool Fused, SimplexLayout Layout>
void simplex_softmax_forward_backward(benchmark::State& state) {
  const int64_t B = state.range(0), L = state.range(1), V = state.range(2);
  torch::manual_seed(0);
  const auto x = (torch::randn({B, L * V}) * 2).requires_grad_(true);
  const auto dy = torch::randn({B, L * V});
  auto step = [&] {
    const auto y = Fused ? semharness::fused_simplex_softmax(x, L, V, kTau, Layout)
                         : semharness::unfused_simplex_softmax(x, L, V, kTau, Layout);
    const auto dx = torch::autograd::grad({y}, {x}, {dy})[0];
    benchmark::DoNotOptimize(dx.data_ptr());
  };
  step();  // warm-up: first-touch page faults and allocator caches stay out of the timing
  for (auto _ : state) step();
  const int64_t floor_bytes = 5 * B * L * V * static_cast<int64_t>(sizeof(float));
  state.counters["floor_bytes"] = static_cast<double>(floor_bytes);
  // bytes_per_second = floor_bytes / time: the report divides it by the copy bandwidth (fraction of the floor).
  state.SetBytesProcessed(state.iterations() * floor_bytes);
  state.SetItemsProcessed(state.iterations() * B);
  state.SetLabel(fmt::format("threads={}", at::get_num_threads()));
}

void copy(benchmark::State& state) {
  const int64_t bytes = state.range(0) << 20;
  const auto src = torch::rand({bytes / static_cast<int64_t>(sizeof(float))});
  auto dst = torch::empty_like(src);
  dst.copy_(src);  // warm-up (touches every page of dst)
  for (auto _ : state) {
    dst.copy_(src);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 2 * bytes);  // read + write
  state.SetLabel(fmt::format("threads={}", at::get_num_threads()));
}

void sem_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "L", "V"});
  for (const auto& [B, L, V] : {std::array<int64_t, 3>{8, 16, 4}, {256, 64, 8}, {256, 512, 13}, {256, 5000, 13}})
    b->Args({B, L, V});
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

void block_major_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "L", "V"})->Args({8, 16, 4})->Args({256, 5000, 13});
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

const auto* registered = [] {
  constexpr auto VM = SimplexLayout::VertexMajor, BM = SimplexLayout::BlockMajor;
  benchmark::RegisterBenchmark("sem/fused", simplex_softmax_forward_backward<true, VM>)->Apply(sem_sizes);
  benchmark::RegisterBenchmark("sem/unfused", simplex_softmax_forward_backward<false, VM>)->Apply(sem_sizes);
  benchmark::RegisterBenchmark("sem/fused_block_major", simplex_softmax_forward_backward<true, BM>)
      ->Apply(block_major_sizes);
  benchmark::RegisterBenchmark("sem/unfused_block_major", simplex_softmax_forward_backward<false, BM>)
      ->Apply(block_major_sizes);
  return benchmark::RegisterBenchmark("memory/copy", copy)
      ->ArgNames({"MB"})
      ->Arg(1)
      ->Arg(256)
      ->Arg(512)
      ->Arg(1024)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}();

}  // namespace
