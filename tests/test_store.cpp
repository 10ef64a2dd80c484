#include <gtest/gtest.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>

#include "harness/config/errors.h"
#include "harness/config/grid.h"
#include "harness/store/store.h"

namespace semharness {
namespace {

namespace fs = std::filesystem;

RunConfig default_config(int64_t seed) {
  RunConfig config = RunConfig::defaults();
  config.seed = seed;
  return config;
}

Grid make_grid(const std::string& name, std::vector<int64_t> seeds) {
  Grid grid;
  grid.name = name;
  grid.file = name + ".ini";
  grid.seeds = seeds;
  for (int64_t seed : seeds) grid.runs.push_back(default_config(seed));
  return grid;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::set<std::string> runs_columns(const fs::path& path) {
  SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
  SQLite::Statement info(db, "PRAGMA table_info(runs)");
  std::set<std::string> columns;
  while (info.executeStep()) columns.insert(info.getColumn("name").getString());
  return columns;
}

// Runs f, expecting an InputError whose message starts with "<path>: " and contains `expected`.
template <typename F>
void expect_input_error(F f, const std::string& path, const std::string& expected) {
  try {
    f();
    FAIL() << "no InputError for " << path;
  } catch (const InputError& e) {
    std::string message = e.what();
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    dir_ = fs::temp_directory_path() /
           ("semharness-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(dir_, ignored);
  }
  std::string db_path(const std::string& name = "runs.db") const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(StoreTest, CreatesParentFoldersAndSchema) {
  std::string path = (dir_ / "a" / "b" / "runs.db").string();
  Store store(path);
  EXPECT_EQ(store.path(), path);
  ASSERT_TRUE(fs::exists(path));
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  for (const char* table : {"meta", "runs", "metrics", "results", "timings"}) {
    EXPECT_TRUE(db.tableExists(table)) << table;
  }
  EXPECT_EQ(db.execAndGet("SELECT value FROM meta WHERE key = 'schema'").getString(), "semharness/1");
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
  std::set<std::string> columns = runs_columns(path);
  for (const KeySpec& key : config_keys()) EXPECT_EQ(columns.count(column_name(key.name)), 1u) << key.name;
  SQLite::Statement index(db, "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ?");
  for (auto [name, table] :
       {std::pair{"metrics_run_id", "metrics"}, {"results_run_id", "results"}, {"runs_cell_id", "runs"}}) {
    index.reset();
    index.bind(1, name);
    ASSERT_TRUE(index.executeStep()) << name;
    EXPECT_EQ(index.getColumn(0).getString(), table);
  }
}

TEST_F(StoreTest, RegisterInsertsOnlyNewRuns) {
  Store store(db_path());
  Grid grid = make_grid("g1", {1, 2});
  EXPECT_EQ(store.register_runs(grid), 2);
  EXPECT_EQ(store.register_runs(grid), 0);
  Grid wider = make_grid("g1", {1, 2, 3});
  EXPECT_EQ(store.register_runs(wider), 1);
  for (const RunConfig& run : wider.runs) EXPECT_EQ(store.status(run.run_id()), "pending");
}

TEST_F(StoreTest, RegisteredRunsSurviveReopening) {
  Grid grid = make_grid("g1", {1, 2});
  {
    Store store(db_path());
    store.register_runs(grid);
  }
  Store reopened(db_path());
  EXPECT_EQ(reopened.register_runs(grid), 0);
  EXPECT_EQ(reopened.runs().size(), 2u);
}

TEST_F(StoreTest, StatusTransitions) {
  Store store(db_path());
  Grid grid = make_grid("g1", {1});
  std::string run_id = grid.runs[0].run_id();
  EXPECT_EQ(store.status(run_id), "");
  store.register_runs(grid);
  EXPECT_EQ(store.status(run_id), "pending");

  store.mark_running(run_id);
  EXPECT_EQ(store.status(run_id), "running");
  RunRecord record = store.runs()[0];
  EXPECT_FALSE(record.started_at.empty());
  EXPECT_TRUE(record.finished_at.empty());

  store.mark_failed(run_id, "out of memory");
  record = store.runs()[0];
  EXPECT_EQ(record.status, "failed");
  EXPECT_EQ(record.error, "out of memory");
  EXPECT_FALSE(record.finished_at.empty());

  store.mark_running(run_id);
  record = store.runs()[0];
  EXPECT_EQ(record.status, "running");
  EXPECT_EQ(record.error, "");

  store.finish_run({run_id, "finished", "", {}, {}, {}});
  EXPECT_EQ(store.status(run_id), "finished");
}

TEST_F(StoreTest, TimestampsAreUtcIso8601) {
  Store store(db_path());
  Grid grid = make_grid("g1", {1});
  store.register_runs(grid);
  std::string created_at = store.runs()[0].created_at;
  ASSERT_EQ(created_at.size(), 20u) << created_at;
  EXPECT_EQ(created_at[4], '-');
  EXPECT_EQ(created_at[10], 'T');
  EXPECT_EQ(created_at[13], ':');
  EXPECT_EQ(created_at.back(), 'Z');
}

TEST_F(StoreTest, UnregisteredRunCannotBeMarked) {
  Store store(db_path());
  EXPECT_THROW(store.mark_running("0123456789abcdef"), std::runtime_error);
  EXPECT_THROW(store.mark_failed("0123456789abcdef", "x"), std::runtime_error);
  EXPECT_THROW(store.finish_run({"0123456789abcdef", "finished", "", {{0, "loss", 1.0}}, {}, {}}), std::runtime_error);
  EXPECT_TRUE(store.metrics("0123456789abcdef").empty());
}

TEST_F(StoreTest, FinishRunRoundTrip) {
  Store store(db_path());
  Grid grid = make_grid("g1", {1, 2});
  store.register_runs(grid);
  std::string run_id = grid.runs[0].run_id();
  std::string other_id = grid.runs[1].run_id();
  store.mark_running(run_id);

  RunOutcome outcome;
  outcome.run_id = run_id;
  outcome.status = "diverged";
  outcome.error = "loss is nan";
  outcome.metrics = {{1, "loss", 0.5}, {0, "loss", 1.5}, {0, "lr", 0.1}};
  outcome.results = {{"ignored", "linear_probe", "sem", 0.1, "val", "top1", 0.75},
                     {"", "knn", "embedding", std::nullopt, "test", "top1", 0.5}};
  outcome.timings = {{"train_step", "cuda", 4, 10.0}, {"probe", "cpu", 0, 3.0}};
  store.finish_run(outcome);

  RunRecord record = store.runs()[0];
  EXPECT_EQ(record.status, "diverged");
  EXPECT_EQ(record.error, "loss is nan");
  EXPECT_FALSE(record.finished_at.empty());

  std::vector<MetricRow> metrics = store.metrics(run_id);
  ASSERT_EQ(metrics.size(), 3u);
  EXPECT_EQ(metrics[0].epoch, 0);
  EXPECT_EQ(metrics[0].name, "loss");
  EXPECT_DOUBLE_EQ(metrics[0].value, 1.5);
  EXPECT_EQ(metrics[1].name, "lr");
  EXPECT_EQ(metrics[2].epoch, 1);
  EXPECT_DOUBLE_EQ(metrics[2].value, 0.5);
  EXPECT_TRUE(store.metrics(other_id).empty());

  std::vector<ResultRow> results = store.results(run_id);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].run_id, run_id);
  EXPECT_EQ(results[0].protocol, "linear_probe");
  EXPECT_EQ(results[0].feature, "sem");
  ASSERT_TRUE(results[0].tau_d.has_value());
  EXPECT_DOUBLE_EQ(*results[0].tau_d, 0.1);
  EXPECT_EQ(results[0].split, "val");
  EXPECT_EQ(results[0].metric, "top1");
  EXPECT_DOUBLE_EQ(results[0].value, 0.75);
  EXPECT_EQ(results[1].run_id, run_id);
  EXPECT_EQ(results[1].protocol, "knn");
  EXPECT_FALSE(results[1].tau_d.has_value());
  EXPECT_EQ(store.results().size(), 2u);
  EXPECT_TRUE(store.results(other_id).empty());

  SQLite::Database db(db_path(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM results WHERE tau_d IS NULL").getInt(), 1);
  SQLite::Statement timings(db, "SELECT run_id, name, device, count, total_ms, mean_ms FROM timings ORDER BY rowid");
  ASSERT_TRUE(timings.executeStep());
  EXPECT_EQ(timings.getColumn(0).getString(), run_id);
  EXPECT_EQ(timings.getColumn(1).getString(), "train_step");
  EXPECT_EQ(timings.getColumn(2).getString(), "cuda");
  EXPECT_EQ(timings.getColumn(3).getInt64(), 4);
  EXPECT_DOUBLE_EQ(timings.getColumn(4).getDouble(), 10.0);
  EXPECT_DOUBLE_EQ(timings.getColumn(5).getDouble(), 2.5);
  ASSERT_TRUE(timings.executeStep());
  EXPECT_EQ(timings.getColumn(1).getString(), "probe");
  EXPECT_DOUBLE_EQ(timings.getColumn(5).getDouble(), 3.0);  // count 0 divides by 1
  EXPECT_FALSE(timings.executeStep());
}

TEST_F(StoreTest, FinishingAgainReplacesRows) {
  Store store(db_path());
  Grid grid = make_grid("g1", {1, 2});
  store.register_runs(grid);
  std::string run_id = grid.runs[0].run_id();
  std::string other_id = grid.runs[1].run_id();
  store.finish_run({other_id,
                    "finished",
                    "",
                    {{0, "loss", 9.0}},
                    {{"", "knn", "sem", 0.5, "val", "top1", 0.1}},
                    {{"step", "cpu", 1, 1.0}}});

  RunOutcome first{run_id,
                   "diverged",
                   "nan",
                   {{0, "loss", 1.0}, {1, "loss", 2.0}},
                   {{"", "knn", "sem", 0.5, "val", "top1", 0.2}},
                   {{"step", "cpu", 2, 4.0}}};
  first.profile = {{"", "cpu", kProfileOperator, kProfileSemPart, "aten::mm", "[[2, 3]]", 3, 6, 1.5, 2.0, 0.25},
                   {"", "cpu", kProfileOperator, kProfileRestPart, kOutsideOperators, "", 3, 0, 0.1, 0.1, 0.01}};
  store.finish_run(first);
  ASSERT_EQ(store.profile("g1").size(), 2u);
  RunOutcome second{run_id,
                    "finished",
                    "",
                    {{0, "loss", 3.0}},
                    {{"", "linear_probe", "backbone", std::nullopt, "test", "top1", 0.9}},
                    {{"step", "cpu", 5, 5.0}}};
  second.profile = {{"", "cuda:0", kProfileKernel, kProfileRestPart, "sgemm", "", 3, 9, 4.0, 4.0, 0.5}};
  store.finish_run(second);

  std::vector<MetricRow> metrics = store.metrics(run_id);
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(metrics[0].value, 3.0);
  std::vector<ResultRow> results = store.results(run_id);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].protocol, "linear_probe");
  EXPECT_EQ(store.status(run_id), "finished");
  EXPECT_EQ(store.runs()[0].error, "");

  SQLite::Database db(db_path(), SQLite::OPEN_READONLY);
  SQLite::Statement timings(db, "SELECT count, mean_ms FROM timings WHERE run_id = ?");
  timings.bind(1, run_id);
  ASSERT_TRUE(timings.executeStep());
  EXPECT_EQ(timings.getColumn(0).getInt64(), 5);
  EXPECT_DOUBLE_EQ(timings.getColumn(1).getDouble(), 1.0);
  EXPECT_FALSE(timings.executeStep());

  const auto profile = store.profile("g1");
  ASSERT_EQ(profile.size(), 1u);
  EXPECT_EQ(profile[0].run_id, run_id);
  EXPECT_EQ(profile[0].device, "cuda:0");
  EXPECT_EQ(profile[0].kind, kProfileKernel);
  EXPECT_EQ(profile[0].part, kProfileRestPart);
  EXPECT_EQ(profile[0].name, "sgemm");
  EXPECT_EQ(profile[0].calls, 9);
  EXPECT_DOUBLE_EQ(profile[0].self_ms, 4.0);
  EXPECT_DOUBLE_EQ(profile[0].step_share, 0.5);
  EXPECT_TRUE(store.profile("g2").empty());

  // The other run's rows are untouched.
  EXPECT_EQ(store.metrics(other_id).size(), 1u);
  EXPECT_EQ(store.results(other_id).size(), 1u);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM timings").getInt(), 2);
}

TEST_F(StoreTest, RunsReturnConfigValues) {
  Store store(db_path());
  Grid first = make_grid("g1", {1, 2});
  Grid second = make_grid("g2", {7});
  // Give g2 a config of its own so that its run_id differs from g1's runs.
  const KeySpec& changed = config_keys().front();
  second.runs[0].values[changed.name] = changed.default_value + "x";
  store.register_runs(first);
  store.register_runs(second);

  std::vector<RunRecord> all = store.runs();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].grid, "g1");
  EXPECT_EQ(all[0].seed, 1);
  EXPECT_EQ(all[1].seed, 2);
  EXPECT_EQ(all[2].grid, "g2");

