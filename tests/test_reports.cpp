// The comparison table against hand-computed means and standard deviations on records the test builds.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "harness/config/errors.h"
#include "reports/ablations.h"
#include "reports/comparison_table.h"
#include "reports/reference_numbers.h"
#include "reports/run_labels.h"
#include "reports/timings_table.h"
#include "report_fixture.h"
#include "test_paths.h"

using namespace semharness;

namespace {

RunRecord record(const std::string& id, const std::string& method, const std::string& sem,
                 const std::string& status = "finished", int64_t seed = 0) {
  RunRecord r;
  r.run_id = id;
  r.status = status;
  r.seed = seed;
  for (const auto& spec : config_keys()) r.config[spec.name] = spec.default_value;
  r.config["method"] = method;
  r.config["sem"] = sem;
  return r;
}

ResultRow top1(const std::string& id, const std::string& feature, std::optional<double> tau, const std::string& split,
               double v) {
  return {id, "linear_probe", feature, tau, split, "top1", v};
}

}  // namespace

TEST(ReportTest, SeedStatsHandComputed) {
  const auto s = seed_stats({70.0, 72.0, 74.0});
  EXPECT_NEAR(s.mean, 72.0, 1e-12);
  EXPECT_NEAR(s.std, 2.0, 1e-12);  // sample std: sqrt((4 + 0 + 4) / 2)
  EXPECT_EQ(s.n, 3);
  EXPECT_EQ(seed_stats({5.0}).std, 0.0);
}

TEST(ReportTest, ComparisonTableSelectsTauOnValidation) {
  std::vector<RunRecord> runs = {record("a", "simclr", "off"), record("b", "simclr", "off", "finished", 1),
                                 record("c", "simclr", "on"), record("d", "byol", "on"),
                                 record("e", "byol", "off", "failed")};
  std::vector<ResultRow> results = {
      top1("a", "backbone", std::nullopt, "test", 60.0), top1("b", "backbone", std::nullopt, "test", 64.0),
      // run c: tau_d 0.1 is best on validation (80 > 70), so its test 75 counts, not the 90 of tau_d 1.
      top1("c", "sem", 0.1, "val", 80.0), top1("c", "sem", 0.1, "test", 75.0), top1("c", "sem", 1.0, "val", 70.0),
      top1("c", "sem", 1.0, "test", 90.0), top1("c", "backbone", std::nullopt, "test", 10.0),
      top1("d", "sem", 1.0, "val", 50.0), top1("d", "sem", 1.0, "test", 55.0),
      top1("e", "backbone", std::nullopt, "test", 99.0)};
  const auto rows = comparison_table(runs, results);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].label, "simclr");
  ASSERT_TRUE(rows[0].baseline && rows[0].sem);
  EXPECT_NEAR(rows[0].baseline->mean, 62.0, 1e-12);
  EXPECT_NEAR(rows[0].baseline->std, std::sqrt(8.0), 1e-12);
  EXPECT_NEAR(rows[0].sem->mean, 75.0, 1e-12);
  EXPECT_EQ(rows[1].label, "byol");
  EXPECT_FALSE(rows[1].baseline);  // its only baseline run failed
  EXPECT_NEAR(rows[1].sem->mean, 55.0, 1e-12);
  const auto text = format_comparison(rows);
  EXPECT_NE(text.find("simclr"), std::string::npos);
  EXPECT_NE(text.find("+13.00"), std::string::npos);
}

TEST(ReportTest, ControlsGetTheirOwnColumns) {
  std::vector<RunRecord> runs = {record("a", "vicreg", "off"), record("b", "vicreg", "linear"),
                                 record("c", "vicreg", "gumbel")};
  std::vector<ResultRow> results = {top1("a", "backbone", std::nullopt, "test", 60.0),
                                    top1("b", "embedding", std::nullopt, "test", 61.0),
                                    top1("b", "backbone", std::nullopt, "test", 1.0),
                                    top1("c", "sem", 0.1, "val", 50.0), top1("c", "sem", 0.1, "test", 63.0)};
  const auto rows = comparison_table(runs, results);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].sem);
  EXPECT_NEAR(rows[0].linear->mean, 61.0, 1e-12);
  EXPECT_NEAR(rows[0].gumbel->mean, 63.0, 1e-12);
  const auto text = format_comparison(rows);
  EXPECT_NE(text.find("+linear"), std::string::npos);
  EXPECT_NE(text.find("+gumbel"), std::string::npos);
}

