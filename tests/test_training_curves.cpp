// The training-curves section: planted online top-1 curves, every number of its table computed by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/config/grid.h"
#include "harness/results/vocabulary.h"
#include "harness/store/store.h"
#include "report_fixture.h"
#include "reports/training_curves.h"

using namespace semharness;

namespace {

// grid 'curves': simclr x sem off, on x seeds 0, 1, 2 x epochs 0, 8. Online test top-1 at epoch k:
//   sem=off: 50 + 2k + seed (k = 1..8)  -> mean over seeds 0, 1 at epoch 2: 54.5 ± 0.71, 4: 58.5, 6: 62.5,
//            8: 66.5; last quarter 66.5 - 62.5 = +4.00
//   sem=on : 70 + seed, flat; seed 1 stored epochs 1..6 only, so the mean curve has the epochs both seeds
//            reached, 1..6: quarter = epoch 1 (1.5 is as near 1 as 2: the first is kept), half 3, three
//            quarters 4 (4.5: the first of 4 and 5), end 6; every value 70.5 ± 0.71, last quarter +0.00.
// The untrained runs (epochs 0) and the diverged ones (seed 2) store curves too and are left out.
class TrainingCurvesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = semharness_test::make_report_temp_dir("curves");
    db_ = (dir_ / "curves.db").string();
    std::ofstream(dir_ / "curves.ini") << "name = curves\ndataset = synthetic\nmethod = simclr\nsem = off, on\n"
                                          "seeds = 0, 1, 2\nepochs = 0, 8\n";
    const Grid grid = load_grid((dir_ / "curves.ini").string());
    Store store(db_);
    store.register_runs(grid);
    for (const RunConfig& run : grid.runs) {
      RunOutcome outcome;
      outcome.run_id = run.run_id();
      outcome.status = run.seed == 2 ? text(RunStatus::Diverged) : text(RunStatus::Finished);
      const bool sem = run.str("sem") == "on";
      const int64_t last = sem && run.seed == 1 ? 6 : 8;
      for (int64_t epoch = 1; epoch <= last; ++epoch) {
        const double value = sem ? 70.0 + run.seed : 50.0 + 2.0 * epoch + run.seed;
        outcome.metrics.push_back({epoch, std::string(kOnlineTestTop1Curve), value});
        outcome.metrics.push_back({epoch, std::string(kTrainLossCurve), 1.0});
      }
      store.finish_run(outcome);
    }
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::filesystem::path dir_;
  std::string db_;
};

TEST_F(TrainingCurvesTest, TableAndPlotsFromTheMeanCurveOfTrainedFinishedRuns) {
  Store store(db_);
  const auto sections = training_curve_sections(store, db_, "");
  ASSERT_EQ(sections.size(), 1u);
  const ReportSection& section = sections[0];
  EXPECT_EQ(section.id, "curves_curves");
  ASSERT_EQ(section.tables.size(), 1u);
  const ReportTable& table = section.tables[0];
  ASSERT_EQ(table.rows.size(), 2u);
  const auto& off = table.rows[0];
  EXPECT_EQ(off[0].text, "simclr");
  EXPECT_EQ(off[1].text, "sem=off");
  EXPECT_EQ(off[2].text, "8");
  EXPECT_EQ(off[3].text, "54.50 ± 0.71");
  EXPECT_EQ(off[4].text, "58.50 ± 0.71");
  EXPECT_EQ(off[5].text, "62.50 ± 0.71");
  EXPECT_EQ(off[6].text, "66.50 ± 0.71");
  EXPECT_EQ(off[7].text, "+4.00");
  EXPECT_EQ(off[8].text, "2");
  const auto& on = table.rows[1];
  EXPECT_EQ(on[1].text, "sem=on");
  EXPECT_EQ(on[2].text, "6");
  for (int column = 3; column <= 6; ++column) EXPECT_EQ(on[column].text, "70.50 ± 0.71") << column;
  EXPECT_EQ(on[7].text, "+0.00");

  ASSERT_EQ(section.plots.size(), 1u);
  const LinePlot& plot = section.plots[0];
  ASSERT_EQ(plot.series.size(), 2u);
  EXPECT_EQ(plot.series[0].label, "sem=off");
  ASSERT_EQ(plot.series[0].points.size(), 8u);
  EXPECT_DOUBLE_EQ(plot.series[0].points[0].first, 1.0);
  EXPECT_DOUBLE_EQ(plot.series[0].points[0].second, 52.5);
  EXPECT_NEAR(plot.series[0].errors[0], 0.70710678, 1e-6);
  EXPECT_EQ(plot.series[1].points.size(), 6u);
}

TEST_F(TrainingCurvesTest, NoSectionWithoutCurves) {
  Store store(db_);
  EXPECT_TRUE(training_curve_sections(store, db_, "another_grid").empty());
}

}  // namespace
