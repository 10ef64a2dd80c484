// PhaseTimer (harness/train/phase_timer.h): wall time per phase on the CPU, device time from events on CUDA,
// and every phase a profiler scope of its own.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness/train/op_profile.h"
#include "harness/train/phase_timer.h"

namespace semharness {
namespace {

const TimingRow* find_row(const std::vector<TimingRow>& rows, const std::string& name) {
  const auto it = std::find_if(rows.begin(), rows.end(), [&](const TimingRow& row) { return row.name == name; });
  return it == rows.end() ? nullptr : &*it;
}

TEST(PhaseTimerTest, CpuPhasesAreWallTimeAndProfilerScopes) {
  PhaseTimer timer(c10::Device(c10::kCPU));
  OpProfiler profiler;
  profiler.start(/*cuda=*/false);
  for (int step = 0; step < 2; ++step) {
    timer.begin_step();
    const int value = timer.time("work", [] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return 7;
    });
    EXPECT_EQ(value, 7);
    timer.time_host("wait", [] { std::this_thread::sleep_for(std::chrono::milliseconds(5)); });
  }
  const auto intervals = profiler.stop();
  const auto rows = timer.rows();
  const TimingRow* work = find_row(rows, "work");
  ASSERT_NE(work, nullptr);
  EXPECT_EQ(work->count, 2);
  EXPECT_GE(work->total_ms, 40.0);
  EXPECT_EQ(work->device, "cpu");
  const TimingRow* wait = find_row(rows, "wait");
  ASSERT_NE(wait, nullptr);
  EXPECT_EQ(wait->count, 2);
  EXPECT_GE(wait->total_ms, 10.0);
  for (const std::string scope : {"phase:work", "phase:wait"}) {
    EXPECT_EQ(std::count_if(intervals.begin(), intervals.end(), [&](const OpInterval& op) { return op.name == scope; }),
              2)
        << scope;
  }
}

// On CUDA a phase is device time between two events: queued work the host does not wait for is counted, and the
// phases of 5 steps fit in the wall time of the 5 steps measured with a synchronisation at either end.
TEST(PhaseTimerTest, CudaPhasesAreDeviceTimeFromEvents) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const c10::Device cuda(c10::kCUDA, 0);
  const auto a = torch::randn({2048, 2048}, torch::TensorOptions().device(cuda));
  torch::cuda::synchronize();
  PhaseTimer timer(cuda);
  const auto started = std::chrono::steady_clock::now();
  double host_ms = 0;
  for (int step = 0; step < 5; ++step) {
    timer.begin_step();
    const auto host_started = std::chrono::steady_clock::now();
    timer.time("matmul", [&] {
      auto c = a;
      for (int i = 0; i < 20; ++i) c = torch::mm(c, a).div_(2048);
    });
    host_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - host_started).count();
  }
  torch::cuda::synchronize();
  const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  const auto rows = timer.rows();
  const TimingRow* matmul = find_row(rows, "matmul");
  ASSERT_NE(matmul, nullptr);
  EXPECT_EQ(matmul->count, 5);
  EXPECT_EQ(matmul->device, "cuda:0");
  EXPECT_GT(matmul->total_ms, 0);
  EXPECT_LE(matmul->total_ms, wall_ms);
  // 100 products of 2048^2 (1.7 TFLOP) take the device longer than the host takes to queue them.
  EXPECT_GT(matmul->total_ms, host_ms * 0.5);
}

}  // namespace
}  // namespace semharness
