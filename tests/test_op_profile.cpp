#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "harness/train/op_profile.h"
#include "sem/simplicial_embedding.h"

namespace semharness {
namespace {

const OpProfileRow* find_row(const std::vector<OpProfileRow>& rows, const std::string& name) {
  const auto it = std::find_if(rows.begin(), rows.end(), [&](const OpProfileRow& row) { return row.name == name; });
  return it == rows.end() ? nullptr : &*it;
}

// A hand-computed case. Thread 1: A [0, 100] holds B [10, 40], which holds C [15, 25], and D [50, 90]; A again
// [200, 260] alone. Thread 2: E [5, 30], which overlaps A's time but is not inside it. A kernel on stream 1
// at [0, 50] shares thread 1's number but not its space.
TEST(OpProfileTest, SelfTimeIsOwnTimeLessDirectlyNestedTime) {
  const std::vector<OpInterval> intervals = {{1, false, 0, 100, "A", ""},   {1, false, 10, 40, "B", "[[2]]"},
                                             {1, false, 15, 25, "C", ""},   {1, false, 50, 90, "D", ""},
                                             {1, false, 200, 260, "A", ""}, {2, false, 5, 30, "E", ""},
                                             {1, true, 0, 50, "kernel", ""}};
  const auto rows = aggregate_ops(intervals);
  ASSERT_EQ(rows.size(), 6u);
  const auto* a = find_row(rows, "A");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->calls, 2);
  EXPECT_DOUBLE_EQ(a->total_us, 0.160);
  EXPECT_DOUBLE_EQ(a->self_us, 0.090);  // (100 - 30 - 40) + 60 ns
  EXPECT_DOUBLE_EQ(find_row(rows, "B")->self_us, 0.020);
  EXPECT_EQ(find_row(rows, "B")->shapes, "[[2]]");
  EXPECT_DOUBLE_EQ(find_row(rows, "C")->self_us, 0.010);
  EXPECT_DOUBLE_EQ(find_row(rows, "D")->self_us, 0.040);
  EXPECT_DOUBLE_EQ(find_row(rows, "E")->self_us, 0.025);
  EXPECT_DOUBLE_EQ(find_row(rows, "kernel")->self_us, 0.050);
  EXPECT_TRUE(find_row(rows, "kernel")->kernel);
  // Sorted by self time; a thread's self times add up to the time it spent inside operators (160 + 25 + 50).
  EXPECT_EQ(rows.front().name, "A");
  double self = 0;
  for (const auto& row : rows) self += row.self_us;
  EXPECT_DOUBLE_EQ(self, 0.235);
}

// A real recording of an SEM block's forward and backward on the CPU: the embedder's matmul and the SEM
// softmax kernel (forward and backward) are there with non-zero self time, the self times add up to no more
// than the wall time of the recorded steps, and the Chrome trace is written.
TEST(OpProfileTest, RecordsTheSemKernelAndTheEmbedderMatmul) {
  torch::manual_seed(0);
  SEM sem(SEMOptions(32, 16, 8).tau_online(0.5));
  const auto h = torch::randn({64, 32});
  const auto trace = std::filesystem::temp_directory_path() / "semharness_op_profile_trace.json";
  OpProfiler profiler;
  const auto started = std::chrono::steady_clock::now();
  profiler.start(/*cuda=*/false);
  for (int step = 0; step < 3; ++step) sem->forward(h, 0.5).pow(2).sum().backward();
  const auto intervals = profiler.stop(trace.string());
  const double wall_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count();
  EXPECT_FALSE(profiler.running());
  const auto rows = aggregate_ops(intervals);
  for (const std::string name : {"sem::simplex_softmax", "sem::simplex_softmax_backward"}) {
    const auto* row = find_row(rows, name);
    ASSERT_NE(row, nullptr) << name;
    EXPECT_EQ(row->calls, 3) << name;
    EXPECT_GT(row->self_us, 0) << name;
  }
  const auto matmul = std::find_if(rows.begin(), rows.end(), [](const OpProfileRow& row) {
    return (row.name == "aten::mm" || row.name == "aten::addmm") && row.shapes.find("[64, 32]") != std::string::npos;
  });
  ASSERT_NE(matmul, rows.end());
  EXPECT_GT(matmul->self_us, 0);
  double self = 0;
  for (const auto& row : rows) self += row.self_us;
  EXPECT_GT(self, 0);
  // Each recording thread's operators' self times fit in the wall time.
  std::set<uint64_t> threads;
  for (const auto& interval : intervals) threads.insert(interval.thread);
  EXPECT_LE(self, wall_us * static_cast<double>(threads.size()));
  EXPECT_GT(std::filesystem::file_size(trace), 0u);
  std::filesystem::remove(trace);
}

// The SEM block's part of a step: its forward (the embedder's matmul, BatchNorm, the softmax kernel), the
// backward nodes of those operators and the softmax's backward, but not the projector that follows it.
TEST(OpProfileTest, MarkPartFindsTheSemBlockForwardAndBackward) {
  torch::manual_seed(0);
  SEM sem(SEMOptions(32, 16, 8).tau_online(0.5));
  torch::nn::Linear projector(torch::nn::LinearOptions(128, 24).bias(false));
  const auto h = torch::randn({64, 32});
  OpProfiler profiler;
  profiler.start(/*cuda=*/false);
  for (int step = 0; step < 2; ++step) projector->forward(sem->forward(h, 0.5)).pow(2).sum().backward();
  auto intervals = profiler.stop();
  mark_part(intervals, "sem::");
  const auto has = [&](bool in_part, const std::string& name, const std::string& shape) {
    return std::any_of(intervals.begin(), intervals.end(), [&](const OpInterval& op) {
      return op.in_part == in_part && op.name == name && op.shapes.find(shape) != std::string::npos;
    });
  };
  // Forward: the embedder's matmul [64, 32] x [32, 128] in the part, the projector's [64, 128] x [128, 24] not.
  EXPECT_TRUE(has(true, "aten::mm", "[64, 32]"));
  EXPECT_TRUE(has(false, "aten::mm", "[64, 128], [128, 24]"));
  EXPECT_FALSE(has(true, "aten::mm", "[64, 128], [128, 24]"));
  EXPECT_TRUE(has(true, "sem::simplex_softmax_backward", ""));
  // Backward: of the two matmuls' backward nodes exactly one (the embedder's) is in the part, per step.
  int64_t mm_backward_in = 0, mm_backward_out = 0;
  for (const auto& op : intervals) {
    if (!op.backward || op.name.find("MmBackward0") == std::string::npos) continue;
    (op.in_part ? mm_backward_in : mm_backward_out) += 1;
  }
  EXPECT_EQ(mm_backward_in, 2);
  EXPECT_EQ(mm_backward_out, 2);
  EXPECT_TRUE(std::any_of(intervals.begin(), intervals.end(), [](const OpInterval& op) {
    return op.backward && op.in_part && op.name.find("NativeBatchNormBackward0") != std::string::npos;
  }));
  // The part's rows and the rest's are kept apart.
  const auto rows = aggregate_ops(intervals);
  EXPECT_TRUE(std::any_of(rows.begin(), rows.end(), [](const OpProfileRow& row) { return row.in_part; }));
  EXPECT_TRUE(std::any_of(rows.begin(), rows.end(), [](const OpProfileRow& row) { return !row.in_part; }));
}

}  // namespace
}  // namespace semharness