// A run stored before a key existed (no value) ran at the key's default: it reads as the default, so that it
// and a newer run at the default are not told apart by that key, while a run away from the default is.
TEST(ReportTest, AKeyAddedLaterReadsAsItsDefaultInLabels) {
  const auto run = [](const std::string& id, const std::string& head_batch_norm) {
    RunRecord record;
    record.run_id = id;
    record.grid = "g";
    for (const KeySpec& spec : config_keys()) record.config[spec.name] = spec.default_value;
    record.config["method"] = "dino";
    record.config["dino.head_batch_norm"] = head_batch_norm;
    return record;
  };
  const RunRecord older = run("a", ""), newer = run("b", "off"), other = run("c", "on");
  EXPECT_EQ(stored_value(older, "dino.head_batch_norm"), "off");
  EXPECT_TRUE(distinguishing_keys({&older, &newer}).empty());
  EXPECT_EQ(distinguishing_keys({&older, &other}), std::vector<std::string>{"dino.head_batch_norm"});
  EXPECT_EQ(row_label(older, {"method", "dino.head_batch_norm"}), "dino dino.head_batch_norm=off");
}

TEST(ReportTest, PairedIntervalHandComputed) {
  // Per-seed differences 3, 4, 2: mean 3, sample std 1, t-interval 3 ± t_{0.975,2} / sqrt(3).
  const auto ci = difference_interval({{0, 60.0}, {1, 62.0}, {2, 64.0}}, {{0, 63.0}, {1, 66.0}, {2, 66.0}});
  ASSERT_TRUE(ci);
  EXPECT_TRUE(ci->paired);
  EXPECT_NEAR(ci->difference, 3.0, 1e-12);
  EXPECT_NEAR(ci->df, 2.0, 1e-12);
  const double half = semharness_test::t975_df2() / std::sqrt(3.0);
  EXPECT_NEAR(ci->low, 3.0 - half, 1e-9);
  EXPECT_NEAR(ci->high, 3.0 + half, 1e-9);
  EXPECT_NEAR(semharness_test::t975_df2(), 4.302652729911275, 1e-9);  // the tabulated value, for the record
}

TEST(ReportTest, WelchIntervalHandComputed) {
  // Different seeds: Welch. Equal variances 1 and n 3 on both sides: se^2 = 1/3 + 1/3, df = (2/3)^2 / (2 (1/3)^2 / 2)
  // = 4.
  const auto ci = difference_interval({{0, 1.0}, {1, 2.0}, {2, 3.0}}, {{3, 2.0}, {4, 3.0}, {5, 4.0}});
  ASSERT_TRUE(ci);
  EXPECT_FALSE(ci->paired);
  EXPECT_NEAR(ci->difference, 1.0, 1e-12);
  EXPECT_NEAR(ci->df, 4.0, 1e-12);
  const double half = semharness_test::t975_df4() * std::sqrt(2.0 / 3.0);
  EXPECT_NEAR(ci->low, 1.0 - half, 1e-9);
  EXPECT_NEAR(ci->high, 1.0 + half, 1e-9);
  // One side without spread: df is the other side's n - 1.
  const auto flat = difference_interval({{0, 50.0}, {1, 54.0}, {2, 52.0}}, {{0, 56.0}, {1, 56.0}});
  ASSERT_TRUE(flat);
  EXPECT_FALSE(flat->paired);
  EXPECT_NEAR(flat->df, 2.0, 1e-12);
  EXPECT_NEAR(flat->high - flat->difference, semharness_test::t975_df2() * std::sqrt(4.0 / 3.0), 1e-9);
  // A single seed on a side and nothing to pair: no interval.
  EXPECT_FALSE(difference_interval({{0, 1.0}}, {{1, 2.0}, {2, 3.0}}));
  EXPECT_FALSE(difference_interval({{0, 1.0}}, {{0, 2.0}}));
}

class HandmadeReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = semharness_test::make_report_temp_dir("reports");
    db_ = (dir_ / "runs.db").string();
    semharness_test::fill_handmade_database(dir_, db_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string db_;
};

