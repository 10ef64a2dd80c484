// `semharness bench`: the suites run, their rows land in the store with parameters, the report shows them,
// bad input is refused; the race against the Python reference runs end to end at a tiny size.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "cli_support.h"
#include "harness/bench/benchmark_results.h"

namespace {

using semharness_test::make_temp_dir;
using semharness_test::run_binary;

TEST(BenchmarkParamsTest, ArgumentsBecomeKeyValuePairs) {
  EXPECT_EQ(semharness::benchmark_params("B:256/L:5000/V:13"), "B=256 L=5000 V=13");
  EXPECT_EQ(semharness::benchmark_params(""), "");
}

TEST(BenchCommandTest, SmokeRunStoresEveryRowWithItsParameters) {
  const auto dir = make_temp_dir("bench");
  const auto result = run_binary(dir, {"bench", "--smoke", "--filter", "sem/|memory/|probe/", "--db", "b.db"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("LibTorch"), std::string::npos) << result.output;  // the compute paths, first
  EXPECT_NE(result.output.find("fused/floor"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("\x1b["), std::string::npos) << "colour codes in piped output";

  SQLite::Database db((dir / "b.db").string());
  SQLite::Statement rows(db,
                         "SELECT name, params, device, count, total_ms, bytes_per_second, session FROM timings "
                         "WHERE run_id IS NULL ORDER BY rowid");
  std::map<std::string, std::string> params;
  std::set<std::string> sessions;
  while (rows.executeStep()) {
    const std::string name = rows.getColumn(0).getString();
    params[name] = rows.getColumn(1).getString();
    EXPECT_EQ(rows.getColumn(2).getString(), "cpu");
    EXPECT_GE(rows.getColumn(3).getInt64(), 1) << name;
    EXPECT_GT(rows.getColumn(4).getDouble(), 0) << name;
    if (name == "memory/copy") {
      EXPECT_GT(rows.getColumn(5).getDouble(), 0);
    }
    sessions.insert(rows.getColumn(6).getString());
  }
  EXPECT_EQ(params["sem/fused"], "B=8 L=16 V=4");
  EXPECT_EQ(params["sem/unfused"], "B=8 L=16 V=4");
  EXPECT_EQ(params["memory/copy"], "MB=1");
  EXPECT_EQ(params["probe/epoch"], "N=64 D=16 B=8");
  EXPECT_EQ(params.count("train_step/convnet/simclr/sem_on"), 0u);  // filtered out
  EXPECT_EQ(sessions.size(), 1u);

  const auto report = run_binary(dir, {"report", "--db", "b.db"});
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_NE(report.output.find("Benchmarks (semharness bench)"), std::string::npos) << report.output;
  EXPECT_NE(report.output.find("against the memory floor"), std::string::npos) << report.output;
}

TEST(BenchCommandTest, BadInputIsRefusedWithoutTouchingTheDatabase) {
  const auto dir = make_temp_dir("bench-bad");
  const auto none = run_binary(dir, {"bench", "--filter", "no_such_benchmark", "--db", "b.db"});
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("--filter 'no_such_benchmark': matches no benchmark"), std::string::npos) << none.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "b.db"));
  const auto time = run_binary(dir, {"bench", "--min-time", "0", "--db", "b.db"});
  EXPECT_EQ(time.exit_code, 2) << time.output;
  EXPECT_NE(time.output.find("--min-time 0"), std::string::npos) << time.output;
  const auto backbone = run_binary(dir, {"bench", "--vs-python", "--race-backbones", "vgg", "--db", "b.db"});
  EXPECT_EQ(backbone.exit_code, 2) << backbone.output;
  EXPECT_NE(backbone.output.find("'vgg'"), std::string::npos) << backbone.output;
}

// The race end to end at a tiny size: semharness and eager PyTorch (the project's .venv) on the ConvNet.
TEST(BenchCommandTest, RaceAgainstEagerPythonPrintsRatios) {
  const std::string python = std::string(SEMHARNESS_SOURCE_DIR) + "/.venv/bin/python";
  if (!std::filesystem::exists(python)) GTEST_SKIP() << "no " << python;
  const auto dir = make_temp_dir("race");
  const std::string script = std::string(SEMHARNESS_SOURCE_DIR) + "/tests/bench/python_reference.py";
  // bench --vs-python finds the script relative to the repository root.
  const auto result = run_binary(
      dir, {"bench", "--vs-python", "--no-compile", "--race-backbones", "convnet", "--race-batch", "8",
            "--race-repetitions", "1", "--race-steps", "2", "--python", python, "--script", script, "--db", "r.db"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("vs best"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("convnet+sem"), std::string::npos) << result.output;
  SQLite::Database db((dir / "r.db").string());
  SQLite::Statement rows(db, "SELECT name, params, items_per_second FROM timings WHERE run_id IS NULL ORDER BY name");
  std::vector<std::string> names;
  while (rows.executeStep()) {
    names.push_back(rows.getColumn(0).getString());
    EXPECT_EQ(rows.getColumn(1).getString(), "convnet+sem B=8");
    EXPECT_GT(rows.getColumn(2).getDouble(), 0);
  }
  // With tcmalloc linked (it is when CMake finds it) Python also runs with it preloaded.
  std::vector<std::string> expected = {"race/flops/backbone", "race/flops/step", "race/python-eager"};
  if (result.output.find("python-eager-tcmalloc ...") != std::string::npos) {
    expected.push_back("race/python-eager-tcmalloc");
  }
  expected.push_back("race/semharness");
  EXPECT_EQ(names, expected);
  EXPECT_NE(result.output.find("% of the matmul peak"), std::string::npos) << result.output;
}

}  // namespace
