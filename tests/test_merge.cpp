// Folding shard databases into a main database (harness/store/merge.h), the sbatch scripts of `semharness
// slurm` (harness/config/slurm_script.h), and the merge and slurm commands of build/semharness.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"
#include "harness/config/errors.h"
#include "harness/config/grid.h"
#include "harness/config/slurm_script.h"
#include "harness/store/merge.h"
#include "harness/store/store.h"
#include "test_paths.h"

namespace semharness {
namespace {

namespace fs = std::filesystem;

using semharness_test::read_bytes;
using semharness_test::Result;
using semharness_test::run_binary;
using semharness_test::write_bytes;

// Every row of the tables merge writes, as text in a fixed order: equal dumps, equal contents.
std::string dump(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::string text;
  for (const char* table : {"runs", "metrics", "results", "timings", "provenance"}) {
    SQLite::Statement query(db, std::string("SELECT * FROM ") + table + " ORDER BY rowid");
    while (query.executeStep()) {
      text += table;
      for (int c = 0; c < query.getColumnCount(); ++c) {
        text += "|" + (query.getColumn(c).isNull() ? std::string("NULL") : query.getColumn(c).getString());
      }
      text += "\n";
    }
  }
  return text;
}

int64_t count(const std::string& path, const std::string& sql) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getInt64();
}

RunOutcome outcome(const std::string& run_id, const std::string& status, double value) {
  RunOutcome result;
  result.run_id = run_id;
  result.status = status;
  if (status == "diverged") result.error = "loss is nan";
  result.metrics = {{0, "train_loss", value}, {1, "train_loss", value / 2}};
  result.results = {{"", "linear_probe", "backbone", std::nullopt, "test", "top1", value * 10},
                    {"", "linear_probe", "sem", 0.1, "test", "top1", value * 11}};
  result.timings = {{"forward", "cpu", 4, value * 100}};
  return result;
}

class MergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    dir_ = fs::temp_directory_path() /
           ("semharness-merge-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    fs::create_directories(dir_);
    grid_file_ = (dir_ / "g.ini").string();
    write_bytes(grid_file_, "name = g\ndataset = synthetic\nepochs = 1\nseeds = 0,1,2,3\n");
    grid_ = load_grid(grid_file_);
    ASSERT_EQ(grid_.runs.size(), 4u);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string run_id(size_t index) const { return grid_.runs.at(index).run_id(); }

  // A shard as `run --task-index` leaves it: only the given runs of the grid registered.
  Grid share(std::vector<size_t> indices) const {
    Grid part = grid_;
    part.runs.clear();
    for (size_t i : indices) part.runs.push_back(grid_.runs.at(i));
    return part;
  }

  // Shard a: run 0 finished (with provenance), run 1 left running. Shard b: run 2 finished, run 3 diverged.
  void make_shards() {
    Store a(path("a.db"));
    a.register_runs(share({0, 1}));
    a.finish_run(outcome(run_id(0), "finished", 1.0));
    a.set_provenance(run_id(0), {{"git_commit", "abc123"}, {"device", "cpu"}});
    a.mark_running(run_id(1));
    Store b(path("b.db"));
    b.register_runs(share({2, 3}));
    b.finish_run(outcome(run_id(2), "finished", 2.0));
    b.finish_run(outcome(run_id(3), "diverged", 3.0));
  }

  fs::path dir_;
  std::string grid_file_;
  Grid grid_;
};

void expect_counts(const MergeCounts& counts, int merged, int already_present, int unfinished) {
  EXPECT_EQ(counts.merged, merged);
  EXPECT_EQ(counts.already_present, already_present);
  EXPECT_EQ(counts.unfinished, unfinished);
}

TEST_F(MergeTest, TwoShardsIntoMainHoldEveryRunOnceAndASecondMergeChangesNothing) {
  make_shards();
  const std::string main_path = path("main.db");
  {
    Store main(main_path);
    main.register_runs(grid_);
    expect_counts(merge_shard(main, path("a.db")), 1, 0, 1);
    expect_counts(merge_shard(main, path("b.db")), 2, 0, 0);
  }
  EXPECT_EQ(count(main_path, "SELECT COUNT(*) FROM runs"), 4);
  EXPECT_EQ(count(main_path, "SELECT COUNT(DISTINCT run_id) FROM runs"), 4);
  {
    Store main(main_path);
    const auto runs = main.runs("g");
    ASSERT_EQ(runs.size(), 4u);
    // Registration order is kept: the merged rows replace the pending ones in place.
    for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].run_id, run_id(i));
    EXPECT_EQ(runs[0].status, "finished");
    EXPECT_EQ(runs[1].status, "pending");  // running in its shard: main keeps its own row
    EXPECT_EQ(runs[2].status, "finished");
    EXPECT_EQ(runs[3].status, "diverged");
    EXPECT_EQ(runs[3].error, "loss is nan");
    EXPECT_EQ(runs[0].config, grid_.runs[0].values);
    EXPECT_FALSE(runs[0].finished_at.empty());