TEST_F(HandmadeReportTest, ComparisonNumbersMatchHandComputation) {
  Store store(db_);
  const auto rows = comparison_table(store.runs("handmade"), store.results());
  ASSERT_EQ(rows.size(), 2u);
  const ComparisonRow& simclr = rows[0];
  const ComparisonRow& byol = rows[1];
  EXPECT_EQ(simclr.label, "simclr");
  EXPECT_EQ(byol.label, "byol");
  EXPECT_EQ(simclr.keys.at("dataset"), "synthetic");

  // Baseline: the runs of sem.L 8 and 16 are one computation per seed, so n counts seeds.
  ASSERT_TRUE(simclr.baseline && simclr.sem);
  EXPECT_NEAR(simclr.baseline->mean, 62.0, 1e-12);
  EXPECT_NEAR(simclr.baseline->std, 2.0, 1e-12);
  EXPECT_EQ(simclr.baseline->n, 3);
  // +SEM: sem.L 8 wins on validation (70 > 66) although sem.L 16 tests higher; tau_d 0.1 is its best.
  EXPECT_NEAR(simclr.sem->mean, 65.0, 1e-12);
  EXPECT_NEAR(simclr.sem->std, std::sqrt(3.0), 1e-12);
  EXPECT_EQ(simclr.sem->n, 3);
  EXPECT_EQ(simclr.arms.at(EmbedderMode::Softmax).setting, "sem.L=8");
  ASSERT_TRUE(simclr.sem_minus_baseline);
  EXPECT_TRUE(simclr.sem_minus_baseline->paired);
  EXPECT_NEAR(simclr.sem_minus_baseline->difference, 3.0, 1e-12);
  EXPECT_NEAR(simclr.sem_minus_baseline->low, 3.0 - semharness_test::t975_df2() / std::sqrt(3.0), 1e-9);
  ASSERT_TRUE(simclr.baseline_online);
  EXPECT_NEAR(simclr.baseline_online->mean, 41.0, 1e-12);
  EXPECT_NEAR(simclr.baseline_online->std, 1.0, 1e-12);

  // byol: seed 2 of +SEM failed, so the seeds differ: Welch, with no spread on the +SEM side (df = 3 - 1).
  ASSERT_TRUE(byol.baseline && byol.sem);
  EXPECT_NEAR(byol.baseline->mean, 52.0, 1e-12);
  EXPECT_NEAR(byol.baseline->std, 2.0, 1e-12);
  EXPECT_NEAR(byol.sem->mean, 56.0, 1e-12);
  EXPECT_NEAR(byol.sem->std, 0.0, 1e-12);
  EXPECT_EQ(byol.sem->n, 2);
  ASSERT_TRUE(byol.sem_minus_baseline);
  EXPECT_FALSE(byol.sem_minus_baseline->paired);
  EXPECT_NEAR(byol.sem_minus_baseline->df, 2.0, 1e-12);
  const double half = semharness_test::t975_df2() * std::sqrt(4.0 / 3.0);
  EXPECT_NEAR(byol.sem_minus_baseline->low, 4.0 - half, 1e-9);
  EXPECT_NEAR(byol.sem_minus_baseline->high, 4.0 + half, 1e-9);

  const ReportSection section = comparison_section(rows, builtin_reference_numbers());
  ASSERT_EQ(section.tables.size(), 1u);
  const ReportTable& table = section.tables[0];
  // No reference for synthetic data; the online column is there.
  EXPECT_EQ(table.header,
            (std::vector<std::string>{"method", "baseline", "+SEM", "+SEM - baseline (95% CI)", "baseline online"}));
  EXPECT_EQ(table.subheader[1], "linear_probe");
  EXPECT_EQ(table.subheader[4], "online_linear");
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0][1].text, "62.00 ± 2.00 (n=3)");
  EXPECT_EQ(table.rows[0][2].text, "65.00 ± 1.73 (n=3)");
  EXPECT_FALSE(table.rows[0][1].best);
  EXPECT_TRUE(table.rows[0][2].best);
  EXPECT_EQ(table.rows[0][3].text, "+3.00 [+0.52, +5.48] paired, n=3");
  EXPECT_EQ(table.rows[1][3].text, "+4.00 [-0.97, +8.97] Welch, df=2.0");
  ASSERT_EQ(section.paragraphs.size(), 1u);
  EXPECT_NE(section.paragraphs[0].find("above the baseline with 95% confidence in 1 of 2 rows"), std::string::npos)
      << section.paragraphs[0];
  EXPECT_NE(section.paragraphs[0].find("undecided in 1"), std::string::npos) << section.paragraphs[0];
}

