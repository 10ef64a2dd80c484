// NumPy .npy files (harness/store/npy.h) and the features and probes a finished run stores next to the
// database (harness/train/artifacts.h), exported by `semharness export`.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"
#include "harness/data/image_set.h"
#include "harness/store/npy.h"
#include "harness/store/store.h"
#include "harness/train/artifacts.h"
#include "harness/probe/linear_probe.h"
#include "harness/config/run_spec.h"

namespace semharness {
namespace {

using namespace semharness_test;

// The 128-byte header NumPy (>= 1.14, 64-byte aligned) writes for a C-ordered float32 array of shape (2, 3).
std::string numpy_header_f4_2x3() {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  return std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict + std::string(58, ' ') + "\n";
}

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("npy"); }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  template <typename F>
  void expect_error_naming_path(const std::string& file, F&& read, const std::string& reason) {
    try {
      read();
      ADD_FAILURE() << "no error for " << file;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  }

  fs::path dir_;
};

TEST_F(NpyTest, WritesNumpysByteLayout) {
  const std::vector<float> values = {1.0f, -2.0f, 0.5f, 0.0f, 1.0f, -2.0f};
  write_npy(path("a.npy"), values.data(), {2, 3});
  const std::string data(
      "\x00\x00\x80\x3f"
      "\x00\x00\x00\xc0"
      "\x00\x00\x00\x3f"
      "\x00\x00\x00\x00"
      "\x00\x00\x80\x3f"
      "\x00\x00\x00\xc0",
      24);
  EXPECT_EQ(read_bytes(path("a.npy")), numpy_header_f4_2x3() + data);
  EXPECT_FALSE(fs::exists(path("a.npy.tmp")));

  const std::vector<int64_t> ints = {258, -1};
  write_npy(path("b.npy"), ints.data(), {2});
  const std::string header = read_bytes(path("b.npy")).substr(0, 128);
  const std::string dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }";
  EXPECT_EQ(header.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(header.substr(10, dict.size()), dict);
  EXPECT_EQ(header.substr(10 + dict.size()), std::string(118 - dict.size() - 1, ' ') + "\n");
  EXPECT_EQ(read_bytes(path("b.npy")).substr(128), std::string("\x02\x01\0\0\0\0\0\0"
                                                               "\xff\xff\xff\xff\xff\xff\xff\xff",
                                                               16));
}

TEST_F(NpyTest, ReadsAHandWrittenFile) {
  // Another key order, double quotes, no padding to 64 bytes: all valid for NumPy's reader, and for ours.
  const std::string dict = "{\"shape\": (3,), \"descr\": \"<i8\", \"fortran_order\": False}\n";
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(dict.size()) + '\0' + dict;
  bytes += std::string(
      "\x07\0\0\0\0\0\0\0"
      "\xfe\xff\xff\xff\xff\xff\xff\xff"
      "\0\0\0\0\0\0\x10\0",
      24);
  write_bytes(dir_ / "hand.npy", bytes);
  const NpyArray array = read_npy(path("hand.npy"));
  EXPECT_EQ(array.dtype, "<i8");
  EXPECT_EQ(array.shape, std::vector<int64_t>({3}));
  EXPECT_EQ(array.i64, std::vector<int64_t>({7, -2, int64_t{1} << 52}));
  EXPECT_TRUE(array.f32.empty());

  write_bytes(dir_ / "f.npy", numpy_header_f4_2x3() + std::string(24, '\0'));
  const NpyArray zeros = read_npy(path("f.npy"));
  EXPECT_EQ(zeros.shape, std::vector<int64_t>({2, 3}));
  EXPECT_EQ(zeros.f32, std::vector<float>(6, 0.0f));
}

TEST_F(NpyTest, RoundTripsShapes) {
  std::vector<float> cube(2 * 3 * 4);
  for (size_t i = 0; i < cube.size(); ++i) cube[i] = static_cast<float>(i) * 0.25f - 3.0f;
  write_npy(path("cube.npy"), cube.data(), {2, 3, 4});
  const NpyArray read_cube = read_npy(path("cube.npy"));
  EXPECT_EQ(read_cube.shape, std::vector<int64_t>({2, 3, 4}));
  EXPECT_EQ(read_cube.f32, cube);
  EXPECT_EQ(read_cube.size(), 24);

  const float scalar = 42.5f;
  write_npy(path("scalar.npy"), &scalar, {});
  EXPECT_NE(read_bytes(path("scalar.npy")).find("'shape': ()"), std::string::npos);
  EXPECT_EQ(read_npy(path("scalar.npy")).f32, std::vector<float>({42.5f}));

  write_npy(path("empty.npy"), static_cast<const int64_t*>(nullptr), {0, 5});
  const NpyArray empty = read_npy(path("empty.npy"));
  EXPECT_EQ(empty.shape, std::vector<int64_t>({0, 5}));
  EXPECT_TRUE(empty.i64.empty());

  // Overwriting replaces the file whole.
  const std::vector<int64_t> one = {5};
  write_npy(path("cube.npy"), one.data(), {1});
  EXPECT_EQ(read_npy(path("cube.npy")).i64, one);
}

TEST_F(NpyTest, BadFilesNameThePath) {
  expect_error_naming_path(
      path("missing.npy"), [&] { read_npy(path("missing.npy")); }, "cannot open");
  write_bytes(dir_ / "magic.npy", "PK\x03\x04 not numpy at all");
  expect_error_naming_path(
      path("magic.npy"), [&] { read_npy(path("magic.npy")); }, "magic");
  write_bytes(dir_ / "short.npy", numpy_header_f4_2x3() + std::string(20, '\0'));
  expect_error_naming_path(
      path("short.npy"), [&] { read_npy(path("short.npy")); }, "ends early");
  std::string f8 = numpy_header_f4_2x3();
  f8.replace(f8.find("<f4"), 3, "<f8");
  write_bytes(dir_ / "f8.npy", f8 + std::string(48, '\0'));
  expect_error_naming_path(
      path("f8.npy"), [&] { read_npy(path("f8.npy")); }, "<f8");
  std::string fortran = numpy_header_f4_2x3();
  fortran.replace(fortran.find("False"), 5, "True ");
  write_bytes(dir_ / "fortran.npy", fortran + std::string(24, '\0'));
  expect_error_naming_path(
      path("fortran.npy"), [&] { read_npy(path("fortran.npy")); }, "Fortran");
  std::string broken = numpy_header_f4_2x3();
  broken.replace(broken.find("(2, 3)"), 6, "(2; 3)");
  write_bytes(dir_ / "broken.npy", broken + std::string(24, '\0'));
  expect_error_naming_path(
      path("broken.npy"), [&] { read_npy(path("broken.npy")); }, "header");
  const float x = 1;
  expect_error_naming_path(
      path("no/such/dir/x.npy"), [&] { write_npy(path("no/such/dir/x.npy"), &x, {1}); }, "cannot open");
}

// A Python with NumPy: the project's .venv or the system's; empty when neither has it.
std::string python_with_numpy() {
  for (const std::string& python : {std::string(SEMHARNESS_SOURCE_DIR "/.venv/bin/python"), std::string("python3")}) {
    if (std::system((shell_quote(python) + " -c 'import numpy' > /dev/null 2>&1").c_str()) == 0) return python;
  }
  return "";
}

TEST_F(NpyTest, RoundTripsThroughNumpy) {
  const std::string python = python_with_numpy();
  if (python.empty()) GTEST_SKIP() << "no Python with NumPy (.venv/bin/python or python3)";
  const std::vector<float> values = {1.5f, -2.25f, 3.0f, 1e-20f, 7.0f, -0.0f};
  write_npy(path("ours.npy"), values.data(), {3, 2});
  const std::string script =
      "import numpy as np, sys\n"
      "a = np.load(sys.argv[1])\n"
      "assert a.dtype == np.float32 and a.shape == (3, 2), (a.dtype, a.shape)\n"
      "assert a.tolist() == [[1.5, -2.25], [3.0, float(np.float32(1e-20))], [7.0, -0.0]], a.tolist()\n"
      "np.save(sys.argv[2], (np.arange(12, dtype=np.int64) - 5).reshape(2, 2, 3))\n";
  write_bytes(dir_ / "check.py", script);
  const int status = std::system((shell_quote(python) + " " + shell_quote(path("check.py")) + " " +
                                  shell_quote(path("ours.npy")) + " " + shell_quote(path("theirs.npy")))
                                     .c_str());
  ASSERT_EQ(status, 0);
  const NpyArray theirs = read_npy(path("theirs.npy"));
  EXPECT_EQ(theirs.dtype, "<i8");
  EXPECT_EQ(theirs.shape, std::vector<int64_t>({2, 2, 3}));
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(theirs.i64[static_cast<size_t>(i)], i - 5);
}

// The selected probe's weight and bias, as returned for the stored files, give back its reported numbers.
// meta.json escapes what it holds: a quote, a backslash and a newline read back as written; the keys stand in
// their documented order.
TEST(ArtifactMetaJson, RoundTripsQuotesBackslashesAndNewlines) {
  ArtifactMeta meta;
  meta.run_id = "run \"one\"\\two\nthree";
  meta.sem = "on";
  meta.L = 8;
  meta.V = 4;
  meta.tau_d = {0.01, 0.1, 1.0};
  meta.num_classes = 10;
  meta.train_samples = 300;
  meta.test_samples = 200;
  meta.files = {"train_h.npy", "a,\"b\"\\c\n.npy"};
  const std::string text = artifact_meta_json(meta);
  const nlohmann::ordered_json json = nlohmann::ordered_json::parse(text);
  EXPECT_EQ(json.at("run_id").get<std::string>(), meta.run_id) << text;
  EXPECT_EQ(json.at("files").get<std::vector<std::string>>(), meta.files) << text;
  EXPECT_EQ(json.at("sem"), "on");
  EXPECT_EQ(json.at("L"), 8);
  EXPECT_EQ(json.at("V"), 4);
  EXPECT_EQ(json.at("tau_d").get<std::vector<double>>(), meta.tau_d);
  EXPECT_EQ(json.at("num_classes"), 10);
  EXPECT_EQ(json.at("samples").at("train"), 300);
  EXPECT_EQ(json.at("samples").at("test"), 200);
  EXPECT_EQ(json.at("sample_seed"), kArtifactSampleSeed);
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"run_id", "sem", "L", "V", "layout", "tau_d", "num_classes", "samples",
                                            "sample_seed", "files"}));
  EXPECT_EQ(text.back(), '\n');

  meta.L.reset();
  meta.V.reset();
  const auto without = nlohmann::json::parse(artifact_meta_json(meta));
  EXPECT_TRUE(without.at("L").is_null());
  EXPECT_TRUE(without.at("V").is_null());
}