    const auto metrics = main.metrics(run_id(0));
    ASSERT_EQ(metrics.size(), 2u);
    EXPECT_EQ(metrics[1].value, 0.5);
    ASSERT_EQ(main.results(run_id(2)).size(), 2u);
    EXPECT_EQ(*main.results(run_id(2))[1].tau_d, 0.1);
    EXPECT_EQ(main.provenance(run_id(0)).at("git_commit"), "abc123");
    EXPECT_EQ(count(main_path, "SELECT COUNT(*) FROM timings"), 3);
    EXPECT_EQ(count(main_path, "SELECT total_ms FROM timings WHERE run_id = '" + run_id(3) + "'"), 300);
  }

  const std::string before = dump(main_path);
  {
    Store main(main_path);
    expect_counts(merge_shard(main, path("a.db")), 0, 1, 1);
    expect_counts(merge_shard(main, path("b.db")), 0, 2, 0);
  }
  EXPECT_EQ(dump(main_path), before);
}

TEST_F(MergeTest, RegistersRunsMainLacksAndStartsUnfinishedOnesAsPending) {
  make_shards();
  const std::string main_path = path("empty-main.db");
  {
    Store main(main_path);
    expect_counts(merge_shard(main, path("a.db")), 1, 0, 1);
  }
  Store main(main_path);
  const auto runs = main.runs("g");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].run_id, run_id(0));
  EXPECT_EQ(runs[0].status, "finished");
  EXPECT_EQ(runs[1].run_id, run_id(1));
  EXPECT_EQ(runs[1].status, "pending");
  EXPECT_EQ(runs[1].config, grid_.runs[1].values);
  EXPECT_EQ(runs[1].seed, 1);
  EXPECT_TRUE(runs[1].started_at.empty());
  EXPECT_TRUE(runs[1].worker.empty());
  EXPECT_EQ(runs[1].attempts, 0);
}

TEST_F(MergeTest, FinishedRunInMainIsNotOverwrittenButAFailedOneIs) {
  make_shards();
  const std::string main_path = path("main.db");
  Store main(main_path);
  main.register_runs(grid_);
  main.finish_run(outcome(run_id(0), "finished", 7.0));
  main.mark_failed(run_id(2), "out of memory");
  main.finish_run(outcome(run_id(3), "diverged", 9.0));
  const std::string before = dump(main_path);

  expect_counts(merge_shard(main, path("a.db")), 0, 1, 1);
  EXPECT_EQ(dump(main_path), before);
  EXPECT_EQ(main.metrics(run_id(0))[0].value, 7.0);

  expect_counts(merge_shard(main, path("b.db")), 1, 1, 0);
  EXPECT_EQ(main.status(run_id(2)), "finished");
  EXPECT_EQ(main.metrics(run_id(2))[0].value, 2.0);
  EXPECT_EQ(main.metrics(run_id(3))[0].value, 9.0);
  EXPECT_EQ(count(main_path, "SELECT COUNT(*) FROM runs WHERE error = 'out of memory'"), 0);
}