TEST_F(HandmadeReportTest, AblationsOverLAndTauD) {
  Store store(db_);
  const auto sections = ablation_report(store.runs("handmade"), store.results());
  // sem.L (both methods, one line each) and probe.tau_d (one line per configuration); nothing else varies.
  ASSERT_EQ(sections.size(), 2u);
  EXPECT_EQ(sections[0].id, "ablation_L");
  EXPECT_EQ(sections[1].id, "ablation_tau_d");
  for (const auto& section : sections) {
    ASSERT_EQ(section.tables.size(), 1u);
    ASSERT_EQ(section.plots.size(), 1u);
  }
  const ReportTable& by_L = sections[0].tables[0];
  EXPECT_EQ(by_L.id, "ablation_L");
  EXPECT_EQ(by_L.header, (std::vector<std::string>{"line", "sem.L=8", "sem.L=16"}));
  ASSERT_EQ(by_L.rows.size(), 2u);
  EXPECT_EQ(by_L.rows[0][0].text, "simclr");
  EXPECT_NEAR(*by_L.rows[0][1].value, 65.0, 1e-12);
  EXPECT_NEAR(*by_L.rows[0][2].value, 68.0, 1e-12);  // sem.L 16 at its own best tau_d (1)
  EXPECT_TRUE(by_L.rows[0][2].best);
  EXPECT_EQ(by_L.rows[1][0].text, "byol");
  EXPECT_NEAR(*by_L.rows[1][1].value, 56.0, 1e-12);
  EXPECT_NEAR(*by_L.rows[1][2].value, 58.5, 1e-12);
  EXPECT_EQ(by_L.rows[1][2].text, "58.50 ± 0.71 (n=2)");
  const LinePlot& plot_L = sections[0].plots[0];
  EXPECT_FALSE(plot_L.log_x);  // 8..16: less than a factor of 10
  ASSERT_EQ(plot_L.series.size(), 2u);
  EXPECT_EQ(plot_L.series[0].points, (std::vector<std::pair<double, double>>{{8, 65}, {16, 68}}));
  EXPECT_NEAR(plot_L.series[0].errors[0], std::sqrt(3.0), 1e-12);

  const ReportTable& by_tau = sections[1].tables[0];
  EXPECT_EQ(by_tau.id, "ablation_tau_d");
  ASSERT_EQ(by_tau.rows.size(), 4u);
  EXPECT_EQ(by_tau.rows[0][0].text, "simclr sem.L=8");
  EXPECT_NEAR(*by_tau.rows[0][1].value, 65.0, 1e-12);  // tau_d 0.1
  EXPECT_NEAR(*by_tau.rows[0][2].value, 50.0, 1e-12);  // tau_d 1
  EXPECT_TRUE(sections[1].plots[0].log_x);

  // One sem=off run: nothing to ablate.
  std::vector<RunRecord> one_run = {store.runs("handmade")[0]};
  const auto none = ablation_report(one_run, store.results());
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].id, "ablations");
  EXPECT_TRUE(none[0].tables.empty());
  EXPECT_FALSE(none[0].paragraphs.empty());
}

TEST_F(HandmadeReportTest, TimingsPerGridAndBenchmarkRows) {
  Store store(db_);
  const ReportSection section = timings_section(store, "handmade");
  ASSERT_EQ(section.tables.size(), 3u);
  const ReportTable& grid = section.tables[0];
  EXPECT_EQ(grid.id, "timings_handmade");
  ASSERT_EQ(grid.rows.size(), 2u);
  // Phase order: forward before backward. 12 simclr runs x 10 calls x 50 ms.
  EXPECT_EQ(grid.rows[0][0].text, "forward");
  EXPECT_EQ(grid.rows[0][1].text, "cpu");
  EXPECT_EQ(*grid.rows[0][2].value, 12);            // runs
  EXPECT_EQ(*grid.rows[0][3].value, 120);           // calls
  EXPECT_NEAR(*grid.rows[0][4].value, 0.6, 1e-12);  // s
  EXPECT_NEAR(*grid.rows[0][5].value, 5.0, 1e-12);  // ms per call
  EXPECT_EQ(grid.rows[1][0].text, "backward");
  EXPECT_NEAR(*grid.rows[1][5].value, 3.0, 1e-12);
  const ReportTable& bench = section.tables[1];
  EXPECT_EQ(bench.id, "benchmarks");
  ASSERT_EQ(bench.rows.size(), 5u);
  EXPECT_EQ(bench.rows[0][0].text, "memory/copy");
  EXPECT_EQ(bench.rows[2][0].text, "sem/fused");
  EXPECT_EQ(bench.rows[2][1].text, "B=8");
  EXPECT_NEAR(*bench.rows[2][4].value, 2.5, 1e-12);     // ms per iteration
  EXPECT_NEAR(*bench.rows[2][5].value, 40000.0, 1e-9);  // items/s
  EXPECT_NEAR(*bench.rows[1][6].value, 8.0, 1e-12);     // GB/s of MB=256
  // The fixture's hand-computed floor: 2.5 ms x 4 GB/s / 8 GB/s = 1.25 ms.
  const ReportTable& floor = section.tables[2];
  EXPECT_EQ(floor.id, "memory_floor");
  ASSERT_EQ(floor.rows.size(), 1u);
  EXPECT_EQ(floor.rows[0][0].text, "B=8");
  EXPECT_NEAR(*floor.rows[0][2].value, 2.5, 1e-12);
  EXPECT_NEAR(*floor.rows[0][3].value, 5.0, 1e-12);
  EXPECT_NEAR(*floor.rows[0][4].value, 2.0, 1e-12);
  EXPECT_NEAR(*floor.rows[0][5].value, 1.25, 1e-12);
  EXPECT_NEAR(*floor.rows[0][6].value, 2.0, 1e-12);
  // A newer session replaces a benchmark's row; other benchmarks keep theirs.
  store.add_benchmark_rows("later", {{"sem/fused", "B=8", "cpu", 10, 20.0, std::nullopt, 4e9}});
  const ReportSection later = timings_section(store, "handmade");
  EXPECT_EQ(later.tables[1].rows.size(), 5u);
  EXPECT_NEAR(*later.tables[2].rows[0][2].value, 2.0, 1e-12);
  // Another grid's name: no grid rows, the benchmark rows still.
  EXPECT_EQ(timings_section(store, "elsewhere").tables.size(), 2u);
}

