// `semharness status` through the binary: counts per grid and state, runs in flight with the stale marker,
// failed and diverged runs with their errors, and the missing-database error.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "harness/config/grid.h"
#include "harness/store/store.h"
#include "test_paths.h"

namespace semharness {
namespace {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

struct BinaryResult {
  int exit_code = -1;
  std::vector<std::string> lines;  // stdout and stderr together, empty lines dropped
  std::string output;
};

BinaryResult run_semharness(const fs::path& dir, const std::vector<std::string>& args) {
  static int counter = 0;
  const fs::path output = dir / ("status-output-" + std::to_string(counter++) + ".txt");
  std::string command = "cd " + shell_quote(dir.string()) + " && " + shell_quote(SEMHARNESS_BINARY);
  for (const std::string& arg : args) command += " " + shell_quote(arg);
  command += " > " + shell_quote(output.string()) + " 2>&1 < /dev/null";
  const int status = std::system(command.c_str());
  BinaryResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(output);
  result.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::istringstream stream(result.output);
  std::string line;
  while (std::getline(stream, line)) {
    if (line.find_first_not_of(" \t") != std::string::npos) result.lines.push_back(line);
  }
  return result;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream stream(line);
  std::vector<std::string> split;
  std::string word;
  while (stream >> word) split.push_back(word);
  return split;
}

// The one output line that mentions `needle`; fails when there is not exactly one.
std::string line_with(const BinaryResult& result, const std::string& needle) {
  std::string found;
  int matches = 0;
  for (const std::string& line : result.lines) {
    if (line.find(needle) != std::string::npos) {
      found = line;
      ++matches;
    }
  }
  EXPECT_EQ(matches, 1) << "lines mentioning '" << needle << "' in:\n" << result.output;
  return found;
}

// The words of the first line whose first word is `first`: for a grid, its row of the counts table.
std::vector<std::string> first_row_of(const BinaryResult& result, const std::string& first) {
  for (const std::string& line : result.lines) {
    const std::vector<std::string> split = words(line);
    if (!split.empty() && split[0] == first) return split;
  }
  ADD_FAILURE() << "no line starts with '" << first << "' in:\n" << result.output;
  return {};
}

class StatusCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    dir_ = fs::temp_directory_path() /
           ("semharness-status-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    fs::create_directories(dir_);
    db_ = (dir_ / "runs.db").string();
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  Grid write_grid(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / (name + ".ini");
    std::ofstream(path) << "name = " << name << "\ndataset = synthetic\n" << text;
    return load_grid(path.string());
  }

  fs::path dir_;
  std::string db_;
};

TEST_F(StatusCommandTest, CountsInFlightStaleAndFailures) {
  std::vector<std::string> ids, other_ids;
  {
    Store store(db_);
    const Grid grid = write_grid("alpha", "method = simclr, byol\nseeds = 0, 1, 2\n");
    const Grid other = write_grid("beta", "method = vicreg\n");
    ASSERT_EQ(store.register_runs(grid), 6);
    ASSERT_EQ(store.register_runs(other), 1);
    for (const RunConfig& run : grid.runs) ids.push_back(run.run_id());
    for (const RunConfig& run : other.runs) other_ids.push_back(run.run_id());

    const auto never_abandoned = [](const RunRecord&) { return false; };
    const auto fresh = store.claim_next(ids, "hostA:11", never_abandoned);
    const auto abandoned = store.claim_next(ids, "hostB:22", never_abandoned);
    const auto finished = store.claim_next(ids, "hostA:11", never_abandoned);
    const auto failed = store.claim_next(ids, "hostA:11", never_abandoned);
    ASSERT_TRUE(fresh && abandoned && finished && failed);
    EXPECT_EQ(*fresh, ids[0]);
    EXPECT_EQ(*abandoned, ids[1]);
    RunOutcome outcome;
    outcome.run_id = ids[2];
    outcome.status = "finished";
    store.finish_run(outcome);
    store.mark_failed(ids[3], "data: cannot read batch 7\nstack trace that status leaves out");
    RunOutcome diverged;
    diverged.run_id = other_ids[0];
    diverged.status = "diverged";
    diverged.error = "train_loss is NaN at epoch 2";
    store.finish_run(diverged);
  }
  {
    // A worker that stopped saying it is alive, after a resume: what only its own heartbeats would write.
    SQLite::Database db(db_, SQLite::OPEN_READWRITE);
    db.exec("UPDATE runs SET heartbeat_at = '2000-01-01T00:00:00Z', resumed_from_epoch = 3 WHERE run_id = '" + ids[1] +
            "'");
  }

  const BinaryResult result = run_semharness(dir_, {"status", "--db", db_});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(first_row_of(result, "grid"),
            (std::vector<std::string>{"grid", "pending", "running", "finished", "failed", "diverged", "total"}));
  // grid, pending, running, finished, failed, diverged, total
  EXPECT_EQ(first_row_of(result, "alpha"), (std::vector<std::string>{"alpha", "2", "2", "1", "1", "0", "6"}))
      << result.output;
  EXPECT_EQ(first_row_of(result, "beta"), (std::vector<std::string>{"beta", "0", "0", "0", "0", "1", "1"}));
  EXPECT_EQ(first_row_of(result, "(all)"), (std::vector<std::string>{"(all)", "2", "2", "1", "1", "1", "7"}));

  const std::string fresh_line = line_with(result, ids[0]);
  EXPECT_NE(fresh_line.find("hostA:11"), std::string::npos) << fresh_line;
  EXPECT_NE(fresh_line.find("method=simclr seed=0"), std::string::npos) << fresh_line;
  EXPECT_EQ(fresh_line.find("stale"), std::string::npos) << fresh_line;
  const std::vector<std::string> stale_words = words(line_with(result, ids[1]));
  ASSERT_GE(stale_words.size(), 3u);
  EXPECT_EQ(stale_words.back(), "stale") << result.output;
  EXPECT_EQ(stale_words[stale_words.size() - 2], "3") << "resumed_from_epoch\n" << result.output;
  EXPECT_NE(line_with(result, ids[1]).find("hostB:22"), std::string::npos);

  const std::string failed_line = line_with(result, ids[3]);
  EXPECT_NE(failed_line.find("failed: data: cannot read batch 7"), std::string::npos) << failed_line;
  EXPECT_EQ(result.output.find("stack trace"), std::string::npos) << result.output;
  EXPECT_NE(line_with(result, other_ids[0]).find("diverged: train_loss is NaN at epoch 2"), std::string::npos);
  // The finished run is counted, not listed.
  EXPECT_EQ(result.output.find(ids[2]), std::string::npos) << result.output;

  // A threshold longer than the age of the old heartbeat: nothing is stale.
  const BinaryResult patient = run_semharness(dir_, {"status", "--db", db_, "--stale-after", "4000000000"});
  ASSERT_EQ(patient.exit_code, 0) << patient.output;
  EXPECT_EQ(patient.output.find("stale"), std::string::npos) << patient.output;
}

TEST_F(StatusCommandTest, EmptyDatabaseSaysSo) {
  { Store store(db_); }
  const BinaryResult result = run_semharness(dir_, {"status", "--db", db_});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.lines, std::vector<std::string>{db_ + ": no runs"}) << result.output;
}

TEST_F(StatusCommandTest, MissingDatabaseIsBadInput) {
  const std::string missing = (dir_ / "absent.db").string();
  const BinaryResult result = run_semharness(dir_, {"status", "--db", missing});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(result.lines, std::vector<std::string>{"semharness: " + missing + ": no such database"}) << result.output;
  EXPECT_FALSE(fs::exists(missing));

  const BinaryResult negative = run_semharness(dir_, {"status", "--db", missing, "--stale-after", "0"});
  EXPECT_EQ(negative.exit_code, 2) << negative.output;
  EXPECT_EQ(negative.lines.size(), 1u) << negative.output;
}

}  // namespace
}  // namespace semharness
