// Faults a week-long grid meets, through the binary: a worker killed mid-epoch (its run goes on from its
// checkpoint, finished runs stay as they were), prefetched batches equal to inline ones, two workers on one database,
// --jobs, a full disk while a checkpoint is written, a grid edited between two runs, a diverging run, and the rules
// that decide when a running run has been abandoned.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli_support.h"
#include "harness/config/grid.h"
#include "harness/executors/worker_identity.h"
#include "harness/store/store.h"
#include "harness/train/checkpoint.h"

namespace semharness_resume_test {
namespace {

using namespace semharness_test;
using semharness::RunRecord;
using semharness::Store;

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("resume"); }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_grid(const std::string& file, const std::string& body) {
    write_bytes(dir_ / file, body + kTinySettings);
    return (dir_ / file).string();
  }
  std::string db(const std::string& name) const { return (dir_ / name).string(); }

  static std::map<std::string, RunRecord> runs_by_method(const std::string& path) {
    Store store(path);
    std::map<std::string, RunRecord> runs;
    for (auto& run : store.runs()) runs[run.config.at("method") + "/" + run.config.at("sem")] = run;
    return runs;
  }
  // Every stored number of a run, in a fixed order, printed exactly.
  static std::string numbers_of(const std::string& path, const std::string& run_id) {
    SQLite::Database database(path);
    std::string text;
    for (const char* sql :
         {"SELECT epoch || ' ' || name || ' ' || printf('%.17g', value) FROM metrics WHERE run_id = ? ORDER BY epoch, "
          "name",
          "SELECT protocol || feature || IFNULL(tau_d, '') || split || metric || ' ' || printf('%.17g', value) "
          "FROM results WHERE run_id = ? ORDER BY rowid"}) {
      SQLite::Statement query(database, sql);
      query.bind(1, run_id);
      while (query.executeStep()) text += query.getColumn(0).getString() + "\n";
    }
    return text;
  }

  fs::path dir_;
};