TEST(ReportTest, ReferenceColumnOnlyWhereDatasetAndBackboneMatch) {
  auto cifar = [](const std::string& id, const std::string& method, const std::string& sem, const std::string& backbone,
                  int64_t seed) {
    RunRecord r = record(id, method, sem, "finished", seed);
    r.config["dataset"] = "cifar100";
    r.config["backbone"] = backbone;
    r.config["epochs"] = "1000";
    return r;
  };
  std::vector<RunRecord> runs = {cifar("a", "byol", "off", "resnet18", 0), cifar("b", "byol", "on", "resnet18", 0),
                                 cifar("c", "simclr", "off", "convnet", 0)};
  std::vector<ResultRow> results = {top1("a", "backbone", std::nullopt, "test", 60.0),
                                    top1("b", "sem", 0.1, "val", 50.0), top1("b", "sem", 0.1, "test", 63.0),
                                    top1("c", "backbone", std::nullopt, "test", 50.0)};
  const auto section = comparison_section(comparison_table(runs, results), builtin_reference_numbers());
  const ReportTable& table = section.tables.at(0);
  ASSERT_EQ(table.header.back(), "reference");
  EXPECT_EQ(table.subheader.back(), "online_linear (published)");
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0][0].text, "byol backbone=resnet18");
  EXPECT_EQ(table.rows[0].back().text, "70.46");  // SPEC §5, BYOL on CIFAR-100
  EXPECT_EQ(table.rows[1].back().text, "-");      // a ConvNet is not the reference's ResNet-18
  EXPECT_EQ(table.rows[0][3].text, "+3.00 (no CI: n=1)");
}

TEST(ReportTest, UntrainedBackboneRowsComeLastUnderTheirOwnLabel) {
  const auto run = [](const std::string& id, const std::string& method, const std::string& sem,
                      const std::string& epochs) {
    RunRecord r = record(id, method, sem);
    r.config["epochs"] = epochs;
    return r;
  };
  // The untrained runs come first in the store; their row still goes after the trained one.
  std::vector<RunRecord> runs = {run("u0", "simclr", "off", "0"), run("u1", "simclr", "on", "0"),
                                 run("t0", "simclr", "off", "100"), run("t1", "simclr", "on", "100")};
  std::vector<ResultRow> results = {top1("u0", "backbone", std::nullopt, "test", 20.0),
                                    top1("u1", "sem", 0.1, "val", 30.0),
                                    top1("u1", "sem", 0.1, "test", 25.0),
                                    top1("t0", "backbone", std::nullopt, "test", 60.0),
                                    top1("t1", "sem", 0.1, "val", 70.0),
                                    top1("t1", "sem", 0.1, "test", 66.0)};
  auto rows = comparison_table(runs, results);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].label, "simclr");  // one trained epochs value: nothing for "epochs=" to tell apart
  EXPECT_FALSE(rows[0].untrained);
  EXPECT_EQ(rows[1].label, "untrained backbone");
  EXPECT_TRUE(rows[1].untrained);
  EXPECT_NEAR(rows[1].baseline->mean, 20.0, 1e-12);
  EXPECT_NEAR(rows[1].sem->mean, 25.0, 1e-12);
  const ReportSection section = comparison_section(rows, builtin_reference_numbers());
  EXPECT_EQ(section.tables[0].rows[1][0].text, "untrained backbone");
  // The floor is not evidence for claim 1: one row counted, the trained one.
  EXPECT_NE(section.paragraphs[0].find("1 rows have a single seed on a side and no interval; untrained-backbone rows "
                                       "are not counted"),
            std::string::npos)
      << section.paragraphs[0];
  const auto& notes = section.tables[0].notes;
  EXPECT_TRUE(std::any_of(notes.begin(), notes.end(),
                          [](const std::string& n) { return n.rfind("untrained backbone:", 0) == 0; }));

  // Two methods: each floor names its own.
  runs.push_back(run("b0", "byol", "off", "0"));
  runs.push_back(run("b1", "byol", "off", "100"));
  results.push_back(top1("b0", "backbone", std::nullopt, "test", 21.0));
  results.push_back(top1("b1", "backbone", std::nullopt, "test", 55.0));
  rows = comparison_table(runs, results);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].label, "simclr");
  EXPECT_EQ(rows[1].label, "byol");
  EXPECT_EQ(rows[2].label, "untrained backbone (simclr)");
  EXPECT_EQ(rows[3].label, "untrained backbone (byol)");
  EXPECT_NEAR(rows[3].baseline->mean, 21.0, 1e-12);

  // Two trained epochs values: those rows keep "epochs=", the floor is still one row per method.
  runs.push_back(run("s0", "simclr", "off", "50"));
  results.push_back(top1("s0", "backbone", std::nullopt, "test", 40.0));
  rows = comparison_table(runs, results);
  std::vector<std::string> labels;
  for (const auto& row : rows) labels.push_back(row.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"simclr epochs=100", "byol epochs=100", "simclr epochs=50",
                                              "untrained backbone (simclr)", "untrained backbone (byol)"}));
}