TEST_F(MergeTest, ShardThatIsNotSQLiteIsRefusedUntouched) {
  const std::string main_path = path("main.db");
  Store main(main_path);
  main.register_runs(grid_);
  const std::string before = dump(main_path);
  const std::string notes = path("notes.db");
  const std::string text = "these are notes, not an SQLite database\n";
  write_bytes(notes, text);
  try {
    merge_shard(main, notes);
    FAIL() << "no InputError for " << notes;
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(notes + ": ", 0), 0u) << message;
    EXPECT_NE(message.find("not an SQLite database"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_EQ(read_bytes(notes), text);
  EXPECT_FALSE(fs::exists(notes + "-wal"));
  EXPECT_FALSE(fs::exists(notes + "-journal"));
  EXPECT_EQ(dump(main_path), before);
}

TEST_F(MergeTest, MissingShardAndMainAsItsOwnShardAreRefused) {
  Store main(path("main.db"));
  const std::string missing = path("no-such-task.db");
  EXPECT_THROW(merge_shard(main, missing), InputError);
  EXPECT_FALSE(fs::exists(missing));
  try {
    merge_shard(main, path("main.db"));
    FAIL() << "merged the main database into itself";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("main database itself"), std::string::npos) << e.what();
  }
}

TEST(SlurmScript, ArraySpecCompressesRuns) {
  EXPECT_EQ(array_spec({0, 1, 2, 3, 7, 9, 10}), "0-3,7,9-10");
  EXPECT_EQ(array_spec({5}), "5");
  EXPECT_EQ(array_spec({0, 2, 4}), "0,2,4");
  EXPECT_EQ(array_spec({3, 4}), "3-4");
  EXPECT_EQ(array_spec({}), "");
}

TEST(SlurmScript, ShellQuote) {
  EXPECT_EQ(shell_quote("/data/run-1.db"), "/data/run-1.db");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("$HOME"), "'$HOME'");
  EXPECT_EQ(shell_quote(""), "''");
}

class SlurmScriptTest : public MergeTest {
 protected:
  SlurmJob job() const {
    SlurmJob job;
    job.grid_name = "g";
    job.binary = (dir_ / "fake semharness").string();
    job.grid_file = (dir_ / "my grid's.ini").string();
    job.overrides = {"sem.L=8", "method=simclr, byol"};
    job.main_db = (dir_ / "main $db.db").string();
    job.shards_dir = (dir_ / "50% shards").string();
    job.workdir = dir_.string();
    job.indices = {0, 1, 2, 5};
    job.max_parallel = 2;
    return job;
  }

  // Runs a script with bash, the binary replaced by one that prints its arguments one per line.
  std::string run_script(const std::string& script, const std::string& environment) {
    write_bytes(dir_ / "fake semharness", "#!/bin/sh\nprintf '<%s>\\n' \"$@\"\n");
    fs::permissions(dir_ / "fake semharness", fs::perms::owner_all);
    write_bytes(dir_ / "script.sh", script);
    const std::string output = (dir_ / "output.txt").string();
    const std::string command =
        environment + " bash " + shell_quote((dir_ / "script.sh").string()) + " > " + shell_quote(output) + " 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << read_bytes(output);
    return read_bytes(output);
  }
};

