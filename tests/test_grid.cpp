#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/config/errors.h"
#include "harness/config/grid.h"
#include "harness/config/key_docs.h"
#include "harness/config/run_config.h"
#include "test_paths.h"

namespace semharness {
namespace {

namespace fs = std::filesystem;

// A fresh temporary directory per test for the grid files it writes.
class GridFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    dir_ = fs::temp_directory_path() /
           ("semharness_grid_test_" + std::to_string(random()) + "_" + std::to_string(random()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& file_name, const std::string& text) {
    fs::path path = dir_ / file_name;
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
};

class GridTest : public GridFiles {};
class RunConfigTest : public GridFiles {};

// Runs load and expects an InputError whose message contains every one of needles.
template <typename Load>
void expect_input_error(Load load, const std::vector<std::string>& needles) {
  try {
    load();
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& error) {
    std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const std::string& needle : needles) {
      EXPECT_NE(message.find(needle), std::string::npos) << "'" << needle << "' not in: " << message;
    }
  }
}

// ---- expansion ----

TEST_F(GridTest, EmptyFileGivesOneRunWithEveryKeyAtItsDefault) {
  std::string path = write("defaults.ini", "");
  Grid grid = load_grid(path);
  EXPECT_EQ(grid.name, "defaults");
  EXPECT_EQ(grid.file, path);
  EXPECT_TRUE(grid.axes.empty());
  EXPECT_EQ(grid.seeds, std::vector<int64_t>{0});
  ASSERT_EQ(grid.runs.size(), 1u);
  const RunConfig& run = grid.runs[0];
  EXPECT_EQ(run.seed, 0);
  EXPECT_EQ(run.values.size(), config_keys().size());
  for (const KeySpec& spec : config_keys()) {
    ASSERT_EQ(run.values.count(spec.name), 1u) << spec.name;
    if (spec.name != "name") {
      EXPECT_EQ(run.str(spec.name), spec.default_value) << spec.name;
    }
  }
  EXPECT_EQ(run.str("name"), "defaults");
}

TEST_F(GridTest, AxesExpandFirstAxisSlowestAndSeedFastest) {
  std::string path = write("ablation.ini",
                           "method = simclr, byol\n"
                           "seeds = 0, 1\n"
                           "[sem]\n"
                           "L = 16, 64\n"
                           "V = 4\n");
  Grid grid = load_grid(path);
  EXPECT_EQ(grid.axes, (std::vector<std::string>{"method", "sem.L"}));
  EXPECT_EQ(grid.seeds, (std::vector<int64_t>{0, 1}));
  ASSERT_EQ(grid.runs.size(), 8u);
  std::vector<std::string> labels;
  for (const RunConfig& run : grid.runs) labels.push_back(run.label(grid.axes));
  EXPECT_EQ(labels, (std::vector<std::string>{"method=simclr sem.L=16 seed=0", "method=simclr sem.L=16 seed=1",
                                              "method=simclr sem.L=64 seed=0", "method=simclr sem.L=64 seed=1",
                                              "method=byol sem.L=16 seed=0", "method=byol sem.L=16 seed=1",
                                              "method=byol sem.L=64 seed=0", "method=byol sem.L=64 seed=1"}));
  for (const RunConfig& run : grid.runs) EXPECT_EQ(run.str("sem.V"), "4");
}

TEST_F(GridTest, AxesFollowTheKeyTableOrderNotTheFileOrder) {
  std::string path = write("order.ini",
                           "[sem]\n"
                           "tau_online = 0.1, 1\n"
                           "[backbone]\n"
                           "width = 1, 2\n");
  Grid grid = load_grid(path);
  EXPECT_EQ(grid.axes, (std::vector<std::string>{"backbone.width", "sem.tau_online"}));
  ASSERT_EQ(grid.runs.size(), 4u);
  EXPECT_EQ(grid.runs[1].str("backbone.width"), "1");
  EXPECT_EQ(grid.runs[1].str("sem.tau_online"), "1");
}

TEST_F(GridTest, AxisValuesKeepTheOrderTheFileGives) {
  Grid grid = load_grid(write("reverse.ini", "[sem]\nL = 64, 8, 32\n"));
  ASSERT_EQ(grid.runs.size(), 3u);
  EXPECT_EQ(grid.runs[0].i("sem.L"), 64);
  EXPECT_EQ(grid.runs[1].i("sem.L"), 8);
  EXPECT_EQ(grid.runs[2].i("sem.L"), 32);
}

TEST_F(GridTest, RunListKeysAreUsedWholeAndAreNotAxes) {
  Grid grid = load_grid(write("probe.ini",
                              "[probe]\n"
                              "tau_d = 0.0001, 0.001, 10\n"
                              "lr = 0.1, 0.2\n"
                              "wd1 = 0\n"));
  EXPECT_TRUE(grid.axes.empty());
  ASSERT_EQ(grid.runs.size(), 1u);
  const RunConfig& run = grid.runs[0];
  EXPECT_EQ(run.str("probe.tau_d"), "0.0001,0.001,10");
  EXPECT_EQ(run.str("probe.lr"), "0.1,0.2");
  EXPECT_EQ(run.str("probe.wd1"), "0");
  EXPECT_EQ(run.floats("probe.tau_d"), (std::vector<double>{0.0001, 0.001, 10}));
  EXPECT_EQ(run.floats("probe.wd1"), std::vector<double>{0});
}

TEST_F(GridTest, SeedsListGivesRunsPerCell) {
  Grid grid = load_grid(write("seeds.ini", "seeds = 3, 1, 2\nsem = off, on\n"));
  EXPECT_EQ(grid.seeds, (std::vector<int64_t>{3, 1, 2}));
  ASSERT_EQ(grid.runs.size(), 6u);
  EXPECT_EQ(grid.runs[0].seed, 3);
  EXPECT_EQ(grid.runs[2].seed, 2);
  EXPECT_EQ(grid.runs[3].seed, 3);
  EXPECT_EQ(grid.runs[3].str("sem"), "on");
}

TEST_F(GridTest, NameKeyReplacesTheFileStem) {
  Grid grid = load_grid(write("file_stem.ini", "name = cifar100_sem\n"));
  EXPECT_EQ(grid.name, "cifar100_sem");
  EXPECT_EQ(grid.runs[0].str("name"), "cifar100_sem");
}

TEST_F(GridTest, OverridesReplaceFileValues) {
  std::string path = write("base.ini", "epochs = 100\n[sem]\nL = 64\n");
  Grid grid = load_grid(path, {"sem.L=16", " epochs = 5 ", "probe.tau_d=0.5,2", "seeds=4,5"});
  EXPECT_TRUE(grid.axes.empty());
  EXPECT_EQ(grid.seeds, (std::vector<int64_t>{4, 5}));
  ASSERT_EQ(grid.runs.size(), 2u);
  EXPECT_EQ(grid.runs[0].i("sem.L"), 16);
  EXPECT_EQ(grid.runs[0].i("epochs"), 5);
  EXPECT_EQ(grid.runs[0].str("probe.tau_d"), "0.5,2");
  EXPECT_EQ(grid.runs[1].seed, 5);
}

TEST_F(GridTest, OverrideWithAListCreatesAnAxis) {
  Grid grid = load_grid(write("single.ini", "method = simclr\n"), {"method=simclr,byol"});
  EXPECT_EQ(grid.axes, std::vector<std::string>{"method"});
  ASSERT_EQ(grid.runs.size(), 2u);
  EXPECT_EQ(grid.runs[1].str("method"), "byol");
}

TEST_F(GridTest, OverrideWithOneValueRemovesAnAxis) {
  Grid grid = load_grid(write("axis.ini", "method = simclr, byol\n"), {"method=byol"});
  EXPECT_TRUE(grid.axes.empty());
  ASSERT_EQ(grid.runs.size(), 1u);
  EXPECT_EQ(grid.runs[0].str("method"), "byol");
}

TEST_F(GridTest, ValuesAreStoredInCanonicalForm) {
  Grid grid = load_grid(write("canonical.ini",
                              "lr = 0.30\n"
                              "wd = 0.00001\n"
                              "epochs =   007  \n"
                              "dataset =  cifar100 \n"
                              "[backbone]\n"
                              "width = 1.0\n"
                              "[sem]\n"
                              "tau_online = 1e0\n"
                              "tau_target = +2.5\n"
                              "[probe]\n"
                              "wd2 = -0\n"
                              "lr = 1E-2 ,0.10\n"));
  const RunConfig& run = grid.runs[0];
  EXPECT_EQ(run.str("lr"), "0.3");
  EXPECT_EQ(run.str("wd"), "1e-05");
  EXPECT_EQ(run.str("epochs"), "7");
  EXPECT_EQ(run.str("dataset"), "cifar100");
  EXPECT_EQ(run.str("backbone.width"), "1");
  EXPECT_EQ(run.str("sem.tau_online"), "1");
  EXPECT_EQ(run.str("sem.tau_target"), "2.5");
  EXPECT_EQ(run.str("probe.wd2"), "0");
  EXPECT_EQ(run.str("probe.lr"), "0.01,0.1");
}

TEST_F(GridTest, CommentsAndBlankLinesAreIgnored) {
  Grid grid = load_grid(write("comments.ini", "# a grid\n\nepochs = 3  # short\n\n[sem]\n# none\nL = 2\n"));
  EXPECT_EQ(grid.runs[0].i("epochs"), 3);
  EXPECT_EQ(grid.runs[0].i("sem.L"), 2);
}

// ---- bad input ----

TEST_F(GridTest, UnknownKeyNamesTheFileAndTheKey) {
  std::string path = write("unknown.ini", "foo = 1\n");
  expect_input_error([&] { load_grid(path); }, {path, "unknown key 'foo'", "Grid keys"});
}

TEST_F(GridTest, UnknownKeyInASection) {
  std::string path = write("unknown_section.ini", "[sem]\nK = 4\n");
  expect_input_error([&] { load_grid(path); }, {path, "unknown key 'sem.K'"});
}

TEST_F(GridTest, MalformedIntegerIsRejected) {
  std::string path = write("malformed.ini", "epochs = abc\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'epochs'", "expected an integer >= 0", "'abc'"});
}

TEST_F(GridTest, FloatForAnIntegerIsRejected) {
  std::string path = write("float_int.ini", "batch_size = 1.5\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'batch_size'", "got '1.5'"});
}

