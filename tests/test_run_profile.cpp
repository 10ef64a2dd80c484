// profile.steps: a run records training steps with LibTorch's profiler and stores its operators in the profile
// table, the SEM block's calls told from the rest, and the Chrome trace next to the database.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "cli_support.h"
#include "harness/store/store.h"

namespace semharness {
namespace {

using namespace semharness_test;

// A tiny SimCLR + SEM run (16 steps an epoch, 64 images a batch) that profiles 3 steps. Prefetch is off so that
// augmentation runs on the training thread, among the recorded operators.
TEST(RunProfileTest, StoresTheSemBlocksOperatorsAndTheirShareOfTheStep) {
  const fs::path dir = make_temp_dir("run-profile");
  write_bytes(dir / "prof.ini", std::string("name = prof\nepochs = 1\nmethod = simclr\nsem = on\n") + kTinySettings);
  const fs::path db = dir / "prof.db";
  const Result run = run_binary(dir, {"run",      (dir / "prof.ini").string(),
                                      "--db",     db.string(),
                                      "--device", "cpu",
                                      "--set",    "profile.steps=3",
                                      "--set",    "prefetch=off",
                                      "--set",    "train_subset=1024",
                                      "--set",    "batch_size=64",
                                      "--set",    "analysis.samples=0",
                                      "--set",    "probe.epochs=1",
                                      "--set",    "probe.protocols=sgd"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("USDT"), std::string::npos) << "Kineto's log lines reach the output:\n" << run.output;

  Store store(db.string());
  const auto rows = store.profile("prof");
  ASSERT_FALSE(rows.empty());
  const auto find = [&](const std::string& name, const std::string& part) -> const ProfileRow* {
    const auto it = std::find_if(rows.begin(), rows.end(), [&](const ProfileRow& row) {
      return row.name == name && row.part == part && row.kind == kProfileOperator;
    });
    return it == rows.end() ? nullptr : &*it;
  };
  // The SEM softmax kernel forward and backward, and the embedder's matmul, in the SEM block with self time.
  for (const std::string name : {"sem::simplex_softmax", "sem::simplex_softmax_backward", "aten::mm"}) {
    const ProfileRow* row = find(name, kProfileSemPart);
    ASSERT_NE(row, nullptr) << name;
    EXPECT_GT(row->self_ms, 0) << name;
    EXPECT_GT(row->step_share, 0) << name;
    EXPECT_EQ(row->steps, 3) << name;
    EXPECT_EQ(row->device, "cpu");
  }
  // Two views a step: the softmax runs twice per step.
  EXPECT_EQ(find("sem::simplex_softmax", kProfileSemPart)->calls, 6);
  // The projector's and the optimizer's work is the rest's.
  EXPECT_NE(find("aten::addmm", kProfileRestPart), nullptr);

  // The recorded operators explain the step: their self-time shares add up to the steps' wall time within 5%,
  // the time outside any operator being the rest.
  double operators = 0, outside = 0;
  for (const ProfileRow& row : rows) (row.name == kOutsideOperators ? outside : operators) += row.step_share;
  EXPECT_GT(operators, 0.95);
  EXPECT_LE(operators, 1.0 + 1e-9);
  EXPECT_NEAR(operators + outside, 1.0, 0.05);

  // The profiled and the unprofiled steps are timed side by side, 3 each.
  int64_t profiled = 0, unprofiled = 0;
  for (const TimingTotal& total : store.timing_totals("prof")) {
    if (total.name == "step:profiled") profiled = total.count;
    if (total.name == "step:unprofiled") unprofiled = total.count;
  }
  EXPECT_EQ(profiled, 3);
  EXPECT_EQ(unprofiled, 3);

  // The Chrome trace: alone in the run's folder (no features stored), a JSON object with trace events.
  const auto runs = store.runs("prof");
  ASSERT_EQ(runs.size(), 1u);
  const fs::path trace = fs::path(db.string() + ".artifacts") / runs[0].run_id / "trace.json";
  ASSERT_TRUE(fs::exists(trace));
  const auto json = nlohmann::json::parse(read_bytes(trace));
  ASSERT_TRUE(json.contains("traceEvents"));
  EXPECT_GT(json["traceEvents"].size(), 100u);
  EXPECT_FALSE(fs::exists(trace.parent_path() / "meta.json"));

  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace semharness