  std::vector<RunRecord> g1 = store.runs("g1");
  ASSERT_EQ(g1.size(), 2u);
  EXPECT_EQ(g1[0].run_id, first.runs[0].run_id());
  EXPECT_EQ(g1[0].cell_id, first.runs[0].cell_id());
  EXPECT_EQ(g1[0].status, "pending");
  EXPECT_EQ(g1[0].config, first.runs[0].values);

  std::vector<RunRecord> g2 = store.runs("g2");
  ASSERT_EQ(g2.size(), 1u);
  EXPECT_EQ(g2[0].seed, 7);
  EXPECT_EQ(g2[0].config.at(changed.name), changed.default_value + "x");
  EXPECT_EQ(g2[0].config.size(), config_keys().size());
  EXPECT_TRUE(store.runs("nonexistent").empty());
}

TEST_F(StoreTest, EmptyFileCountsAsNew) {
  write_bytes(db_path(), "");
  Store store(db_path());
  EXPECT_EQ(store.register_runs(make_grid("g1", {1})), 1);
}

TEST_F(StoreTest, RejectsFileThatIsNotSQLite) {
  std::string path = db_path();
  write_bytes(path, "hello world");
  expect_input_error([&] { Store store(path); }, path, "not an SQLite database");
  EXPECT_EQ(read_bytes(path), "hello world");

  std::string long_path = db_path("long.db");
  std::string text(4096, 'x');
  write_bytes(long_path, text);
  expect_input_error([&] { Store store(long_path); }, long_path, "not an SQLite database");
  EXPECT_EQ(read_bytes(long_path), text);
}

TEST_F(StoreTest, RejectsDatabaseOfAnotherSchema) {
  std::string path = db_path();
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE foo(x)");
    db.exec("INSERT INTO foo VALUES(1)");
  }
  std::string before = read_bytes(path);
  expect_input_error([&] { Store store(path); }, path, "holds tables of another schema (expected semharness/1)");
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_FALSE(fs::exists(path + "-wal"));