TEST_F(SlurmScriptTest, ArrayScript) {
  SlurmJob j = job();
  std::string script = array_script(j);
  EXPECT_NE(script.find("\n#SBATCH --array=0-2,5%2\n"), std::string::npos) << script;
  EXPECT_NE(script.find("\n#SBATCH --output=\"" + dir_.string() + "/50%% shards/task-%a.log\"\n"), std::string::npos)
      << script;
  for (const char* absent : {"--partition", "--gpus-per-task", "--cpus-per-task", "--time", "--threads"}) {
    EXPECT_EQ(script.find(absent), std::string::npos) << absent << " in\n" << script;
  }
  EXPECT_EQ(run_script(script, "SLURM_ARRAY_TASK_ID=5"),
            "<run>\n<" + j.grid_file + ">\n<--set>\n<sem.L=8>\n<--set>\n<method=simclr, byol>\n<--db>\n<" +
                j.shards_dir + "/task-5.db>\n<--task-index>\n<5>\n");

  j.partition = "gpu";
  j.gpus_per_task = "a100:1";
  j.cpus_per_task = "4";
  j.time = "1-00:00:00";
  j.max_parallel = 0;
  script = array_script(j);
  for (const char* line :
       {"\n#SBATCH --array=0-2,5\n", "\n#SBATCH --partition=gpu\n", "\n#SBATCH --gpus-per-task=a100:1\n",
        "\n#SBATCH --cpus-per-task=4\n", "\n#SBATCH --time=1-00:00:00\n", " --threads 4\n"}) {
    EXPECT_NE(script.find(line), std::string::npos) << line << " missing from\n" << script;
  }
}

TEST_F(SlurmScriptTest, MergeScriptMergesEveryShardThenReports) {
  const SlurmJob j = job();
  fs::create_directories(j.shards_dir);
  for (const char* name : {"task-0.db", "task-5.db", "task-5.db-wal", "g.sbatch"})
    write_bytes(fs::path(j.shards_dir) / name, "");
  fs::create_directories(fs::path(j.shards_dir) / "task-0.db.checkpoints");
  EXPECT_EQ(run_script(merge_script(j), ""), "<merge>\n<" + j.shards_dir + "/task-0.db>\n<" + j.shards_dir +
                                                 "/task-5.db>\n<--db>\n<" + j.main_db + ">\n<report>\n<--db>\n<" +
                                                 j.main_db + ">\n<--grid>\n<g>\n");
}

TEST_F(MergeTest, MergeCommandPrintsOneLinePerShardAndATotal) {
  make_shards();
  const std::string main_path = path("main.db");
  const Result result = run_binary(dir_, {"merge", path("a.db"), path("b.db"), "--db", main_path});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::vector<std::string> lines;
  std::istringstream stream(result.output);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << result.output;
  EXPECT_EQ(lines[0], path("a.db") + "  1 merged  0 already present  1 unfinished  0 with stored features");
  EXPECT_EQ(lines[1], path("b.db") + "  2 merged  0 already present  0 unfinished  0 with stored features");
  EXPECT_EQ(lines[2].rfind("total (2 shards) ", 0), 0u) << lines[2];
  EXPECT_EQ(lines[2].size(), lines[0].size()) << result.output;  // aligned
  EXPECT_NE(lines[2].find("  3 merged  0 already present  1 unfinished"), std::string::npos) << lines[2];
  EXPECT_EQ(count(main_path, "SELECT COUNT(*) FROM runs"), 4);
}

// The stored features of a merged run travel with it (bound check and coherence read them next to the main
// database); an incomplete set (no meta.json) and the features of a run main already finished do not.
TEST_F(MergeTest, StoredFeaturesOfMergedRunsAreCopiedNextToMain) {
  make_shards();
  const fs::path shard_sets = path("b.db") + ".artifacts";
  write_bytes(shard_sets / run_id(2) / "meta.json", "{\"run_id\": \"2\"}");
  write_bytes(shard_sets / run_id(2) / "train_h.npy", "features");
  write_bytes(shard_sets / run_id(3) / "train_h.npy", "no meta.json: incomplete");
  const std::string main_path = path("main.db");
  Store main(main_path);
  const MergeCounts counts = merge_shard(main, path("b.db"));
  EXPECT_EQ(counts.merged, 2);
  EXPECT_EQ(counts.artifacts, 1);
  const fs::path copied = fs::path(main_path + ".artifacts") / run_id(2);
  EXPECT_EQ(read_bytes(copied / "train_h.npy"), "features");
  EXPECT_EQ(read_bytes(copied / "meta.json"), "{\"run_id\": \"2\"}");
  EXPECT_FALSE(fs::exists(fs::path(main_path + ".artifacts") / run_id(3)));
  EXPECT_FALSE(fs::exists(copied.string() + ".partial"));
  // Main has the run now: merging again copies nothing, even when the shard's set changed.
  write_bytes(shard_sets / run_id(2) / "train_h.npy", "changed");
  EXPECT_EQ(merge_shard(main, path("b.db")).artifacts, 0);
  EXPECT_EQ(read_bytes(copied / "train_h.npy"), "features");
}