TEST_F(GridTest, TrailingGarbageIsRejected) {
  std::string int_path = write("garbage_int.ini", "epochs = 3x\n");
  expect_input_error([&] { load_grid(int_path); }, {int_path, "key 'epochs'", "'3x'"});
  std::string float_path = write("garbage_float.ini", "lr = 0.1.2\n");
  expect_input_error([&] { load_grid(float_path); }, {float_path, "key 'lr'", "'0.1.2'"});
}

TEST_F(GridTest, NonFiniteFloatIsRejected) {
  std::string path = write("inf.ini", "lr = inf\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'lr'"});
  std::string nan_path = write("nan.ini", "lr = nan\n");
  expect_input_error([&] { load_grid(nan_path); }, {nan_path, "key 'lr'"});
}

TEST_F(GridTest, ZeroSimplicesIsRejected) {
  std::string path = write("l0.ini", "[sem]\nL = 0\n");
  expect_input_error([&] { load_grid(path); }, {path + ": key 'sem.L': expected an integer >= 1, got '0'"});
}

TEST_F(GridTest, ZeroVerticesIsRejected) {
  std::string path = write("v0.ini", "[sem]\nV = 0\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'sem.V'", "got '0'"});
}

TEST_F(GridTest, ZeroTemperatureIsRejected) {
  std::string path = write("tau0.ini", "[sem]\ntau_online = 0\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'sem.tau_online'", "expected a number > 0"});
}