  std::string other = db_path("other.db");
  {
    SQLite::Database db(other, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)");
    db.exec("INSERT INTO meta VALUES('schema', 'otherproject/3')");
  }
  before = read_bytes(other);
  expect_input_error([&] { Store store(other); }, other, "holds tables of another schema");
  EXPECT_EQ(read_bytes(other), before);
}

TEST_F(StoreTest, RejectsUnwritablePaths) {
  std::string proc_path = "/proc/semharness-test.db";
  expect_input_error([&] { Store store(proc_path); }, proc_path, "cannot open database for writing (");

  std::string file = db_path("plain.txt");
  write_bytes(file, "data");
  std::string under_file = file + "/runs.db";
  expect_input_error([&] { Store store(under_file); }, under_file, "cannot open database for writing (");
  EXPECT_EQ(read_bytes(file), "data");

  std::string folder = dir_.string();
  expect_input_error([&] { Store store(folder); }, folder, "cannot open database for writing (");
}

TEST_F(StoreTest, RejectsReadOnlyFileAndFolder) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  std::string path = db_path();
  { Store store(path); }
  std::string before = read_bytes(path);
  fs::permissions(path, fs::perms::owner_read);
  expect_input_error([&] { Store store(path); }, path, "cannot open database for writing (");
  EXPECT_EQ(read_bytes(path), before);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);

  fs::path folder = dir_ / "locked";
  fs::create_directories(folder);
  fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec);
  std::string new_path = (folder / "runs.db").string();
  expect_input_error([&] { Store store(new_path); }, new_path, "cannot open database for writing (");
  EXPECT_FALSE(fs::exists(new_path));

  // A store in a folder that became read-only: WAL mode needs to create files next to the database.
  fs::permissions(folder, fs::perms::owner_all);
  { Store store(new_path); }
  before = read_bytes(new_path);
  fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec);
  expect_input_error([&] { Store store(new_path); }, new_path, "cannot open database for writing (");
  EXPECT_EQ(read_bytes(new_path), before);
  fs::permissions(folder, fs::perms::owner_all);
}