TEST(ReportTest, AllConvergedProbesGetOneShortNote) {
  const auto row = [](const std::string& id, const std::string& protocol, const std::string& feature,
                      std::optional<double> tau, const std::string& split, const std::string& metric,
                      double v) { return ResultRow{id, protocol, feature, tau, split, metric, v}; };
  // c stores only the SGD probe: it has no place in the lbfgs_probe table.
  std::vector<RunRecord> runs = {record("a", "simclr", "off"), record("b", "simclr", "on"), record("c", "byol", "off")};
  std::vector<ResultRow> results = {row("a", "lbfgs_probe", "backbone", std::nullopt, "test", "top1", 60.0),
                                    row("a", "lbfgs_probe", "backbone", std::nullopt, "train", "probe_converged", 1.0),
                                    row("b", "lbfgs_probe", "sem", 0.1, "val", "top1", 70.0),
                                    row("b", "lbfgs_probe", "sem", 0.1, "test", "top1", 64.0),
                                    row("b", "lbfgs_probe", "sem", 0.1, "train", "probe_converged", 1.0),
                                    row("b", "lbfgs_probe", "backbone", std::nullopt, "train", "probe_converged", 1.0),
                                    row("c", "linear_probe", "backbone", std::nullopt, "test", "top1", 50.0)};
  const auto rows = comparison_table(runs, results, kLbfgsProbe);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].label, "simclr");
  EXPECT_EQ(rows[0].protocol, "lbfgs_probe");
  EXPECT_EQ(rows[0].probes_with_convergence, 3);
  EXPECT_TRUE(rows[0].unconverged.empty());
  const ReportSection section = comparison_section(rows, builtin_reference_numbers());
  EXPECT_EQ(section.id, "comparison_lbfgs_probe");
  const auto& notes = section.tables.at(0).notes;
  EXPECT_NE(std::find(notes.begin(), notes.end(),
                      "Convergence: all 3 lbfgs_probe probes reached the gradient tolerance (probe.tolerance)."),
            notes.end());
  // Both protocols through the overload that takes them all: the converged one first.
  const auto both = comparison_table(runs, results);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].protocol, "lbfgs_probe");
  EXPECT_EQ(both[0].label, "simclr");
  EXPECT_EQ(both[1].protocol, "linear_probe");
  EXPECT_EQ(both[1].label, "byol");
  EXPECT_NEAR(both[1].baseline->mean, 50.0, 1e-12);
}

class ProtocolsReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = semharness_test::make_report_temp_dir("protocols");
    db_ = (dir_ / "runs.db").string();
    semharness_test::fill_protocols_database(dir_, db_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string db_;
};