TEST_F(GridTest, NegativeTemperatureIsRejected) {
  std::string path = write("tau_negative.ini", "[sem]\ntau_target = -0.5\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'sem.tau_target'", "got '-0.5'"});
}

TEST_F(GridTest, BadRunListItemIsRejected) {
  std::string path = write("tau_d.ini", "[probe]\ntau_d = 0.1, 0\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'probe.tau_d'", "list of numbers > 0"});
}

TEST_F(GridTest, UnknownMethodIsRejected) {
  std::string path = write("method.ini", "method = moco\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'method'", "one of simclr, mocov2plus, byol", "'moco'"});
}

TEST_F(GridTest, UnknownChoiceIsRejected) {
  std::string path = write("dataset.ini", "dataset = imagenet\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'dataset'", "'imagenet'"});
  std::string sem_path = write("sem.ini", "sem = yes\n");
  expect_input_error([&] { load_grid(sem_path); }, {sem_path, "key 'sem'", "one of off, on"});
}

TEST_F(GridTest, EmptyListItemIsRejected) {
  std::string path = write("empty_item.ini", "[sem]\nL = 16,,64\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'sem.L'", "got ''"});
  std::string empty_path = write("empty_value.ini", "epochs =\n");
  expect_input_error([&] { load_grid(empty_path); }, {empty_path, "key 'epochs'"});
}

TEST_F(GridTest, OutOfRangeFractionIsRejected) {
  std::string path = write("fraction.ini", "[probe]\nval_fraction = 1\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'probe.val_fraction'", "in (0, 1)"});
  std::string ema_path = write("ema.ini", "[byol]\nema_base = 1.5\n");
  expect_input_error([&] { load_grid(ema_path); }, {ema_path, "key 'byol.ema_base'", "in [0, 1]"});
}

TEST_F(GridTest, EmaBaseAboveEmaFinalIsRejected) {
  std::string path = write("ema_order.ini", "[byol]\nema_base = 0.999\nema_final = 0.99\n");
  expect_input_error([&] { load_grid(path); }, {path, "byol.ema_base", "byol.ema_final"});
}

TEST_F(GridTest, NegativeSeedIsRejected) {
  std::string path = write("seed.ini", "seeds = 0, -1\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'seeds'"});
}

