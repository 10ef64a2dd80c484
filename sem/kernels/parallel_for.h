#pragma once
// kernel_parallel_for(begin, end, grain, f): at::parallel_for for the hand-written CPU kernels, on
// LibTorch's intra-op threads.
//
// at::parallel_for is a header template: with LibTorch's OpenMP backend it runs serially in a translation
// unit compiled without -fopenmp (as this project's are). LibTorch >= 2.10 exports its own compiled
// at::parallel_for through the stable C shim, torch_parallel_for, which uses the intra-op threads.
#include <cstdint>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#if !defined(_OPENMP) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 10))
#include <torch/csrc/stable/c/shim.h>
#define SEMK_TORCH_PARALLEL_FOR 1
#else
#define SEMK_TORCH_PARALLEL_FOR 0
#endif

namespace semharness {

template <typename F>
void kernel_parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
#if SEMK_TORCH_PARALLEL_FOR
  if (end - begin <= grain || at::get_num_threads() <= 1) {  // what at::parallel_for would run inline
    if (begin < end) f(begin, end);
    return;
  }
  const auto callback = [](int64_t b, int64_t e, void* ctx) { (*static_cast<const F*>(ctx))(b, e); };
  const auto status = torch_parallel_for(begin, end, grain, callback, const_cast<void*>(static_cast<const void*>(&f)));
  TORCH_CHECK(status == AOTI_TORCH_SUCCESS, "kernel_parallel_for: torch_parallel_for failed");
#else
  at::parallel_for(begin, end, grain, f);
#endif
}

}  // namespace semharness