TEST_F(ProtocolsReportTest, ATablePerProtocolAndTheSurvivalTable) {
  Store store(db_);
  const auto sections = comparison_sections(store, builtin_reference_numbers(), "protocols");
  ASSERT_EQ(sections.size(), 3u);
  EXPECT_EQ(sections[0].id, "comparison_lbfgs_probe");
  EXPECT_EQ(sections[1].id, "comparison");
  EXPECT_EQ(sections[2].id, "probe_survival");
  const ReportTable& lbfgs = sections[0].tables.at(0);
  const ReportTable& sgd = sections[1].tables.at(0);
  EXPECT_EQ(lbfgs.id, "comparison_lbfgs_probe");
  EXPECT_EQ(lbfgs.title, "Test top-1 (%): baseline vs +SEM, lbfgs_probe");
  EXPECT_EQ(sgd.title, "Test top-1 (%): baseline vs +SEM, linear_probe");
  for (size_t c = 1; c <= 3; ++c) {
    EXPECT_EQ(lbfgs.subheader[c], "lbfgs_probe");
    EXPECT_EQ(sgd.subheader[c], "linear_probe");
  }
  EXPECT_NE(lbfgs.notes[0].find(std::string(probe_protocol_description(kLbfgsProbe))), std::string::npos)
      << lbfgs.notes[0];
  EXPECT_NE(sgd.notes[0].find(std::string(probe_protocol_description(kSgdProbe))), std::string::npos) << sgd.notes[0];

  // lbfgs_probe picks tau_d 1 on its own validation (85 > 80), so the 99 at tau_d 0.1 does not count.
  ASSERT_EQ(lbfgs.rows.size(), 2u);
  EXPECT_EQ(lbfgs.rows[0][0].text, "simclr");
  EXPECT_EQ(lbfgs.rows[0][1].text, "71.00 ± 1.00 (n=3)");
  EXPECT_EQ(lbfgs.rows[0][2].text, "73.00 ± 1.00 (n=3)");
  // Per-seed differences 2, 3, 1: 2 ± t_{0.975,2} / sqrt(3); -1, -2, -2: -5/3 ± t_{0.975,2} sqrt(1/3) / sqrt(3).
  EXPECT_EQ(lbfgs.rows[0][3].text, "+2.00 [-0.48, +4.48] paired, n=3");
  EXPECT_EQ(lbfgs.rows[1][0].text, "byol");
  EXPECT_EQ(lbfgs.rows[1][3].text, "-1.67 [-3.10, -0.23] paired, n=3");
  // linear_probe picks tau_d 0.1 (70 > 60): 3, 4, 2 and 6, 3, 3.
  ASSERT_EQ(sgd.rows.size(), 2u);
  EXPECT_EQ(sgd.rows[0][3].text, "+3.00 [+0.52, +5.48] paired, n=3");
  EXPECT_EQ(sgd.rows[1][3].text, "+4.00 [-0.30, +8.30] paired, n=3");
  EXPECT_NE(sections[0].paragraphs.at(0).find("(lbfgs_probe): +SEM is above the baseline with 95% confidence in 0 of 2 "
                                              "rows with an interval, below in 1, undecided in 1"),
            std::string::npos)
      << sections[0].paragraphs[0];
  EXPECT_NE(sections[1].paragraphs.at(0).find("(linear_probe): +SEM is above the baseline with 95% confidence in 1 of "
                                              "2 rows with an interval, below in 0, undecided in 1"),
            std::string::npos)
      << sections[1].paragraphs[0];

  const ReportTable& survival = sections[2].tables.at(0);
  EXPECT_EQ(survival.title, "Does SEM's gain survive the probe?");
  EXPECT_EQ(survival.header, (std::vector<std::string>{"configuration", "lbfgs_probe", "linear_probe"}));
  ASSERT_EQ(survival.rows.size(), 2u);
  EXPECT_EQ(survival.rows[0][0].text, "simclr");
  EXPECT_EQ(survival.rows[0][1].text, "+2.00 [-0.48, +4.48] paired, n=3");
  EXPECT_EQ(survival.rows[0][2].text, "+3.00 [+0.52, +5.48] paired, n=3");
  EXPECT_EQ(survival.rows[1][0].text, "byol");
  EXPECT_NEAR(*survival.rows[1][1].value, -5.0 / 3.0, 1e-12);
  EXPECT_NEAR(survival.rows[1][1].details.at(0).second, -5.0 / 3.0 - semharness_test::t975_df2() / 3.0, 1e-9);
  EXPECT_NEAR(*survival.rows[1][2].value, 4.0, 1e-12);
  EXPECT_NEAR(survival.rows[1][2].details.at(1).second, 4.0 + semharness_test::t975_df2(), 1e-9);
  // simclr: + under both, but above under linear_probe and undecided under lbfgs_probe; byol: - and +.
  ASSERT_EQ(survival.notes.size(), 1u);
  EXPECT_NE(survival.notes[0].find("The sign of the difference agrees across lbfgs_probe, linear_probe in 1 of 2 rows"),
            std::string::npos)
      << survival.notes[0];
  EXPECT_NE(survival.notes[0].find("(above / below / undecided) agrees in 0 of 2 rows"), std::string::npos)
      << survival.notes[0];
}

TEST_F(ProtocolsReportTest, NonConvergedProbesAreNamed) {
  Store store(db_);
  const auto sections = comparison_sections(store, builtin_reference_numbers(), "protocols");
  ASSERT_GE(sections.size(), 2u);
  const auto convergence = [](const ReportSection& section) {
    for (const auto& note : section.tables.at(0).notes) {
      if (note.rfind("Convergence:", 0) == 0) return note;
    }
    return std::string();
  };
  const std::string note = convergence(sections[0]);
  EXPECT_EQ(note.rfind("Convergence: 2 of 24 lbfgs_probe probes did not reach the gradient tolerance (probe_converged "
                       "= 0), largest probe_grad_norm first: method=byol sem=on seed=1 sem tau_d=1 (probe_grad_norm "
                       "0.002); method=simclr sem=off seed=2 backbone (probe_grad_norm 0.0005).",
                       0),
            0u)
      << note;
  EXPECT_EQ(convergence(sections[1]), "");  // the SGD probe has no convergence record

  const auto rows = comparison_table(store.runs("protocols"), store.results(), kLbfgsProbe);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].probes_with_convergence, 3 + 3 * 3);  // sem=off: backbone; sem=on: backbone and two tau_d
  ASSERT_EQ(rows[1].unconverged.size(), 1u);
  EXPECT_EQ(rows[1].unconverged[0].run_label, "method=byol sem=on seed=1");
  EXPECT_EQ(rows[1].unconverged[0].feature, "sem");
  EXPECT_EQ(rows[1].unconverged[0].tau_d, 1.0);
  EXPECT_EQ(rows[1].unconverged[0].grad_norm, 0.002);

  // The terminal text after `run`: each protocol's table with its notes, then the survival table.
  const std::string text = format_comparison(comparison_table(store.runs("protocols"), store.results()));
  const auto lbfgs_at = text.find("Test top-1 (%): baseline vs +SEM, lbfgs_probe");
  const auto sgd_at = text.find("Test top-1 (%): baseline vs +SEM, linear_probe");
  const auto survival_at = text.find("Does SEM's gain survive the probe?");
  ASSERT_NE(lbfgs_at, std::string::npos) << text;
  ASSERT_NE(sgd_at, std::string::npos) << text;
  ASSERT_NE(survival_at, std::string::npos) << text;
  EXPECT_LT(lbfgs_at, sgd_at);
  EXPECT_LT(sgd_at, survival_at);
  EXPECT_NE(text.find("Convergence: 2 of 24 lbfgs_probe probes"), std::string::npos) << text;
  EXPECT_NE(text.find("-1.67 [-3.10, -0.23] paired, n=3"), std::string::npos) << text;
}