TEST_F(GridTest, RepeatedValueIsRejected) {
  std::string path = write("repeat.ini", "[sem]\nL = 64, 064\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'sem.L'", "'64' is listed twice"});
  std::string seeds_path = write("repeat_seeds.ini", "seeds = 1, 1\n");
  expect_input_error([&] { load_grid(seeds_path); }, {seeds_path, "key 'seeds'"});
}

TEST_F(GridTest, KeyGivenTwiceIsRejected) {
  std::string path = write("twice.ini", "[sem]\nL = 8\nL = 16\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'sem.L' is given twice"});
}

TEST_F(GridTest, ListOnANonIdentityKeyIsRejected) {
  std::string path = write("names.ini", "data_dir = /a, /b\n");
  expect_input_error([&] { load_grid(path); }, {path, "key 'data_dir'", "single value"});
}

TEST_F(GridTest, MissingFileIsRejected) {
  std::string path = (dir_ / "absent.ini").string();
  expect_input_error([&] { load_grid(path); }, {path + ": cannot open grid file"});
  expect_input_error([&] { load_grid(dir_.string()); }, {dir_.string(), "cannot open grid file"});
}

TEST_F(GridTest, IniSyntaxErrorNamesTheFile) {
  std::string path = write("syntax.ini", "[sem]\nL 64\n");
  expect_input_error([&] { load_grid(path); }, {path + ": "});
}

TEST_F(GridTest, OverrideWithoutEqualsIsRejected) {
  std::string path = write("ok.ini", "");
  expect_input_error([&] { load_grid(path, {"sem.L"}); }, {"--set: expected key=value, got 'sem.L'"});
  expect_input_error([&] { load_grid(path, {"=4"}); }, {"--set: expected key=value"});
}

TEST_F(GridTest, BadOverrideValueNamesSetAndTheKey) {
  std::string path = write("ok.ini", "");
  expect_input_error([&] { load_grid(path, {"sem.L=0"}); }, {"--set: key 'sem.L'", "got '0'"});
  expect_input_error([&] { load_grid(path, {"bogus=1"}); }, {"--set: unknown key 'bogus'"});
  expect_input_error([&] { load_grid(path, {"epochs=1", "epochs=2"}); }, {"--set", "key 'epochs'"});
}

// ---- keys and run identity ----

TEST_F(RunConfigTest, KeyTableStartsAsDocumentedAndDefaultsAreCanonical) {
  const auto& keys = config_keys();
  // The README's key table documents every key.
  std::ifstream readme_file(SEMHARNESS_SOURCE_DIR "/README.md");
  const std::string readme((std::istreambuf_iterator<char>(readme_file)), std::istreambuf_iterator<char>());
  for (const KeySpec& spec : keys) EXPECT_NE(readme.find("| `" + spec.name + "` |"), std::string::npos) << spec.name;
  EXPECT_EQ(keys.front().name, "name");
  EXPECT_EQ(keys[1].name, "dataset");
  EXPECT_EQ(keys.back().name, "knn.T");
  for (const KeySpec& spec : keys) {
    EXPECT_EQ(canonical_value(spec, spec.default_value, "defaults"), spec.default_value) << spec.name;
    EXPECT_EQ(find_key(spec.name), &spec);
  }
  EXPECT_EQ(find_key("seeds"), nullptr);
  EXPECT_EQ(find_key("sem.l"), nullptr);
  EXPECT_TRUE(find_key("probe.tau_d")->run_list);
  EXPECT_FALSE(find_key("name")->identity);
  EXPECT_FALSE(find_key("data_dir")->identity);
}