TEST_F(StoreTest, AddsMissingConfigColumnAndKeepsRows) {
  std::string path = db_path();
  const std::string dropped = column_name(config_keys().back().name);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)");
    db.exec("INSERT INTO meta VALUES('schema', 'semharness/1')");
    std::string columns = "run_id TEXT PRIMARY KEY, cell_id TEXT, grid TEXT, status TEXT, seed INTEGER";
    for (const KeySpec& key : config_keys()) {
      if (column_name(key.name) != dropped) columns += ", \"" + column_name(key.name) + "\" TEXT";
    }
    columns += ", created_at TEXT, started_at TEXT, finished_at TEXT, error TEXT";
    db.exec("CREATE TABLE runs(" + columns + ")");
    db.exec("CREATE TABLE metrics(run_id TEXT, epoch INTEGER, name TEXT, value REAL)");
    db.exec(
        "INSERT INTO runs(run_id, cell_id, grid, status, seed) "
        "VALUES('old', 'cell', 'g0', 'finished', 3)");
    db.exec("INSERT INTO metrics VALUES('old', 0, 'loss', 1.25)");
  }
  ASSERT_EQ(runs_columns(path).count(dropped), 0u);

  Store store(path);
  EXPECT_EQ(runs_columns(path).count(dropped), 1u);
  std::vector<RunRecord> records = store.runs();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].run_id, "old");
  EXPECT_EQ(records[0].status, "finished");
  EXPECT_EQ(records[0].seed, 3);
  EXPECT_EQ(records[0].config.at(config_keys().back().name), "");
  ASSERT_EQ(store.metrics("old").size(), 1u);
  EXPECT_DOUBLE_EQ(store.metrics("old")[0].value, 1.25);

  Grid grid = make_grid("g1", {1});
  EXPECT_EQ(store.register_runs(grid), 1);
  EXPECT_EQ(store.runs("g1")[0].config, grid.runs[0].values);
}

}  // namespace
}  // namespace semharness