TEST(ProbeWeights, SelectedProbeReproducesItsScores) {
  torch::manual_seed(3);
  const auto make = [](int64_t n) {
    const auto y = torch::arange(n, torch::kLong) % 4;
    auto x = torch::randn({n, 6}) + 1.5 * torch::one_hot(y, 6).to(torch::kFloat);
    return LabeledFeatures{x, y};
  };
  const auto train = make(400), val = make(100), test = make(200);
  SgdProbeSpec spec = RunSpec::parse(RunConfig::defaults()).probe.sgd;
  spec.lrs = {0.01, 0.1};
  spec.wd1s = {0.0, 1e-3};
  spec.epochs = 8;
  spec.batch_size = 50;
  const ProbeResult result = train_linear_probes(train, val, test, 4, spec);
  ASSERT_EQ(result.weight.sizes(), torch::IntArrayRef({4, 6}));
  ASSERT_EQ(result.bias.sizes(), torch::IntArrayRef({4}));
  EXPECT_NEAR(result.weight.abs().sum().item<double>(), result.weight_l1, 1e-5 * result.weight_l1);
  const std::pair<const LabeledFeatures*, const SplitScore*> splits[] = {
      {&train, &result.train}, {&val, &result.val}, {&test, &result.test}};
  for (const auto& [data, score] : splits) {
    // In float64, as torch.nn.Linear would compute logits = x W^T + b.
    const auto logits =
        data->x.to(torch::kDouble).mm(result.weight.to(torch::kDouble).t()) + result.bias.to(torch::kDouble);
    const double top1 = (logits.argmax(1) == data->y).to(torch::kDouble).mean().item<double>() * 100;
    const double loss = torch::nn::functional::cross_entropy(logits, data->y).item<double>();
    EXPECT_NEAR(top1, score->top1, 1e-9);
    EXPECT_NEAR(loss, score->loss, 1e-4);
  }
}