TEST_F(MergeTest, MergeCommandWithABadShardChangesNothing) {
  make_shards();
  const std::string main_path = path("main.db");
  {
    Store main(main_path);
    main.register_runs(grid_);
  }
  const std::string before = read_bytes(main_path);
  const std::string notes = path("notes.db");
  write_bytes(notes, "not a database\n");
  const Result result = run_binary(dir_, {"merge", path("a.db"), notes, "--db", main_path});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(result.output, "semharness: " + notes + ": not an SQLite database\n");
  EXPECT_EQ(read_bytes(main_path), before);
  EXPECT_EQ(read_bytes(notes), "not a database\n");

  const Result none = run_binary(dir_, {"merge", "--db", main_path});
  EXPECT_EQ(none.exit_code, 2) << none.output;
}

TEST_F(MergeTest, SlurmCommandWritesAnArrayOfTheUnfinishedRuns) {
  const std::string main_path = path("main.db");
  {
    Store main(main_path);
    const Grid grid = load_grid(grid_file_, {"epochs=2"});
    main.register_runs(grid);
    main.finish_run(outcome(grid.runs[1].run_id(), "finished", 1.0));
    main.finish_run(outcome(grid.runs[2].run_id(), "diverged", 1.0));
  }
  Result result = run_binary(dir_, {"slurm", grid_file_, "--db", main_path, "--set", "epochs=2", "--max-parallel", "3",
                                    "--partition", "debug"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const fs::path shards = dir_ / "main.db.shards" / "g";
  EXPECT_NE(result.output.find("2 of 4 runs not finished in " + main_path + ": array 0,3%3\n"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("sbatch --dependency=afterany:$JOBID " + (shards / "g.merge.sbatch").string()),
            std::string::npos)
      << result.output;
  const std::string script = read_bytes(shards / "g.sbatch");
  EXPECT_NE(script.find("\n#SBATCH --array=0,3%3\n"), std::string::npos) << script;
  EXPECT_NE(script.find("\n#SBATCH --partition=debug\n"), std::string::npos) << script;
  EXPECT_NE(script.find(" --set epochs=2 "), std::string::npos) << script;
  EXPECT_TRUE(fs::exists(shards / "g.merge.sbatch"));

  // With other overrides the grid's runs are other runs: all four are to do; registering them is all it stores.
  result = run_binary(dir_, {"slurm", grid_file_, "--db", main_path, "--shards", path("other")});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("4 of 4 runs not finished"), std::string::npos) << result.output;
  EXPECT_TRUE(fs::exists(path("other") + "/g.sbatch"));

  {
    Store main(main_path);
    for (const RunConfig& run : load_grid(grid_file_, {"epochs=2"}).runs) {
      if (main.status(run.run_id()) == "pending") main.finish_run(outcome(run.run_id(), "finished", 1.0));
    }
  }
  result = run_binary(dir_, {"slurm", grid_file_, "--db", main_path, "--set", "epochs=2"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "grid 'g': all 4 runs are finished in " + main_path + "; nothing to submit\n");

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--max-parallel", "0"}, {"--partition", "a b"}, {"--cpus-per-task", "0"}}) {
    std::vector<std::string> args = {"slurm", grid_file_, "--db", main_path};
    args.insert(args.end(), bad.begin(), bad.end());
    const std::string before = read_bytes(main_path);
    result = run_binary(dir_, args);
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_NE(result.output.find(bad[0]), std::string::npos) << result.output;
    EXPECT_EQ(read_bytes(main_path), before);
  }
}

}  // namespace
}  // namespace semharness
