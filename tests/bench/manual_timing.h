#pragma once
// The timing loop of the suites that time device work by hand (UseManualTime).
#include <chrono>

#include <benchmark/benchmark.h>
#include <c10/core/Device.h>

#include "harness/train/device.h"

namespace semharness {

// Runs `work` once per benchmark iteration and reports its wall time, device work included (the device is
// synchronised before the clock starts and before it stops).
template <typename Work>
void time_iterations(benchmark::State& state, c10::Device device, Work&& work) {
  synchronize(device);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    work();
    synchronize(device);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
}

}  // namespace semharness
