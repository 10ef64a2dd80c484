// End-to-end tests of build/semharness: exit codes, one-line error messages, databases left untouched by bad
// input, --help, and a tiny grid run through the binary and read back from SQLite.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "cli_support.h"
#include "harness/config/key_docs.h"
#include "harness/store/store.h"
#include "test_paths.h"

namespace semharness_cli_test {
namespace {

namespace fs = std::filesystem;
using namespace semharness_test;

// The grid of the end-to-end test: both methods, with and without SEM.
std::string e2e_grid(const std::string& name) {
  return "name = " + name + "\nepochs = 2\nmethod = simclr, byol\nsem = off, on\n" + kTinySettings;
}

// 16-byte IDX images header (or 8-byte labels header when rows == 0).
std::string idx_header(uint32_t magic, uint32_t count, uint32_t rows = 0, uint32_t cols = 0) {
  std::string bytes;
  auto put = [&](uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((value >> shift) & 0xff);
  };
  put(magic);
  put(count);
  if (rows != 0) {
    put(rows);
    put(cols);
  }
  return bytes;
}

std::string idx_images(uint32_t claimed, uint32_t present) {
  return idx_header(0x00000803, claimed, 28, 28) + std::string(size_t{present} * 28 * 28, '\x40');
}

std::string idx_labels(uint32_t count) { return idx_header(0x00000801, count) + std::string(count, '\x03'); }

class CliTest : public ::testing::Test {
 protected:
  // One tiny real run makes the database that the bad-input tests copy.
  static void SetUpTestSuite() {
    suite_dir_ = make_temp_dir("suite");
    finished_db_ = suite_dir_ / "finished.db";
    const fs::path grid = suite_dir_ / "one.ini";
    write_bytes(grid, std::string("name = one\nepochs = 1\nmethod = simclr\nsem = on\n") + kTinySettings);
    setup_result_ = run_binary(suite_dir_, {"run", grid.string(), "--db", finished_db_.string(), "--device", "cpu"});
  }

  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(suite_dir_, ignored);
  }

  void SetUp() override {
    ASSERT_EQ(setup_result_.exit_code, 0) << setup_result_.output;
    ASSERT_TRUE(fs::is_regular_file(finished_db_));
    {
      SQLite::Database db(finished_db_.string(), SQLite::OPEN_READONLY);
      ASSERT_EQ(db.execAndGet("SELECT COUNT(*) FROM runs WHERE status = 'finished'").getInt(), 1);
    }
    dir_ = make_temp_dir("case");
    db_ = dir_ / "copy.db";
    fs::copy_file(finished_db_, db_);
    db_bytes_ = read_bytes(db_);
    ASSERT_GT(db_bytes_.size(), 0u);
    // A valid grid file the bad-input cases start from.
    grid_ = dir_ / "tiny.ini";
    write_bytes(grid_, std::string("name = tiny\nepochs = 1\nmethod = simclr\n") + kTinySettings);
  }

  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  Result run(const std::vector<std::string>& args) { return run_binary(dir_, args); }

  // Bad input: exit 2, one non-empty line of output naming every one of `mentions`, the copied database
  // byte-for-byte as it was.
  void expect_bad_input(const std::vector<std::string>& args, const std::vector<std::string>& mentions) {
    const Result result = run(args);
    EXPECT_EQ(result.exit_code, 2) << result.output;
    const auto lines = result.non_empty_lines();
    EXPECT_EQ(lines.size(), 1u) << "output:\n" << result.output;
    for (const std::string& mention : mentions) {
      EXPECT_NE(result.output.find(mention), std::string::npos)
          << "expected the message to name '" << mention << "', got:\n"
          << result.output;
    }
    EXPECT_TRUE(read_bytes(db_) == db_bytes_) << db_ << " changed";
  }

  std::string write_grid(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    write_bytes(path, text);
    return path.string();
  }