TEST_F(ResumeTest, KilledWorkerLosesOnlyItsRunWhichGoesOnFromItsCheckpoint) {
  const std::string grid = write_grid("kill.ini", "name = kill\nepochs = 4\nmethod = simclr, byol\nsem = on\n");
  {
    BackgroundBinary worker(dir_, {"run", grid, "--db", db("kill.db"), "--device", "cpu"}, "killed.txt");
    ASSERT_TRUE(worker.wait_for_output("method=byol seed=0  epoch 2/4")) << worker.output();
    worker.kill();  // in the middle of epoch 3 of the second run
  }
  auto before = runs_by_method(db("kill.db"));
  ASSERT_EQ(before.at("simclr/on").status, "finished");
  ASSERT_EQ(before.at("byol/on").status, "running");
  const std::string simclr_numbers = numbers_of(db("kill.db"), before.at("simclr/on").run_id);
  const std::string checkpoint = semharness::checkpoint_path(db("kill.db"), before.at("byol/on").run_id);
  ASSERT_TRUE(fs::exists(checkpoint));

  const Result again = run_binary(dir_, {"run", grid, "--db", db("kill.db"), "--device", "cpu"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("2 runs, 1 already done, 1 to run"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("finished (resumed from epoch"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("epoch 1/4"), std::string::npos) << "the killed run started over:\n" << again.output;
  EXPECT_NE(again.output.find("1 resumed from a checkpoint"), std::string::npos) << again.output;

  auto after = runs_by_method(db("kill.db"));
  const RunRecord& simclr = after.at("simclr/on");
  const RunRecord& byol = after.at("byol/on");
  EXPECT_EQ(simclr.attempts, 1);
  EXPECT_EQ(simclr.finished_at, before.at("simclr/on").finished_at);
  EXPECT_EQ(numbers_of(db("kill.db"), simclr.run_id), simclr_numbers);
  EXPECT_EQ(byol.status, "finished");
  EXPECT_EQ(byol.attempts, 2);
  ASSERT_TRUE(byol.resumed_from_epoch.has_value());
  EXPECT_GE(*byol.resumed_from_epoch, 2);
  EXPECT_FALSE(fs::exists(checkpoint));

  // The resumed run equals the same run never interrupted, number for number (CPU runs are deterministic).
  const Result reference =
      run_binary(dir_, {"run", grid, "--db", db("reference.db"), "--device", "cpu", "--task-index", "1"});
  ASSERT_EQ(reference.exit_code, 0) << reference.output;
  const std::string resumed_numbers = numbers_of(db("kill.db"), byol.run_id);
  EXPECT_FALSE(resumed_numbers.empty());
  EXPECT_EQ(resumed_numbers, numbers_of(db("reference.db"), byol.run_id));
}

// Augmentation draws from generators of its own, so making the next batch on the prefetch thread (the
// default) or inline changes no stored number.
TEST_F(ResumeTest, PrefetchedAndInlineBatchesGiveTheSameNumbers) {
  const std::string grid = write_grid("prefetch.ini", "name = prefetch\nepochs = 2\nmethod = byol\nsem = on\n");
  const Result inline_run =
      run_binary(dir_, {"run", grid, "--db", db("inline.db"), "--device", "cpu", "--set", "prefetch=off"});
  ASSERT_EQ(inline_run.exit_code, 0) << inline_run.output;
  const Result prefetched = run_binary(dir_, {"run", grid, "--db", db("prefetch.db"), "--device", "cpu"});
  ASSERT_EQ(prefetched.exit_code, 0) << prefetched.output;
  const std::string run_id = runs_by_method(db("prefetch.db")).at("byol/on").run_id;
  const std::string numbers = numbers_of(db("prefetch.db"), run_id);
  EXPECT_NE(numbers.find("train_loss"), std::string::npos) << numbers;
  EXPECT_EQ(numbers_of(db("inline.db"), run_id), numbers);
}

TEST_F(ResumeTest, TwoProcessesOnOneDatabaseRunEveryRunOnce) {
  const std::string grid = write_grid("two.ini", "name = two\nepochs = 1\nmethod = simclr, byol\nsem = off, on\n");
  BackgroundBinary first(dir_, {"run", grid, "--db", db("two.db"), "--device", "cpu", "--threads", "1"}, "first.txt");
  BackgroundBinary second(dir_, {"run", grid, "--db", db("two.db"), "--device", "cpu", "--threads", "1"}, "second.txt");
  EXPECT_EQ(first.wait(), 0) << first.output();
  EXPECT_EQ(second.wait(), 0) << second.output();
  std::set<std::string> workers;
  for (const auto& [name, run] : runs_by_method(db("two.db"))) {
    EXPECT_EQ(run.status, "finished") << name;
    EXPECT_EQ(run.attempts, 1) << name;
    workers.insert(run.worker);
  }
  EXPECT_EQ(runs_by_method(db("two.db")).size(), 4u);
  const std::string both = first.output() + second.output();
  size_t finished_lines = 0;
  for (size_t at = both.find(": probe top-1"); at != std::string::npos; at = both.find(": probe top-1", at + 1))
    ++finished_lines;
  EXPECT_EQ(finished_lines, 4u) << both;
  EXPECT_EQ(workers.size(), 2u) << "one process ran every run:\n" << both;
}

TEST_F(ResumeTest, JobsRunsWorkerProcessesSideBySide) {
  const std::string grid = write_grid("jobs.ini", "name = jobs\nepochs = 1\nmethod = simclr, byol\nsem = off, on\n");
  const Result result = run_binary(dir_, {"run", grid, "--db", db("jobs.db"), "--device", "cpu", "--jobs", "2"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("2 workers on cpu (1 threads each)"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("4 finished, 0 diverged, 0 failed, 0 still pending or running"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("method"), std::string::npos);  // the table
  std::set<std::string> workers;
  for (const auto& [name, run] : runs_by_method(db("jobs.db"))) {
    EXPECT_EQ(run.status, "finished") << name;
    EXPECT_EQ(run.attempts, 1) << name;
    workers.insert(run.worker);
  }
  EXPECT_EQ(workers.size(), 2u) << result.output;
}

TEST_F(ResumeTest, FullDiskWhileCheckpointingFailsTheRunAndKeepsTheDatabase) {
  const std::string grid = write_grid("full.ini", "name = full\nepochs = 2\nmethod = simclr, byol\nsem = on\n");
  const auto runs = semharness::load_grid(grid).runs;
  const std::string simclr_id = runs.at(0).run_id();
  ASSERT_EQ(runs.at(0).str("method"), "simclr");
  // The checkpoint is written to PATH.tmp first: pointing that at /dev/full makes every write fail ENOSPC.
  const std::string checkpoint = semharness::checkpoint_path(db("full.db"), simclr_id);
  fs::create_directories(fs::path(checkpoint).parent_path());
  fs::create_symlink("/dev/full", checkpoint + ".tmp");

  const Result result = run_binary(dir_, {"run", grid, "--db", db("full.db"), "--device", "cpu"});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("failed: cannot write checkpoint"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("No space left on device"), std::string::npos) << result.output;
  auto stored = runs_by_method(db("full.db"));
  EXPECT_EQ(stored.at("simclr/on").status, "failed");
  EXPECT_NE(stored.at("simclr/on").error.find("No space left on device"), std::string::npos)
      << stored.at("simclr/on").error;
  EXPECT_EQ(stored.at("byol/on").status, "finished");  // the grid went on
  {
    SQLite::Database database(db("full.db"));
    EXPECT_EQ(database.execAndGet("PRAGMA integrity_check").getString(), "ok");
  }
  EXPECT_FALSE(fs::exists(checkpoint));

  // Space again: the failed run is taken up by the next run.
  const Result again = run_binary(dir_, {"run", grid, "--db", db("full.db"), "--device", "cpu"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(runs_by_method(db("full.db")).at("simclr/on").status, "finished");
  EXPECT_EQ(runs_by_method(db("full.db")).at("simclr/on").attempts, 2);
}

TEST_F(ResumeTest, EditedGridAddsCellsAndKeepsFinishedOnes) {
  const std::string grid = write_grid("edit.ini", "name = edit\nepochs = 1\nmethod = simclr\nsem = on\n");
  ASSERT_EQ(run_binary(dir_, {"run", grid, "--db", db("edit.db"), "--device", "cpu"}).exit_code, 0);
  const RunRecord first = runs_by_method(db("edit.db")).at("simclr/on");
  {
    Store store(db("edit.db"));
    const auto provenance = store.provenance(first.run_id);
    for (const char* key : {"git_commit", "libtorch_version", "cpu_model", "host", "command_line", "started_at",
                            "finished_at", "peak_rss_mib"}) {
      EXPECT_TRUE(provenance.count(key) && !provenance.at(key).empty()) << key;
    }
    EXPECT_NE(provenance.at("command_line").find("run"), std::string::npos);
    EXPECT_GT(std::stod(provenance.at("peak_rss_mib")), 10.0);
  }

  write_grid("edit.ini", "name = edit\nepochs = 1\nmethod = simclr, byol\nsem = on\n");
  const Result edited = run_binary(dir_, {"run", grid, "--db", db("edit.db"), "--device", "cpu"});
  ASSERT_EQ(edited.exit_code, 0) << edited.output;
  EXPECT_NE(edited.output.find("2 runs, 1 already done, 1 to run"), std::string::npos) << edited.output;
  const auto runs = runs_by_method(db("edit.db"));
  EXPECT_EQ(runs.at("simclr/on").finished_at, first.finished_at);
  EXPECT_EQ(runs.at("simclr/on").attempts, 1);
  EXPECT_EQ(runs.at("byol/on").status, "finished");

  const Result nothing = run_binary(dir_, {"run", grid, "--db", db("edit.db"), "--device", "cpu"});
  ASSERT_EQ(nothing.exit_code, 0) << nothing.output;
  EXPECT_NE(nothing.output.find("nothing to run: every run of grid 'edit' is finished or diverged"), std::string::npos)
      << nothing.output;
}

TEST_F(ResumeTest, DivergingRunIsMarkedWithItsEpochAndTheGridGoesOn) {
  const std::string grid = write_grid("nan.ini", "name = nan\nepochs = 2\nmethod = simclr, byol\nsem = off\n") + "";
  write_bytes(grid, read_bytes(grid) + "\n[method:simclr]\nlr = 1e30\n");
  const Result result = run_binary(dir_, {"run", grid, "--db", db("nan.db"), "--device", "cpu"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto runs = runs_by_method(db("nan.db"));
  EXPECT_EQ(runs.at("simclr/off").status, "diverged");
  EXPECT_NE(runs.at("simclr/off").error.find("in epoch"), std::string::npos) << runs.at("simclr/off").error;
  EXPECT_EQ(runs.at("byol/off").status, "finished");
}

TEST(AbandonedRunTest, DeadLocalWorkersAndStaleHeartbeatsOnly) {
  RunRecord run;
  run.status = "running";
  run.heartbeat_at = "2999-01-01T00:00:00Z";  // fresh (in the future)
  run.worker = semharness::this_worker();
  EXPECT_FALSE(semharness::is_abandoned(run, 300)) << "this test process is alive";

  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  run.worker = semharness::host_name() + ":" + std::to_string(child);
  EXPECT_TRUE(semharness::is_abandoned(run, 300)) << "its worker is gone";

  run.worker = "some-other-host.example:1";
  EXPECT_FALSE(semharness::is_abandoned(run, 300)) << "another host's worker with a fresh heartbeat";
  run.heartbeat_at = "2000-01-01T00:00:00Z";
  EXPECT_TRUE(semharness::is_abandoned(run, 300)) << "a heartbeat older than the timeout";
  run.heartbeat_at = "";
  EXPECT_TRUE(semharness::is_abandoned(run, 300));
}

TEST(AbandonedRunTest, ClaimsSkipLiveRunsAndTakeAbandonedOnes) {
  const fs::path dir = make_temp_dir("claims");
  write_bytes(dir / "claims.ini", std::string("name = claims\nmethod = simclr, byol\n") + kTinySettings);
  const auto grid = semharness::load_grid((dir / "claims.ini").string());
  Store store((dir / "claims.db").string());
  store.register_runs(grid);
  std::vector<std::string> ids;
  for (const auto& run : grid.runs) ids.push_back(run.run_id());
  const auto never = [](const RunRecord&) { return false; };
  const auto always = [](const RunRecord&) { return true; };

  EXPECT_EQ(store.claim_next(ids, "a:1", never), ids[0]);
  EXPECT_EQ(store.claim_next(ids, "b:2", never), ids[1]);
  EXPECT_EQ(store.claim_next(ids, "c:3", never), std::nullopt) << "both runs are held by live workers";
  EXPECT_EQ(store.claim_next(ids, "c:3", always), ids[0]) << "an abandoned run is taken over";
  const auto runs = store.runs("claims");
  EXPECT_EQ(runs[0].worker, "c:3");
  EXPECT_EQ(runs[0].attempts, 2);
  EXPECT_EQ(runs[1].worker, "b:2");
  EXPECT_EQ(store.claim_next(ids, "c:3", always, {ids[0], ids[1]}), std::nullopt) << "skipped runs stay";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace semharness_resume_test