// ---- what `run` stores, and `export` ----

std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(field);
  return fields;
}

class StoredArtifactsTest : public semharness_test::TinyStoredFeaturesTest<StoredArtifactsTest> {
 public:
  static constexpr const char* kGrid = "art";
};

TEST_F(StoredArtifactsTest, FinishedRunsStoreFeaturesAndProbesWithTheirShapes) {
  Store store(db_.string());
  const auto runs = store.runs("art");
  ASSERT_EQ(runs.size(), 2u);
  const Dataset synthetic = load_dataset("synthetic", "");
  for (const RunRecord& run : runs) {
    SCOPED_TRACE(run.config.at("sem"));
    ASSERT_EQ(run.status, "finished");
    const auto dir = stored_artifacts(db_.string(), run.run_id);
    ASSERT_TRUE(dir.has_value());
    EXPECT_EQ(*dir, fs::path(db_.string() + ".artifacts") / run.run_id);
    const auto shape = [&](const std::string& name) { return read_npy((*dir / name).string()).shape; };

    const NpyArray train_index = read_npy((*dir / "train_index.npy").string());
    const NpyArray train_labels = read_npy((*dir / "train_labels.npy").string());
    const NpyArray test_index = read_npy((*dir / "test_index.npy").string());
    const NpyArray test_labels = read_npy((*dir / "test_labels.npy").string());
    ASSERT_EQ(train_labels.shape, std::vector<int64_t>({300}));
    ASSERT_EQ(test_labels.shape, std::vector<int64_t>({300}));
    EXPECT_EQ(train_labels.dtype, "<i8");
    // The stored labels are the dataset's labels of the stored indices; the indices are distinct, ascending.
    EXPECT_TRUE(std::is_sorted(train_index.i64.begin(), train_index.i64.end()));
    EXPECT_EQ(std::set<int64_t>(train_index.i64.begin(), train_index.i64.end()).size(), 300u);
    for (size_t i = 0; i < 300; ++i) {
      EXPECT_EQ(train_labels.i64[i], synthetic.train.labels.at(static_cast<size_t>(train_index.i64[i])));
      EXPECT_EQ(test_labels.i64[i], synthetic.test.labels.at(static_cast<size_t>(test_index.i64[i])));
    }
    const int64_t d_h = shape("train_h.npy").at(1);
    EXPECT_EQ(shape("train_h.npy"), std::vector<int64_t>({300, d_h}));
    EXPECT_EQ(shape("test_h.npy"), std::vector<int64_t>({300, d_h}));
    EXPECT_EQ(read_npy((*dir / "train_h.npy").string()).dtype, "<f4");
    // The default probe.protocols = lbfgs stores the L-BFGS probe's files only.
    EXPECT_EQ(shape("lbfgs_probe_backbone_weight.npy"), std::vector<int64_t>({10, d_h}));
    EXPECT_EQ(shape("lbfgs_probe_backbone_bias.npy"), std::vector<int64_t>({10}));
    EXPECT_FALSE(fs::exists(*dir / "probe_backbone_weight.npy"));
    const std::string meta_text = read_bytes(*dir / "meta.json");
    const nlohmann::json meta = nlohmann::json::parse(meta_text);
    EXPECT_EQ(meta.at("run_id"), run.run_id) << meta_text;
    EXPECT_EQ(meta.at("tau_d"), nlohmann::json({0.01, 0.1, 1.0})) << meta_text;
    EXPECT_EQ(meta.at("samples"), nlohmann::json({{"train", 300}, {"test", 300}})) << meta_text;
    EXPECT_EQ(meta.at("sample_seed"), kArtifactSampleSeed) << meta_text;
    std::vector<std::string> stored_files;
    for (const auto& entry : fs::directory_iterator(*dir)) {
      if (entry.path().extension() == ".npy") stored_files.push_back(entry.path().filename().string());
    }
    std::vector<std::string> listed = meta.at("files").get<std::vector<std::string>>();
    std::sort(listed.begin(), listed.end());
    std::sort(stored_files.begin(), stored_files.end());
    EXPECT_EQ(listed, stored_files) << meta_text;

    if (run.config.at("sem") == "off") {
      EXPECT_FALSE(fs::exists(*dir / "train_e.npy"));
      EXPECT_FALSE(fs::exists(*dir / "lbfgs_probe_embedding_weight.npy"));
      EXPECT_TRUE(meta.at("L").is_null()) << meta_text;
      EXPECT_TRUE(meta.at("V").is_null()) << meta_text;
      continue;
    }
    // L = 8, V = 4 (kTinySettings).
    EXPECT_EQ(shape("train_e.npy"), std::vector<int64_t>({300, 32}));
    EXPECT_EQ(shape("test_e.npy"), std::vector<int64_t>({300, 32}));
    EXPECT_EQ(shape("lbfgs_probe_embedding_weight.npy"), std::vector<int64_t>({10, 32}));
    EXPECT_EQ(shape("lbfgs_probe_embedding_bias.npy"), std::vector<int64_t>({10}));
    for (const std::string tau : {"0.01", "0.1", "1"}) {
      EXPECT_EQ(shape("lbfgs_probe_sem_tau" + tau + "_weight.npy"), std::vector<int64_t>({10, 32})) << tau;
      EXPECT_EQ(shape("lbfgs_probe_sem_tau" + tau + "_bias.npy"), std::vector<int64_t>({10})) << tau;
    }
    EXPECT_EQ(meta.at("L"), 8) << meta_text;
    EXPECT_EQ(meta.at("V"), 4) << meta_text;
    EXPECT_NE(meta.at("layout").get<std::string>().find("vertex-major"), std::string::npos) << meta_text;
    // The stored probe is the selected one: its sum |W| is the weight_l1 the results table holds.
    const NpyArray weight = read_npy((*dir / "lbfgs_probe_embedding_weight.npy").string());
    double l1 = 0;
    for (float w : weight.f32) l1 += std::abs(w);
    bool found = false;
    for (const ResultRow& row : store.results(run.run_id)) {
      if (row.protocol == "lbfgs_probe" && row.feature == "embedding" && row.metric == "weight_l1") {
        EXPECT_NEAR(l1, row.value, 1e-4 * row.value);
        found = true;
      }
    }
    EXPECT_TRUE(found);
  }
  EXPECT_TRUE(fs::is_directory(db_.string() + ".artifacts"));
  for (const auto& entry : fs::directory_iterator(db_.string() + ".artifacts")) {
    EXPECT_EQ(entry.path().extension(), "") << "a temporary folder was left: " << entry.path();
  }
}