// The README's key and method tables are generated (semharness keys --readme README.md): a stale one fails.
TEST_F(RunConfigTest, ReadmeTablesAreTheGeneratedOnes) {
  std::ifstream readme_file(SEMHARNESS_SOURCE_DIR "/README.md");
  const std::string readme((std::istreambuf_iterator<char>(readme_file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(generated_block(readme, "keys", "README.md"), key_table_markdown())
      << "README.md's key table is stale: run build/semharness keys --readme README.md";
  EXPECT_EQ(generated_block(readme, "methods", "README.md"), method_table_markdown())
      << "README.md's method table is stale: run build/semharness keys --readme README.md";
  const std::string replaced =
      replace_generated_block("a\n<!-- generated: x -->\nold\n<!-- end generated: x -->\nb\n", "x", "new\n", "t");
  EXPECT_EQ(replaced, "a\n<!-- generated: x -->\nnew\n<!-- end generated: x -->\nb\n");
  expect_input_error([] { generated_block("no markers", "keys", "README.md"); },
                     {"README.md", "<!-- generated: keys -->"});
}

TEST_F(RunConfigTest, ColumnNamesReplaceDotsAndStayDistinctIgnoringCase) {
  EXPECT_EQ(column_name("sem.L"), "sem_L");
  EXPECT_EQ(column_name("epochs"), "epochs");
  std::set<std::string> lowered;
  for (const KeySpec& spec : config_keys()) {
    std::string column = column_name(spec.name);
    std::transform(column.begin(), column.end(), column.begin(), [](unsigned char c) { return std::tolower(c); });
    EXPECT_TRUE(lowered.insert(column).second) << spec.name;  // SQLite column names ignore case
  }
}

TEST_F(RunConfigTest, CanonicalFloatsAreShortest) {
  const KeySpec& lr = *find_key("lr");
  EXPECT_EQ(canonical_value(lr, "0.1", "x"), "0.1");
  EXPECT_EQ(canonical_value(lr, "1e-5", "x"), "1e-05");
  EXPECT_EQ(canonical_value(lr, "1", "x"), "1");
  EXPECT_EQ(canonical_value(lr, " 0.3 ", "x"), "0.3");
  EXPECT_EQ(canonical_value(lr, "0.30000000000000004", "x"), "0.30000000000000004");
  EXPECT_EQ(canonical_value(lr, "123456789", "x"), "123456789");
  EXPECT_EQ(canonical_value(lr, "10", "x"), "10");
  EXPECT_EQ(canonical_value(lr, "1500000", "x"), "1500000");
  EXPECT_EQ(canonical_value(lr, "1e20", "x"), "1e+20");
  EXPECT_EQ(canonical_value(lr, "0.0001", "x"), "0.0001");
  EXPECT_EQ(canonical_value(lr, "2.5e-7", "x"), "2.5e-07");
  EXPECT_EQ(canonical_value(*find_key("probe.wd1"), "0, 1e-5,0.0001", "x"), "0,1e-05,0.0001");
  EXPECT_EQ(canonical_value(*find_key("sem.L"), "+12", "x"), "12");
}

TEST_F(RunConfigTest, CellIdIsSixteenHexDigitsOfFnv1a) {
  RunConfig empty;
  EXPECT_EQ(empty.canonical(), "");
  EXPECT_EQ(empty.cell_id(), "cbf29ce484222325");  // FNV-1a 64 of the empty string
  Grid grid = load_grid(write("hex.ini", ""));
  std::string id = grid.runs[0].cell_id();
  ASSERT_EQ(id.size(), 16u);
  for (char c : id) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(c)) << id;
}

TEST_F(RunConfigTest, CanonicalListsIdentityKeysSortedWithoutSeed) {
  Grid grid = load_grid(write("canon.ini", "name = n\ndata_dir = /d\nseeds = 7\n"));
  const RunConfig& run = grid.runs[0];
  std::string text = run.canonical();
  EXPECT_EQ(text.find("name="), std::string::npos);
  EXPECT_EQ(text.find("data_dir="), std::string::npos);
  EXPECT_NE(text.find("\nsem.L=64\n"), std::string::npos);
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  EXPECT_EQ(text.find("checkpoint_every="), std::string::npos);
  EXPECT_EQ(text.find("backbone.channels_last="), std::string::npos);
  EXPECT_EQ(text.find("prefetch="), std::string::npos);
  EXPECT_EQ(text.find("profile.steps="), std::string::npos);
  EXPECT_EQ(text.find("data.workers="), std::string::npos);
  size_t identity_keys = 0;
  for (const KeySpec& spec : config_keys()) identity_keys += spec.identity ? 1 : 0;
  // name, data_dir, data.workers, checkpoint_every, analysis.samples, backbone.channels_last, prefetch,
  // profile.steps: how a run is carried out, not what it computes.
  EXPECT_EQ(identity_keys, config_keys().size() - 8);
  // Keys added after runs were stored are part of the identity only away from their default.
  size_t added_later = 0;
  for (const KeySpec& spec : config_keys()) added_later += spec.identity && !spec.identity_at_default ? 1 : 0;
  EXPECT_GE(added_later, 4u);
  EXPECT_EQ(lines.size(), identity_keys - added_later);
  for (const std::string& line : lines) EXPECT_NE(line.rfind("seed=", 0), 0u) << line;
  EXPECT_TRUE(std::is_sorted(lines.begin(), lines.end()));
}

TEST_F(RunConfigTest, CellIdIsStableAcrossSeedsAndRunIdIsNot) {
  Grid grid = load_grid(write("seeds.ini", "seeds = 0, 1, 2\n"));
  ASSERT_EQ(grid.runs.size(), 3u);
  std::set<std::string> run_ids;
  for (const RunConfig& run : grid.runs) {
    EXPECT_EQ(run.cell_id(), grid.runs[0].cell_id());
    run_ids.insert(run.run_id());
  }
  EXPECT_EQ(run_ids.size(), 3u);
  EXPECT_NE(grid.runs[0].run_id(), grid.runs[0].cell_id());
}

TEST_F(RunConfigTest, CellIdDiffersAcrossConfigs) {
  Grid grid = load_grid(write("cells.ini", "method = simclr, byol\n[sem]\nL = 8, 16\n"));
  std::set<std::string> cell_ids;
  for (const RunConfig& run : grid.runs) cell_ids.insert(run.cell_id());
  EXPECT_EQ(cell_ids.size(), 4u);
}

TEST_F(RunConfigTest, CellIdIsReproducibleAndIgnoresNameAndDataDir) {
  Grid first = load_grid(write("first.ini", "name = one\ndata_dir = /data/a\nlr = 0.3\n"));
  Grid second = load_grid(write("second.ini", "name = two\ndata_dir = /data/b\nlr = 0.30\n"));
  EXPECT_EQ(first.runs[0].cell_id(), second.runs[0].cell_id());
  EXPECT_EQ(first.runs[0].run_id(), second.runs[0].run_id());
  Grid again = load_grid(write("third.ini", ""));
  EXPECT_EQ(again.runs[0].cell_id(), first.runs[0].cell_id());
}

TEST_F(RunConfigTest, AccessorsParseAndNameMissingKeys) {
  RunConfig run;
  run.values = {{"sem.L", "64"}, {"lr", "0.3"}, {"probe.lr", "0.01,0.1"}, {"method", "byol"}};
  run.seed = 2;
  EXPECT_EQ(run.i("sem.L"), 64);
  EXPECT_DOUBLE_EQ(run.f("lr"), 0.3);
  EXPECT_EQ(run.floats("probe.lr"), (std::vector<double>{0.01, 0.1}));
  EXPECT_EQ(run.str("method"), "byol");
  EXPECT_EQ(run.label({"method", "sem.L"}), "method=byol sem.L=64 seed=2");
  EXPECT_EQ(run.label({}), "seed=2");
  try {
    run.str("sem.V");
    ADD_FAILURE() << "expected std::out_of_range";
  } catch (const std::out_of_range& error) {
    EXPECT_NE(std::string(error.what()).find("sem.V"), std::string::npos) << error.what();
  }
  EXPECT_THROW(run.i("knn.k"), std::out_of_range);
  EXPECT_THROW(run.f("knn.T"), std::out_of_range);
}

// ---- [KEY:VALUE] sections ----

TEST_F(GridTest, MethodSectionsApplyToTheirCellsOnly) {
  const auto path = write("sections.ini",
                          "method = simclr, byol\nsem = off, on\nlr = 0.3\n"
                          "[method:byol]\nlr = 1.0\noptimizer = lars\nsem.tau_target = 0.5\n");
  const Grid grid = load_grid(path);
  ASSERT_EQ(grid.runs.size(), 4u);
  for (const RunConfig& run : grid.runs) {
    const bool byol = run.str("method") == "byol";
    EXPECT_EQ(run.str("lr"), byol ? "1" : "0.3");
    EXPECT_EQ(run.str("optimizer"), byol ? "lars" : "sgd");
    EXPECT_EQ(run.str("sem.tau_target"), byol ? "0.5" : "1");
  }
  // --set can address a section too, and replaces the file's value.
  const Grid overridden = load_grid(path, {"method:byol.lr=2"});
  for (const RunConfig& run : overridden.runs) EXPECT_EQ(run.str("lr"), run.str("method") == "byol" ? "2" : "0.3");
}

TEST_F(GridTest, SectionErrorsNameFileAndKey) {
  expect_input_error([&] { load_grid(write("a.ini", "[method:byol]\nfoo = 1\n")); }, {"a.ini", "foo"});
  expect_input_error([&] { load_grid(write("b.ini", "[method:nosuch]\nlr = 1\n")); }, {"b.ini", "nosuch"});
  expect_input_error([&] { load_grid(write("c.ini", "[lr:1]\nwd = 0\n")); }, {"c.ini", "lr:1"});
  expect_input_error([&] { load_grid(write("d.ini", "[method:byol]\nlr = 1, 2\n")); }, {"d.ini", "method:byol.lr"});
  expect_input_error([&] { load_grid(write("e.ini", "[method:byol]\nseeds = 1\n")); }, {"e.ini", "seeds"});
  expect_input_error([&] { load_grid(write("f.ini", "[method:simclr]\nlr = 1\n[sem:off]\nlr = 2\n")); },
                     {"f.ini", "lr", "method:simclr", "sem:off"});
  // An axis that a section overrides for some cells would give two identical cells.
  expect_input_error([&] { load_grid(write("g.ini", "lr = 0.1, 0.2\n[method:simclr]\nlr = 1\n")); },
                     {"g.ini", "same configuration"});
  expect_input_error([&] { load_grid(write("h.ini", "lr = 0.1\n"), {"method:byol.lr=abc"}); }, {"--set", "lr", "abc"});
}

// ---- [ablate] and extends ----

TEST_F(GridTest, AblateVariesEachKeyAloneAroundEveryCentre) {
  const Grid grid = load_grid(write("ablate.ini",
                                    "method = simclr, byol\nsem = on\nseeds = 0, 1\n"
                                    "[sem]\nL = 64\nV = 16\n"
                                    "[ablate]\nsem.L = 16, 32, 64\nsem.V = 4\n"));
  EXPECT_EQ(grid.axes, (std::vector<std::string>{"method", "sem.L", "sem.V"}));
  std::vector<std::string> labels;
  for (const RunConfig& run : grid.runs) {
    if (run.seed == 0) labels.push_back(run.label(grid.axes));
  }
  // The centre, then L's values but the centre's 64, then V's; around each centre of the method axis.
  EXPECT_EQ(labels, (std::vector<std::string>{
                        "method=simclr sem.L=64 sem.V=16 seed=0", "method=simclr sem.L=16 sem.V=16 seed=0",
                        "method=simclr sem.L=32 sem.V=16 seed=0", "method=simclr sem.L=64 sem.V=4 seed=0",
                        "method=byol sem.L=64 sem.V=16 seed=0", "method=byol sem.L=16 sem.V=16 seed=0",
                        "method=byol sem.L=32 sem.V=16 seed=0", "method=byol sem.L=64 sem.V=4 seed=0"}));
  EXPECT_EQ(grid.runs.size(), 16u);
  // The centre is the cell the grid without [ablate] has: the same run ids.
  const Grid centre = load_grid(write("centre.ini", "method = simclr\nsem = on\n[sem]\nL = 64\nV = 16\n"));
  EXPECT_EQ(grid.runs[0].run_id(), centre.runs[0].run_id());
  // --set reaches the section like any other (tau_online 1 is the default, so the centre).
  const Grid overridden = load_grid(write("plain.ini", "sem = on\n"), {"ablate.sem.tau_online=0.25,1,4"});
  ASSERT_EQ(overridden.runs.size(), 3u);
  EXPECT_EQ(overridden.runs[0].str("sem.tau_online"), "1");
  EXPECT_EQ(overridden.runs[1].str("sem.tau_online"), "0.25");
  EXPECT_EQ(overridden.runs[2].str("sem.tau_online"), "4");
}

TEST_F(GridTest, AblateErrorsNameFileAndKey) {
  expect_input_error([&] { load_grid(write("a.ini", "[sem]\nL = 8, 16\n[ablate]\nsem.L = 32\n")); },
                     {"a.ini", "sem.L", "axis"});
  expect_input_error([&] { load_grid(write("b.ini", "[ablate]\nprobe.tau_d = 0.1, 1\n")); },
                     {"b.ini", "probe.tau_d", "one value per run"});
  expect_input_error([&] { load_grid(write("c.ini", "[ablate]\nname = x, y\n")); }, {"c.ini", "name"});
  expect_input_error([&] { load_grid(write("d.ini", "[ablate]\nnosuch = 1\n")); }, {"d.ini", "nosuch"});
  expect_input_error([&] { load_grid(write("e.ini", "[ablate]\nsem.L = 8, abc\n")); }, {"e.ini", "sem.L", "abc"});
  // A section that sets the ablated key makes its cells identical.
  expect_input_error([&] { load_grid(write("f.ini", "[ablate]\nlr = 0.1\n[method:simclr]\nlr = 1\n")); },
                     {"f.ini", "same configuration"});
}

TEST_F(GridTest, ExtendsReadsTheBaseFirstAndReplacesItsKeys) {
  write("base.ini",
        "name = base_grid\nmethod = simclr, byol\nepochs = 20\nseeds = 0, 1, 2\n[sem]\nL = 64\n"
        "[method:byol]\nlr = 1.0\noptimizer = lars\n");
  fs::create_directories(dir_ / "sub");
  const std::string path = write("sub/child.ini",
                                 "extends = ../base.ini\nmethod = byol\nepochs = 5\n"
                                 "[method:byol]\nlr = 2\n[ablate]\nsem.L = 16\n");
  const Grid grid = load_grid(path);
  EXPECT_EQ(grid.name, "child");  // the base's name is not inherited
  EXPECT_EQ(grid.seeds, (std::vector<int64_t>{0, 1, 2}));
  ASSERT_EQ(grid.runs.size(), 6u);
  for (const RunConfig& run : grid.runs) {
    EXPECT_EQ(run.str("method"), "byol");
    EXPECT_EQ(run.str("epochs"), "5");
    EXPECT_EQ(run.str("lr"), "2");            // the child's section key replaces the base's
    EXPECT_EQ(run.str("optimizer"), "lars");  // the base's other section keys stay
  }
  EXPECT_EQ(grid.runs[0].str("sem.L"), "64");
  EXPECT_EQ(grid.runs[3].str("sem.L"), "16");
  // --set still has the last word.
  EXPECT_EQ(load_grid(path, {"epochs=7"}).runs[0].str("epochs"), "7");
}

TEST_F(GridTest, ExtendsErrorsNameTheFile) {
  write("bad_base.ini", "nosuch = 1\n");
  expect_input_error([&] { load_grid(write("a.ini", "extends = bad_base.ini\n")); }, {"bad_base.ini", "nosuch"});
  expect_input_error([&] { load_grid(write("b.ini", "extends = missing.ini\n")); },
                     {"b.ini", "extends", "missing.ini"});
  write("loop_one.ini", "extends = loop_two.ini\n");
  write("loop_two.ini", "extends = loop_one.ini\n");
  expect_input_error([&] { load_grid((dir_ / "loop_one.ini").string()); }, {"loop_two.ini", "extends", "cycle"});
  expect_input_error([&] { load_grid(write("c.ini", "extends = c.ini\n")); }, {"c.ini", "cycle"});
  expect_input_error([&] { load_grid(write("d.ini", ""), {"extends=c.ini"}); }, {"--set", "extends"});
}

TEST_F(GridTest, PaperAndMethodGridsLoad) {
  const std::string dir = SEMHARNESS_SOURCE_DIR "/experiments/";
  const Grid paper = load_grid(dir + "paper_cifar100.ini");
  EXPECT_EQ(paper.runs.size(), 7u * 2u * 5u);
  for (const RunConfig& run : paper.runs) {
    EXPECT_EQ(run.str("sem.L"), "5000");
    EXPECT_EQ(run.str("sem.V"), "13");
    if (run.str("method") == "simclr") {
      EXPECT_EQ(run.str("optimizer"), "lars");
      EXPECT_EQ(run.str("lr"), "0.4");
      EXPECT_EQ(run.str("sem.tau_online"), "0.17");
      EXPECT_EQ(run.str("sem.tau_target"), "0.78");
    }
    if (run.str("method") == "mocov2plus") {
      EXPECT_EQ(run.str("optimizer"), "sgd");
      EXPECT_EQ(run.str("sem.tau_target"), "0.01");
    }
    if (run.str("method") == "swav") {
      EXPECT_EQ(run.str("sem.tau_target"), "1.5");
    }
  }
  EXPECT_EQ(load_grid(dir + "fmnist_methods.ini").runs.size(), 14u);
  EXPECT_EQ(load_grid(dir + "quick.ini").runs.size(), 6u);
  // The study's ablation: one method + SEM, L, V and tau_online each swept around the study's setting.
  const Grid ablation = load_grid(dir + "fmnist_ablation.ini");
  EXPECT_EQ(ablation.runs.size(), 7u * 3u);
  std::set<std::string> cells;
  for (const RunConfig& run : ablation.runs) {
    EXPECT_EQ(run.str("method"), "swav");
    EXPECT_EQ(run.str("sem"), "on");
    EXPECT_EQ(run.str("epochs"), "20");
    EXPECT_EQ(run.str("probe.tau_d"), "0.01,0.1,1,10");
    const int changed = (run.str("sem.L") != "64") + (run.str("sem.V") != "16") + (run.str("sem.tau_online") != "0.5");
    EXPECT_LE(changed, 1) << run.str("sem.L") << " " << run.str("sem.V") << " " << run.str("sem.tau_online");
    cells.insert(run.str("sem.L") + "/" + run.str("sem.V") + "/" + run.str("sem.tau_online"));
  }
  EXPECT_EQ(cells.size(), 7u);
}

// The gate's baseline grid is the study at the quick size: each quick run is the study's run of the same
// method, SEM mode and seed with only the budget keys changed.
TEST_F(GridTest, QuickIsTheStudyAtTheQuickSize) {
  const std::string dir = SEMHARNESS_SOURCE_DIR "/experiments/";
  const Grid quick = load_grid(dir + "quick.ini");
  const Grid study = load_grid(dir + "fmnist_paper.ini");
  const std::set<std::string> budget = {"name", "epochs", "probe.epochs", "analysis.samples"};
  ASSERT_EQ(quick.runs.size(), 6u);
  for (const RunConfig& run : quick.runs) {
    const auto same = std::find_if(study.runs.begin(), study.runs.end(), [&](const RunConfig& other) {
      return other.seed == run.seed && other.str("method") == run.str("method") && other.str("sem") == run.str("sem");
    });
    ASSERT_NE(same, study.runs.end()) << run.label(quick.axes);
    for (const auto& [key, value] : run.values) {
      if (budget.count(key) == 0) EXPECT_EQ(value, same->str(key)) << key;
    }
    EXPECT_EQ(run.str("epochs"), "3");
    EXPECT_EQ(run.str("method"), "simclr");
  }
}

}  // namespace
}  // namespace semharness