TEST_F(ProtocolsReportTest, AblationsUseTheFirstProtocolAndSaySo) {
  Store store(db_);
  const auto sections = ablation_report(store.runs("protocols"), store.results());
  ASSERT_EQ(sections.size(), 1u);  // only probe.tau_d takes two values
  const ReportTable& by_tau = sections[0].tables.at(0);
  EXPECT_EQ(by_tau.id, "ablation_tau_d");
  ASSERT_EQ(by_tau.rows.size(), 2u);
  EXPECT_EQ(by_tau.rows[0][0].text, "simclr");
  EXPECT_NEAR(*by_tau.rows[0][1].value, 99.0, 1e-12);  // lbfgs_probe at tau_d 0.1 (linear_probe: 65)
  EXPECT_NEAR(*by_tau.rows[0][2].value, 73.0, 1e-12);
  ASSERT_EQ(by_tau.notes.size(), 2u);
  EXPECT_NE(by_tau.notes[0].find("Linear probe (lbfgs_probe)"), std::string::npos) << by_tau.notes[0];
  EXPECT_NE(by_tau.notes[1].find("Probe protocol lbfgs_probe, the first these runs store"), std::string::npos)
      << by_tau.notes[1];
  EXPECT_NE(by_tau.notes[1].find("also store linear_probe"), std::string::npos) << by_tau.notes[1];
}

TEST(ReferenceNumbersTest, BuiltinCopyMatchesResultsFile) {
  std::ifstream in(std::string(SEMHARNESS_SOURCE_DIR) + "/results/reference.csv", std::ios::binary);
  ASSERT_TRUE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(builtin_reference_csv(), text.str());
  const auto& numbers = builtin_reference_numbers();
  EXPECT_EQ(numbers.size(), 20u);  // ten methods x CIFAR-10/100
  const ReferenceNumber* simclr = find_reference(numbers, "simclr", "cifar100", "resnet18");
  ASSERT_NE(simclr, nullptr);
  EXPECT_EQ(simclr->top1, 65.78);
  EXPECT_EQ(simclr->epochs, 1000);
  EXPECT_EQ(simclr->protocol, "online_linear");
  EXPECT_EQ(find_reference(numbers, "mocov2plus", "cifar10", "resnet18")->top1, 92.94);
  EXPECT_EQ(find_reference(numbers, "simclr", "cifar100", "convnet"), nullptr);
}

TEST(ReferenceNumbersTest, MalformedFilesAreInputErrors) {
  const std::string header = "method,dataset,backbone,epochs,protocol,top1,source\n";
  EXPECT_THROW(parse_reference_csv("method,dataset\nbyol,cifar10\n", "r.csv"), InputError);
  EXPECT_THROW(parse_reference_csv(header + "byol,cifar10,resnet18,1000,online_linear,high,x\n", "r.csv"), InputError);
  EXPECT_THROW(parse_reference_csv(header + "byol,cifar10,resnet18,1000,online_linear,70\n", "r.csv"), InputError);
  try {
    parse_reference_csv(header + "byol,cifar10,resnet18,10.5,online_linear,70,x\n", "r.csv");
    FAIL() << "no error for fractional epochs";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("r.csv:2: epochs", 0), 0u) << e.what();
  }
  const auto quoted = parse_reference_csv(
      header + "byol,cifar10,resnet18,1000,online_linear,70.5,\"paper, \"\"Table 1\"\"\"\n", "r.csv");
  ASSERT_EQ(quoted.size(), 1u);
  EXPECT_EQ(quoted[0].source, "paper, \"Table 1\"");
}