TEST_F(StoredArtifactsTest, ExportCopiesTheFilesWithAnIndex) {
  const fs::path out = dir_ / "exported";
  const Result result = run_binary(dir_, {"export", "--db", db_.string(), "--out", out.string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("2 finished runs"), std::string::npos) << result.output;
  std::istringstream index(read_bytes(out / "index.csv"));
  std::string line;
  std::getline(index, line);
  EXPECT_EQ(line, "run_id,grid,method,sem,seed,L,V,dir,files");
  Store store(db_.string());
  std::map<std::string, RunRecord> runs;
  for (const auto& run : store.runs("art")) runs[run.run_id] = run;
  int rows = 0;
  while (std::getline(index, line)) {
    const auto fields = csv_fields(line);
    ASSERT_EQ(fields.size(), 9u) << line;
    ASSERT_TRUE(runs.count(fields[0])) << line;
    const RunRecord& run = runs.at(fields[0]);
    EXPECT_EQ(fields[1], "art");
    EXPECT_EQ(fields[2], "simclr");
    EXPECT_EQ(fields[3], run.config.at("sem"));
    EXPECT_EQ(fields[4], "0");
    EXPECT_EQ(fields[5], run.config.at("sem") == "on" ? "8" : "");
    EXPECT_EQ(fields[6], run.config.at("sem") == "on" ? "4" : "");
    EXPECT_EQ(fields[7], "art/sem=" + run.config.at("sem") + "_seed=0");
    const fs::path source = *stored_artifacts(db_.string(), run.run_id);
    std::istringstream files(fields[8]);
    std::string file;
    int count = 0;
    while (std::getline(files, file, ';')) {
      EXPECT_EQ(read_bytes(out / fields[7] / file), read_bytes(source / file)) << file;
      ++count;
    }
    EXPECT_EQ(count, run.config.at("sem") == "on" ? 7 + 4 * 2 + 2 + 2 : 7 + 2) << fields[8];
    EXPECT_NE(fields[8].find("train_h.npy"), std::string::npos);
    ++rows;
  }
  EXPECT_EQ(rows, 2);

  // Bad input: no --out, a missing database.
  EXPECT_EQ(run_binary(dir_, {"export", "--db", db_.string()}).exit_code, 2);
  const Result missing = run_binary(dir_, {"export", "--db", (dir_ / "none.db").string(), "--out", out.string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("none.db"), std::string::npos) << missing.output;
}

TEST(StoredArtifactsOff, NoSamplesStoreNothingAndExportSaysSo) {
  const fs::path dir = make_temp_dir("artifacts-off");
  write_bytes(dir / "none.ini", std::string("name = none\nepochs = 1\nmethod = simclr\n") + kTinySettings);
  const fs::path db = dir / "none.db";
  const Result run = run_binary(dir, {"run", (dir / "none.ini").string(), "--db", db.string(), "--device", "cpu",
                                      "--set", "analysis.samples=0", "--set", "probe.epochs=1"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_FALSE(fs::exists(db.string() + ".artifacts"));
  const Result exported = run_binary(dir, {"export", "--db", db.string(), "--out", (dir / "out").string()});
  EXPECT_EQ(exported.exit_code, 1) << exported.output;
  EXPECT_NE(exported.output.find("1 finished runs have no stored features"), std::string::npos) << exported.output;
  EXPECT_EQ(read_bytes(dir / "out" / "index.csv"), "run_id,grid,method,sem,seed,L,V,dir,files\n");
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace semharness