  static inline fs::path suite_dir_;
  static inline fs::path finished_db_;
  static inline Result setup_result_;
  fs::path dir_, db_, grid_;
  std::string db_bytes_;
};

TEST_F(CliTest, UnknownKeyInGridFile) {
  const std::string grid = write_grid("unknown_key.ini", std::string("bogus_key = 3\n") + kTinySettings);
  expect_bad_input({"run", grid, "--db", db_.string(), "--device", "cpu"}, {grid, "'bogus_key'"});
}

TEST_F(CliTest, MalformedIntegerValue) {
  const std::string grid = write_grid("malformed.ini", "method = simclr\n[sem]\nL = abc\n");
  expect_bad_input({"run", grid, "--db", db_.string(), "--device", "cpu"}, {grid, "sem.L", "abc"});
}

TEST_F(CliTest, ZeroSimplices) {
  const std::string grid = write_grid("zero_l.ini", "dataset = synthetic\n[sem]\nL = 0\n");
  expect_bad_input({"run", grid, "--db", db_.string(), "--device", "cpu"}, {grid, "sem.L", "'0'"});
}

TEST_F(CliTest, ZeroVerticesViaSet) {
  expect_bad_input({"run", grid_.string(), "--db", db_.string(), "--device", "cpu", "--set", "sem.V=0"},
                   {"--set", "sem.V", "'0'"});
}

TEST_F(CliTest, NonPositiveTemperature) {
  const std::string grid = write_grid("tau.ini", "dataset = synthetic\n[sem]\ntau_online = 0\n");
  expect_bad_input({"run", grid, "--db", db_.string(), "--device", "cpu"}, {grid, "sem.tau_online", "'0'"});
}

TEST_F(CliTest, UnknownMethodViaSet) {
  expect_bad_input({"run", grid_.string(), "--db", db_.string(), "--device", "cpu", "--set", "method=swav2"},
                   {"--set", "method", "swav2"});
}

TEST_F(CliTest, MissingGridFile) {
  const std::string grid = (dir_ / "no_such_grid.ini").string();
  expect_bad_input({"run", grid, "--db", db_.string(), "--device", "cpu"}, {grid});
}

TEST_F(CliTest, MissingDatasetFile) {
  const fs::path data_dir = dir_ / "empty_data";
  fs::create_directories(data_dir);
  expect_bad_input({"run", grid_.string(), "--db", db_.string(), "--device", "cpu", "--set", "dataset=fashion_mnist",
                    "--set", "data_dir=" + data_dir.string()},
                   {(data_dir / "train-images-idx3-ubyte").string()});
}

TEST_F(CliTest, TruncatedDatasetFile) {
  const fs::path data_dir = dir_ / "truncated_data";
  fs::create_directories(data_dir);
  // The training images claim 100 images and hold 10; everything else is consistent.
  write_bytes(data_dir / "train-images-idx3-ubyte", idx_images(100, 10));
  write_bytes(data_dir / "train-labels-idx1-ubyte", idx_labels(100));
  write_bytes(data_dir / "t10k-images-idx3-ubyte", idx_images(10, 10));
  write_bytes(data_dir / "t10k-labels-idx1-ubyte", idx_labels(10));
  expect_bad_input({"run", grid_.string(), "--db", db_.string(), "--device", "cpu", "--set", "dataset=fashion_mnist",
                    "--set", "data_dir=" + data_dir.string()},
                   {(data_dir / "train-images-idx3-ubyte").string(), "truncated"});
}

TEST_F(CliTest, TruncatedGzipStream) {
  const fs::path data_dir = dir_ / "cut_gzip_data";
  fs::create_directories(data_dir);
  // A gzipped file whose stream is cut off halfway (an interrupted download).
  const fs::path full = dir_ / "full.gz";
  {
    gzFile file = gzopen(full.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    const std::string images = idx_images(100, 100);
    ASSERT_EQ(gzwrite(file, images.data(), static_cast<unsigned>(images.size())), static_cast<int>(images.size()));
    ASSERT_EQ(gzclose(file), Z_OK);
  }
  const std::string gzipped = read_bytes(full);
  ASSERT_GT(gzipped.size(), 64u);
  write_bytes(data_dir / "train-images-idx3-ubyte.gz", gzipped.substr(0, gzipped.size() / 2));
  write_bytes(data_dir / "train-labels-idx1-ubyte", idx_labels(100));
  write_bytes(data_dir / "t10k-images-idx3-ubyte", idx_images(10, 10));
  write_bytes(data_dir / "t10k-labels-idx1-ubyte", idx_labels(10));
  expect_bad_input({"run", grid_.string(), "--db", db_.string(), "--device", "cpu", "--set", "dataset=fashion_mnist",
                    "--set", "data_dir=" + data_dir.string()},
                   {(data_dir / "train-images-idx3-ubyte.gz").string(), "truncated"});
}

TEST_F(CliTest, UnwritableDatabasePath) {
  // A database under a regular file: its folder cannot be made.
  const fs::path regular = dir_ / "regular.txt";
  write_bytes(regular, "just a file\n");
  const std::string under_file = (regular / "x.db").string();
  expect_bad_input({"run", grid_.string(), "--db", under_file, "--device", "cpu"}, {under_file, "cannot open"});
  EXPECT_EQ(read_bytes(regular), "just a file\n");

  // A path SQLite cannot create.
  expect_bad_input({"run", grid_.string(), "--db", "/proc/x.db", "--device", "cpu"}, {"/proc/x.db", "cannot open"});
  EXPECT_FALSE(fs::exists("/proc/x.db"));
}

TEST_F(CliTest, DatabaseThatIsNotSQLite) {
  const fs::path not_db = dir_ / "notes.db";
  const std::string text = "these are notes, not an SQLite database; semharness must leave them alone\n";
  write_bytes(not_db, text);
  expect_bad_input({"run", grid_.string(), "--db", not_db.string(), "--device", "cpu"},
                   {not_db.string(), "not an SQLite database"});
  EXPECT_EQ(read_bytes(not_db), text);
  EXPECT_FALSE(fs::exists(not_db.string() + "-wal"));
  EXPECT_FALSE(fs::exists(not_db.string() + "-journal"));
}

TEST_F(CliTest, UnknownSubcommand) { expect_bad_input({"frobnicate", "--db", db_.string()}, {"frobnicate"}); }

TEST_F(CliTest, UnknownDevice) {
  expect_bad_input({"run", grid_.string(), "--db", db_.string(), "--device", "tpu"}, {"--device", "tpu"});
}

TEST_F(CliTest, HelpMentionsOptions) {
  const Result top = run({"--help"});
  EXPECT_EQ(top.exit_code, 0) << top.output;
  for (const char* word : {"run", "report", "--db", "--device", "--set", "--grid"}) {
    EXPECT_NE(top.output.find(word), std::string::npos) << word << " missing from:\n" << top.output;
  }

  const Result run_help = run({"run", "--help"});
  EXPECT_EQ(run_help.exit_code, 0) << run_help.output;
  for (const char* word : {"--db", "--device", "--set", "GRID"}) {
    EXPECT_NE(run_help.output.find(word), std::string::npos) << word << " missing from:\n" << run_help.output;
  }

  const Result report_help = run({"report", "--help"});
  EXPECT_EQ(report_help.exit_code, 0) << report_help.output;
  for (const char* word : {"--db", "--grid"}) {
    EXPECT_NE(report_help.output.find(word), std::string::npos) << word << " missing from:\n" << report_help.output;
  }
  // --help does not run anything: no default database appears.
  EXPECT_FALSE(fs::exists(dir_ / "results"));
}

TEST_F(CliTest, ReportOnMissingDatabase) {
  const std::string missing = (dir_ / "nowhere" / "missing.db").string();
  const Result result = run({"report", "--db", missing});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(result.non_empty_lines().size(), 1u) << result.output;
  EXPECT_NE(result.output.find(missing), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(missing));
}

struct ProbeKey {
  std::string protocol, feature;
  double tau_d;  // -1 when NULL
  std::string split, metric;
  bool operator<(const ProbeKey& other) const {
    return std::tie(protocol, feature, tau_d, split, metric) <
           std::tie(other.protocol, other.feature, other.tau_d, other.split, other.metric);
  }
};

TEST_F(CliTest, EndToEndTinyGrid) {
  const std::string grid = write_grid("e2e.ini", e2e_grid("e2e"));
  const fs::path db = dir_ / "e2e" / "runs.db";  // the parent folder is created by the store

  const Result first = run({"run", grid, "--db", db.string(), "--device", "cpu"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("grid 'e2e': 4 runs, 0 already done, 4 to run"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("4 finished, 0 diverged, 0 failed, 0 skipped"), std::string::npos) << first.output;
  // The comparison table: one row per method.
  bool simclr_row = false, byol_row = false;
  for (const std::string& line : first.non_empty_lines()) {
    if (line.rfind("simclr ", 0) == 0) simclr_row = true;
    if (line.rfind("byol ", 0) == 0) byol_row = true;
  }
  EXPECT_TRUE(simclr_row) << first.output;
  EXPECT_TRUE(byol_row) << first.output;
  EXPECT_NE(first.output.find("+SEM"), std::string::npos) << first.output;

  int64_t result_rows = 0;
  {
    SQLite::Database sqlite(db.string(), SQLite::OPEN_READONLY);
    result_rows = sqlite.execAndGet("SELECT COUNT(*) FROM results").getInt64();
    EXPECT_GT(result_rows, 0);

    SQLite::Statement runs(sqlite, "SELECT run_id, method, sem, status, grid FROM runs ORDER BY rowid");
    std::set<std::pair<std::string, std::string>> cells;
    int run_count = 0;
    while (runs.executeStep()) {
      ++run_count;
      const std::string run_id = runs.getColumn(0).getString();
      const std::string method = runs.getColumn(1).getString();
      const std::string sem = runs.getColumn(2).getString();
      SCOPED_TRACE(method + " sem=" + sem);
      EXPECT_EQ(runs.getColumn(3).getString(), "finished");
      EXPECT_EQ(runs.getColumn(4).getString(), "e2e");
      cells.insert({method, sem});

      std::map<ProbeKey, double> values;
      SQLite::Statement results(sqlite,
                                "SELECT protocol, feature, tau_d, split, metric, value FROM results WHERE run_id = ?");
      results.bind(1, run_id);
      while (results.executeStep()) {
        ProbeKey key{results.getColumn(0).getString(), results.getColumn(1).getString(),
                     results.getColumn(2).isNull() ? -1.0 : results.getColumn(2).getDouble(),
                     results.getColumn(3).getString(), results.getColumn(4).getString()};
        EXPECT_TRUE(values.emplace(key, results.getColumn(5).getDouble()).second)
            << "duplicate row " << key.protocol << " " << key.feature << " " << key.tau_d << " " << key.split;
      }
      auto top1 = [&](const std::string& protocol, const std::string& feature, double tau_d,
                      const std::string& split) -> double {
        auto it = values.find(ProbeKey{protocol, feature, tau_d, split, "top1"});
        return it == values.end() ? -1.0 : it->second;
      };

      const double backbone = top1("lbfgs_probe", "backbone", -1, "test");
      EXPECT_GE(backbone, 0.0) << "no backbone probe test top1";
      EXPECT_LE(backbone, 100.0);
      const double knn = top1("knn", "backbone", -1, "test");
      EXPECT_GE(knn, 0.0) << "no knn test top1";
      EXPECT_LE(knn, 100.0);

      if (sem == "on") {
        const double embedding = top1("lbfgs_probe", "embedding", -1, "test");
        EXPECT_GE(embedding, 0.0) << "no embedding probe test top1";
        EXPECT_LE(embedding, 100.0);
        // The SEM probe at the tau_d best on validation (the one the table reports) beats chance (10%) clearly.
        double best_val = -1, sem_test_at_best_val = -1;
        for (double tau_d : {0.01, 0.1, 1.0}) {
          const double test = top1("lbfgs_probe", "sem", tau_d, "test");
          const double val = top1("lbfgs_probe", "sem", tau_d, "val");
          EXPECT_GE(test, 0.0) << "no sem probe test top1 at tau_d " << tau_d;
          EXPECT_LE(test, 100.0);
          EXPECT_GE(val, 0.0) << "no sem probe val top1 at tau_d " << tau_d;
          if (val > best_val) {
            best_val = val;
            sem_test_at_best_val = test;
          }
        }
        EXPECT_GT(sem_test_at_best_val, 30.0) << "SEM probe test top-1 at the best tau_d";
      } else {
        EXPECT_LT(top1("lbfgs_probe", "embedding", -1, "test"), 0.0) << "sem=off run has an embedding probe";
        for (const auto& [key, value] : values) EXPECT_NE(key.feature, "sem") << "sem=off run has a sem probe";
      }
    }
    EXPECT_EQ(run_count, 4);
    const std::set<std::pair<std::string, std::string>> expected_cells{
        {"simclr", "off"}, {"simclr", "on"}, {"byol", "off"}, {"byol", "on"}};
    EXPECT_EQ(cells, expected_cells);
  }

  const Result report = run({"report", "--db", db.string()});
  EXPECT_EQ(report.exit_code, 0) << report.output;
  EXPECT_NE(report.output.find("simclr"), std::string::npos) << report.output;
  EXPECT_NE(report.output.find("byol"), std::string::npos) << report.output;
  // --sections computes only those named, in the report's order; an unknown name is bad input.
  const Result some = run({"report", "--db", db.string(), "--sections", "timings, comparison"});
  EXPECT_EQ(some.exit_code, 0) << some.output;
  const size_t comparison = some.output.find("Baseline vs +SEM"), timings = some.output.find("Timings");
  EXPECT_NE(comparison, std::string::npos) << some.output;
  EXPECT_NE(timings, std::string::npos) << some.output;
  EXPECT_LT(comparison, timings) << some.output;
  EXPECT_EQ(some.output.find("\nRuns\n"), std::string::npos) << some.output;
  EXPECT_EQ(some.output.find("Generalization-bound check"), std::string::npos) << some.output;
  EXPECT_NE(report.output.find("Generalization-bound check"), std::string::npos) << report.output;
  const Result unknown = run({"report", "--db", db.string(), "--sections", "comparison,plots"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("--sections: unknown section 'plots' (expected overview, comparison"),
            std::string::npos)
      << unknown.output;

  const Result again = run({"run", grid, "--db", db.string(), "--device", "cpu"});
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("grid 'e2e': 4 runs, 4 already done, 0 to run"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("0 finished, 0 diverged, 0 failed, 4 skipped"), std::string::npos) << again.output;
  {
    SQLite::Database sqlite(db.string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(sqlite.execAndGet("SELECT COUNT(*) FROM results").getInt64(), result_rows);
    EXPECT_EQ(sqlite.execAndGet("SELECT COUNT(*) FROM runs").getInt64(), 4);
    EXPECT_EQ(sqlite.execAndGet("SELECT COUNT(*) FROM runs WHERE status = 'finished'").getInt64(), 4);
  }
}

}  // namespace
}  // namespace semharness_cli_test

namespace semharness_cli_test {
namespace {

// CIFAR-100 binary records: coarse label, fine label, 3072 pixel bytes.
std::string cifar100_records(int count, uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes;
  for (int i = 0; i < count; ++i) {
    bytes += static_cast<char>(i % 20);
    bytes += static_cast<char>(i % 100);
    for (int p = 0; p < 3072; ++p) bytes += static_cast<char>(random() & 0xff);
  }
  return bytes;
}

// The paper's grid as a user starts it on their CIFAR-100 files: every method x {off, on}, ResNet-18,
// L = 5000, V = 13, the per-method optimizers and heads, one epoch. Small files and one probe epoch keep it
// to a few minutes on 2 cores.
TEST(PaperGridTest, RunsOneEpochOfEveryCellOnCifarFiles) {
  const fs::path dir = make_temp_dir("paper");
  write_bytes(dir / "train.bin", cifar100_records(64, 1));
  write_bytes(dir / "test.bin", cifar100_records(32, 2));
  const Result result = run_binary(
      dir, {"run", SEMHARNESS_SOURCE_DIR "/experiments/paper_cifar100.ini", "--db", (dir / "paper.db").string(),
            "--set", "epochs=1", "--set", "seeds=0", "--set", "probe.epochs=1", "--set", "data_dir=" + dir.string(),
            // One downstream temperature and one penalty: every cell still trains and probes both ways, without
            // six L-BFGS paths over 65,000-dimensional SEM features per run (most of this test's time).
            "--set", "probe.tau_d=1", "--set", "probe.l2=0.001"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("14 finished, 0 diverged, 0 failed"), std::string::npos) << result.output;
  semharness::Store store((dir / "paper.db").string());
  const auto runs = store.runs("paper_cifar100");
  ASSERT_EQ(runs.size(), 14u);
  for (const auto& run : runs) {
    EXPECT_EQ(run.status, "finished") << run.config.at("method") << " " << run.error;
    EXPECT_EQ(run.config.at("backbone"), "resnet18");
    EXPECT_EQ(run.config.at("sem.L"), "5000");
    const auto metrics = store.metrics(run.run_id);
    ASSERT_FALSE(metrics.empty());
    EXPECT_EQ(metrics.front().epoch, 1);
  }
  fs::remove_all(dir);
}

// The command table (harness/cli/commands.cpp), the --help of every command, and `semharness keys`: no
// training, so no shared database.
class CliCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("commands"); }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  Result run(const std::vector<std::string>& args) { return run_binary(dir_, args); }
  // The names of the files in dir_ apart from the captured outputs: what a command left behind.
  std::set<std::string> files_left() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("output-", 0) != 0) names.insert(name);
    }
    return names;
  }

  static inline const std::vector<std::string> kCommands = {"run",    "report", "slurm", "merge", "status",
                                                            "export", "check",  "bench", "keys"};
  fs::path dir_;
};

TEST_F(CliCommandsTest, UnknownCommandExitsTwoAndNamesTheCommands) {
  const Result result = run({"nosuch"});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(result.non_empty_lines().size(), 1u) << result.output;
  EXPECT_NE(result.output.find("'nosuch'"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("expected run, report, slurm, merge, status, export, check, bench or keys"),
            std::string::npos)
      << result.output;
}

TEST_F(CliCommandsTest, UsageListsEveryCommandWithItsSummaryWrapped) {
  const Result result = run({"--help"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  const std::string indent(17, ' ');
  // The synopsis, then the summary indented 17 spaces and wrapped at 110 characters.
  const std::vector<std::string> entries = {
      "\n  report [--db PATH] [--grid NAME] [--out DIR] [--format md,csv,tex,html] [--sections S,...]\n" + indent +
          "comparison (methods x {baseline, +SEM}, mean ± std, CI, published reference), training\n" + indent +
          "curves, ablations, bound check, semantic coherence, timings and benchmarks; text, or files in\n" + indent +
          "DIR\n",
      "\n  keys [--markdown] [--readme PATH]\n" + indent +
          "the grid keys with their values, defaults and meaning; --readme rewrites README.md's key and\n" + indent +
          "method tables\n"};
  for (const std::string& entry : entries) {
    EXPECT_NE(result.output.find(entry), std::string::npos) << "missing:\n" << entry << "from:\n" << result.output;
  }
  for (const std::string& command : kCommands) {
    EXPECT_NE(result.output.find("\n  " + command + " "), std::string::npos) << command << " missing from:\n"
                                                                             << result.output;
  }
  EXPECT_EQ(run({}).exit_code, 2);
}

// --help is answered before the options are checked: `check` requires --baseline, yet `check --help` prints
// the help and exits 0.
TEST_F(CliCommandsTest, HelpComesBeforeRequiredOptions) {
  const Result check_help = run({"check", "--help"});
  EXPECT_EQ(check_help.exit_code, 0) << check_help.output;
  for (const char* word : {"semharness check [options]", "--baseline", "--db", "Compares every cell", "headline"}) {
    EXPECT_NE(check_help.output.find(word), std::string::npos) << word << " missing from:\n" << check_help.output;
  }
  const Result check = run({"check"});
  EXPECT_EQ(check.exit_code, 2) << check.output;
  EXPECT_NE(check.output.find("--baseline"), std::string::npos) << check.output;

  const Result run_help = run({"run", "--help"});
  EXPECT_EQ(run_help.exit_code, 0) << run_help.output;
  for (const char* word : {"semharness run GRID.ini [options]", "--device", "--jobs", "Runs every run of the grid"}) {
    EXPECT_NE(run_help.output.find(word), std::string::npos) << word << " missing from:\n" << run_help.output;
  }
  // Hidden options and positional arguments stay out of the list.
  EXPECT_EQ(run_help.output.find("pool-member"), std::string::npos) << run_help.output;
  EXPECT_EQ(run_help.output.find("--grid"), std::string::npos) << run_help.output;

  for (const std::string& command : kCommands) {
    for (const std::string& flag : {"--help", "-h"}) {
      const Result help = run({command, flag});
      EXPECT_EQ(help.exit_code, 0) << command << " " << flag << ":\n" << help.output;
      EXPECT_NE(help.output.find("semharness " + command), std::string::npos) << help.output;
      EXPECT_NE(help.output.find("-h [ --help ]"), std::string::npos) << help.output;
      if (command != "keys")
        EXPECT_NE(help.output.find("--db arg (=results/semharness.db)"), std::string::npos) << help.output;
    }
  }
  // --help runs nothing: no default database appears.
  EXPECT_FALSE(fs::exists(dir_ / "results"));
}

TEST_F(CliCommandsTest, KeysPrintsTheKeyTable) {
  const Result result = run({"keys"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  const auto lines = result.non_empty_lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("key ", 0), 0u) << lines[0];
  bool found = false;
  for (const std::string& line : lines) found = found || line.rfind("sem.L ", 0) == 0;
  EXPECT_TRUE(found) << result.output;
  EXPECT_EQ(lines.size(), semharness::key_table_rows().size());

  const Result markdown = run({"keys", "--markdown"});
  EXPECT_EQ(markdown.exit_code, 0) << markdown.output;
  EXPECT_EQ(markdown.output, semharness::key_table_markdown() + "\n" + semharness::method_table_markdown());
  EXPECT_NE(markdown.output.find("| `sem.L` |"), std::string::npos) << markdown.output;

  EXPECT_EQ(run({"keys", "--markdown", "--readme", (dir_ / "README.md").string()}).exit_code, 2);
}

TEST_F(CliCommandsTest, KeysReadmeRewritesTheGeneratedBlocks) {
  const fs::path readme = dir_ / "README.md";
  const auto document = [](const std::string& keys, const std::string& methods) {
    return "# title\n\ntext before\n<!-- generated: keys -->\n" + keys +
           "<!-- end generated: keys -->\n\ntext between\n\n<!-- generated: methods -->\n" + methods +
           "<!-- end generated: methods -->\ntext after\n";
  };
  write_bytes(readme, document("| stale | keys |\n", "| stale | methods |\n| two | rows |\n"));
  const Result result = run({"keys", "--readme", readme.string()});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.non_empty_lines().size(), 1u) << result.output;
  EXPECT_NE(result.output.find(readme.string()), std::string::npos) << result.output;
  const std::string expected = document(semharness::key_table_markdown(), semharness::method_table_markdown());
  EXPECT_EQ(read_bytes(readme), expected);
  EXPECT_EQ(files_left(), std::set<std::string>{"README.md"});

  // Once more: nothing to change, the file stays as it is.
  const Result again = run({"keys", "--readme", readme.string()});
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("up to date"), std::string::npos) << again.output;
  EXPECT_EQ(read_bytes(readme), expected);
}

TEST_F(CliCommandsTest, KeysReadmeWithoutMarkersExitsTwoAndLeavesTheFile) {
  const fs::path readme = dir_ / "README.md";
  const std::string no_markers = "# title\n\n| key | value |\n|---|---|\n";
  const std::string keys_only = "<!-- generated: keys -->\nold\n<!-- end generated: keys -->\n";
  for (const std::string& text : {no_markers, keys_only}) {
    write_bytes(readme, text);
    const Result result = run({"keys", "--readme", readme.string()});
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_EQ(result.non_empty_lines().size(), 1u) << result.output;
    EXPECT_NE(result.output.find(readme.string()), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(text == keys_only ? "generated: methods" : "generated: keys"), std::string::npos)
        << result.output;
    EXPECT_EQ(read_bytes(readme), text);
    EXPECT_EQ(files_left(), std::set<std::string>{"README.md"});
  }
  const Result missing = run({"keys", "--readme", (dir_ / "none.md").string()});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("none.md"), std::string::npos) << missing.output;
  EXPECT_FALSE(fs::exists(dir_ / "none.md"));
}

}  // namespace
}  // namespace semharness_cli_test
