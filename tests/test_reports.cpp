// The comparison table against hand-computed means and standard deviations on records the test builds.
#include <cmath>

#include <gtest/gtest.h>

#include "reports/comparison_table.h"

using namespace semharness;

namespace {

RunRecord record(const std::string& id, const std::string& method, const std::string& sem, const std::string& status = "finished") {
  RunRecord r;
  r.run_id = id;
  r.status = status;
  for (const auto& spec : config_keys()) r.config[spec.name] = spec.default_value;
  r.config["method"] = method;
  r.config["sem"] = sem;
  return r;
}

ResultRow top1(const std::string& id, const std::string& feature, std::optional<double> tau, const std::string& split, double v) {
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
  std::vector<RunRecord> runs = {record("a", "simclr", "off"), record("b", "simclr", "off"),
                                 record("c", "simclr", "on"), record("d", "byol", "on"),
                                 record("e", "byol", "off", "failed")};
  std::vector<ResultRow> results = {
      top1("a", "backbone", std::nullopt, "test", 60.0), top1("b", "backbone", std::nullopt, "test", 64.0),
      // run c: tau_d 0.1 is best on validation (80 > 70), so its test 75 counts, not the 90 of tau_d 1.
      top1("c", "sem", 0.1, "val", 80.0), top1("c", "sem", 0.1, "test", 75.0),
      top1("c", "sem", 1.0, "val", 70.0), top1("c", "sem", 1.0, "test", 90.0),
      top1("c", "backbone", std::nullopt, "test", 10.0),
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
  std::vector<ResultRow> results = {
      top1("a", "backbone", std::nullopt, "test", 60.0),
      top1("b", "embedding", std::nullopt, "test", 61.0), top1("b", "backbone", std::nullopt, "test", 1.0),
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
