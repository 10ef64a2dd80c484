// The regression gate: Welch's t-test against independently computed values, the gate's decisions on
// databases with planted accuracies (built through Store), and `semharness check`'s exit codes and output,
// with the baseline database left byte-identical.
#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_support.h"
#include "harness/config/errors.h"
#include "harness/config/grid.h"
#include "harness/store/snapshot.h"
#include "harness/store/store.h"
#include "reports/regression_gate.h"
#include "reports/statistics.h"
#include "test_paths.h"

namespace semharness {
namespace {

namespace fs = std::filesystem;
using semharness_test::make_temp_dir;
using semharness_test::read_bytes;
using semharness_test::run_binary;
using semharness_test::write_bytes;

// Reference values: Welch's t and Welch–Satterthwaite df by hand, and P(T_df <= t) by numerically integrating
// the Student t density with mpmath (30 digits), not with Boost:
//   quad(lambda x: gamma((v+1)/2)/(sqrt(v*pi)*gamma(v/2))*(1+x*x/v)**(-(v+1)/2), [-inf, t])
TEST(WelchTest, EqualVariancesMatchHandComputedCase) {
  // {1,2,3,4} vs {2,3,4,5}: means 2.5 and 3.5, both variances 5/3; t = -1 / sqrt(2 * (5/3) / 4) = -1.0954,
  // df = (5/6)^2 / (2 * (5/12)^2 / 3) = 6 (equal n and variances give n_a + n_b - 2), p = 0.1577.
  const WelchTest test = welch_t_test(seed_stats({1, 2, 3, 4}), seed_stats({2, 3, 4, 5}));
  EXPECT_NEAR(test.t, -1.0954451150103322, 1e-12);
  EXPECT_NEAR(test.df, 6.0, 1e-12);
  EXPECT_NEAR(test.p_lower, 0.15766679810061487, 1e-9);
}

TEST(WelchTest, UnequalVariancesAndSizes) {
  // a = {79.2, 80.4, 79.5}: mean 79.7, s^2 = 0.39; b = {80.1, 80.3, 80.2, 80.0, 80.4}: mean 80.2, s^2 = 0.025.
  // t = -0.5 / sqrt(0.13 + 0.005) = -1.36083, df = 0.135^2 / (0.13^2/2 + 0.005^2/4) = 2.15521.
  const WelchTest test = welch_t_test(seed_stats({79.2, 80.4, 79.5}), seed_stats({80.1, 80.3, 80.2, 80.0, 80.4}));
  EXPECT_NEAR(test.t, -1.3608276348795306, 1e-9);
  EXPECT_NEAR(test.df, 2.1552106430155245, 1e-9);
  EXPECT_NEAR(test.p_lower, 0.14918880510753850, 1e-9);
  // The other direction: the same |t|, the upper tail.
  const WelchTest reverse = welch_t_test(seed_stats({80.1, 80.3, 80.2, 80.0, 80.4}), seed_stats({79.2, 80.4, 79.5}));
  EXPECT_NEAR(reverse.t, 1.3608276348795306, 1e-9);
  EXPECT_NEAR(reverse.p_lower, 1 - 0.14918880510753850, 1e-9);
}

TEST(WelchTest, PlantedDropIsSignificant) {
  // 75 ± 0.5 vs 80 ± 0.5 (3 seeds each): t = -5 / sqrt(2 * 0.25 / 3) = -12.2474, df = 4, p = 1.27608e-4.
  const WelchTest test = welch_t_test(seed_stats({74.5, 75, 75.5}), seed_stats({79.5, 80, 80.5}));
  EXPECT_NEAR(test.t, -12.24744871391589, 1e-9);
  EXPECT_NEAR(test.df, 4.0, 1e-9);
  EXPECT_NEAR(test.p_lower, 1.2760837472096337e-4, 1e-12);
}

TEST(WelchTest, RefusesTooFewSeedsOrNoVariance) {
  EXPECT_THROW(welch_t_test(seed_stats({80}), seed_stats({79, 81})), std::invalid_argument);
  EXPECT_THROW(welch_t_test(seed_stats({80, 80}), seed_stats({79, 79, 79})), std::invalid_argument);
}

// A planted accuracy per run: what its headline (comparison-table) number should be.
using Accuracy = std::function<double(const RunConfig&)>;
// The same for each linear-probe protocol a run stores.
using ProtocolAccuracy = std::function<double(const RunConfig&, const std::string& protocol)>;

class RegressionGateTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("gate"); }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // A database of the grid whose every run is finished with results planted from `accuracy`: the headline
  // accuracy a (backbone probe for sem=off; for sem=on the SEM probe at tau_d 0.1, the best on validation,
  // while tau_d 1 has a worse validation and a much better test top-1 that must not be picked), backbone
  // probe a - 3 on sem=on runs, kNN a - 1, online linear a - 2. Left in DELETE journal mode, as a committed
  // baseline is, unless keep_wal.
  std::string make_database(const std::string& name, const std::string& grid_text, const Accuracy& accuracy,
                            bool keep_wal = false) {
    return make_protocol_database(
        name, grid_text, {"linear_probe"}, [&](const RunConfig& run, const std::string&) { return accuracy(run); },
        keep_wal);
  }

  // The same rows under each of `protocols`, the probe accuracies of each from `accuracy` (kNN and online
  // linear from the first protocol's).
  std::string make_protocol_database(const std::string& name, const std::string& grid_text,
                                     const std::vector<std::string>& protocols, const ProtocolAccuracy& accuracy,
                                     bool keep_wal = false) {
    const fs::path grid_path = dir_ / (name + ".ini");
    write_bytes(grid_path, grid_text);
    const Grid grid = load_grid(grid_path.string());
    const std::string path = (dir_ / (name + ".db")).string();
    {
      Store store(path);
      store.register_runs(grid);
      for (const RunConfig& run : grid.runs) {
        RunOutcome outcome;
        outcome.run_id = run.run_id();
        outcome.status = "finished";
        auto& r = outcome.results;
        const bool sem = run.str("sem") == "on";
        for (const std::string& protocol : protocols) {
          const double a = accuracy(run, protocol);
          r.push_back({"", protocol, "backbone", std::nullopt, "val", "top1", sem ? a - 2 : a + 1});
          r.push_back({"", protocol, "backbone", std::nullopt, "test", "top1", sem ? a - 3 : a});
          if (sem) {
            r.push_back({"", protocol, "embedding", std::nullopt, "test", "top1", a - 4});
            r.push_back({"", protocol, "sem", 0.1, "val", "top1", a + 2});
            r.push_back({"", protocol, "sem", 0.1, "test", "top1", a});
            r.push_back({"", protocol, "sem", 1.0, "val", "top1", a - 5});
            r.push_back({"", protocol, "sem", 1.0, "test", "top1", a + 10});
          }
        }
        const double a = accuracy(run, protocols.front());
        r.push_back({"", "knn", "backbone", std::nullopt, "test", "top1", a - 1});
        r.push_back({"", "online_linear", "backbone", std::nullopt, "test", "top1", a - 2});
        store.finish_run(outcome);
      }
    }
    if (!keep_wal) {
      SQLite::Database db(path, SQLite::OPEN_READWRITE);
      db.exec("PRAGMA journal_mode = DELETE");
    }
    return path;
  }

  // A run with a planted failure: the run of `run_id` marked diverged with a very low accuracy stored.
  void mark_diverged(const std::string& path, const std::string& run_id) {
    Store store(path);
    RunOutcome outcome;
    outcome.run_id = run_id;
    outcome.status = "diverged";
    outcome.error = "loss is nan at epoch 2";
    outcome.results = {{"", "linear_probe", "backbone", std::nullopt, "test", "top1", 1.0}};
    store.finish_run(outcome);
  }

  // Every run of the database at path recorded as run on the given processor (provenance, as `run` writes it).
  static void set_cpu(const std::string& path, const std::string& cpu_model) {
    {
      Store store(path);
      for (const RunRecord& run : store.runs())
        store.set_provenance(run.run_id, {{"cpu_model", cpu_model}, {"cpu_capability", "AVX512"}});
    }
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA journal_mode = DELETE");
  }

  semharness_test::Result check(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"check"};
    full.insert(full.end(), args.begin(), args.end());
    return run_binary(dir_, full);
  }

  fs::path dir_;
};

// 2 methods x {off, on} x 3 seeds.
std::string three_seed_grid(const std::string& name) {
  return "name = " + name + "\ndataset = synthetic\nseeds = 0, 1, 2\nmethod = simclr, byol\nsem = off, on\n";
}

// mean + {-spread, 0, +spread} over seeds 0, 1, 2: sample std = spread.
double spread(const RunConfig& run, double mean, double spread) {
  return mean + spread * static_cast<double>(run.seed - 1);
}

bool is_cell(const RunConfig& run, const std::string& method, const std::string& sem) {
  return run.str("method") == method && run.str("sem") == sem;
}

TEST_F(RegressionGateTest, PlantedDropFailsAndNamesTheCell) {
  const std::string baseline =
      make_database("baseline", three_seed_grid("gate"), [](const RunConfig& run) { return spread(run, 80, 0.5); });
  const std::string current = make_database("current", three_seed_grid("gate"), [](const RunConfig& run) {
    return spread(run, is_cell(run, "simclr", "on") ? 75 : 80, 0.5);
  });
  const auto result = check({"--db", current, "--baseline", baseline});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  const auto lines = result.non_empty_lines();
  ASSERT_EQ(lines.size(), 4u) << result.output;  // title, header, the cell, summary
  const std::string& cell = lines[2];
  for (const char* expected : {"gate: method=simclr sem=on", "headline", "75.00 ± 0.50 (n=3)", "80.00 ± 0.50 (n=3)",
                               "-5.00", "p = 0.00013", "Holm-adjusted 0.00051"}) {
    EXPECT_NE(cell.find(expected), std::string::npos) << expected << " missing from: " << cell;
  }
  EXPECT_EQ(lines[3],
            "check: 4 cells compared, 1 worse than baseline (alpha 0.05, Holm-adjusted over the Welch "
            "tests); 0 only in one database");

  const auto sem_probe = check({"--db", current, "--baseline", baseline, "--metric", "probe.sem"});
  EXPECT_EQ(sem_probe.exit_code, 1) << sem_probe.output;
  EXPECT_NE(sem_probe.output.find("gate: method=simclr sem=on"), std::string::npos) << sem_probe.output;
}

TEST_F(RegressionGateTest, EveryProtocolIsComparedAndADropUnderEitherFails) {
  const std::vector<std::string> both = {"lbfgs_probe", "linear_probe"};
  const auto planted = [](const std::string& dropped_protocol) {
    return [dropped_protocol](const RunConfig& run, const std::string& protocol) {
      const double mean = protocol == "lbfgs_probe" ? 85 : 80;
      return spread(run, mean - (protocol == dropped_protocol && is_cell(run, "simclr", "on") ? 5 : 0), 0.5);
    };
  };
  const std::string baseline = make_protocol_database("baseline", three_seed_grid("gate"), both, planted(""));
  const std::string unchanged = make_protocol_database("unchanged", three_seed_grid("gate"), both, planted(""));
  GateOptions options;
  const GateResult same = regression_gate(read_store_snapshot(unchanged), read_store_snapshot(baseline), options);
  ASSERT_EQ(same.comparisons.size(), 8u);  // 4 cells x 2 protocols, in linear_probe_protocols() order per cell
  EXPECT_EQ(same.comparisons[0].protocol, "lbfgs_probe");
  EXPECT_EQ(same.comparisons[1].protocol, "linear_probe");
  EXPECT_EQ(same.comparisons[0].cell_id, same.comparisons[1].cell_id);
  EXPECT_DOUBLE_EQ(same.comparisons[0].baseline.mean, 85.0);
  EXPECT_EQ(same.cells_worse, 0);
  EXPECT_EQ(same.protocols_one_side, 0);

  for (const std::string& dropped : both) {
    const std::string current =
        make_protocol_database("drop_" + dropped, three_seed_grid("gate"), both, planted(dropped));
    const GateResult result = regression_gate(read_store_snapshot(current), read_store_snapshot(baseline), options);
    EXPECT_EQ(result.cells_compared, 4);
    EXPECT_EQ(result.cells_worse, 1) << dropped;
    for (const GateComparison& c : result.comparisons) {
      EXPECT_EQ(c.worse, c.protocol == dropped && c.label == "gate: method=simclr sem=on")
          << c.label << " " << c.protocol;
      // Holm over all 8 Welch tests: p = 1.276e-4 (PlantedDropFailsAndNamesTheCell) becomes 8 p.
      if (c.worse) {
        EXPECT_NEAR(c.p_adjusted, 8 * 1.2760837472096337e-4, 1e-12);
      }
    }
    const auto cli = check({"--db", current, "--baseline", baseline});
    EXPECT_EQ(cli.exit_code, 1) << cli.output;
    const auto lines = cli.non_empty_lines();
    ASSERT_EQ(lines.size(), 4u) << cli.output;
    EXPECT_NE(lines[2].find("gate: method=simclr sem=on"), std::string::npos) << lines[2];
    EXPECT_NE(lines[2].find(" " + dropped + " "), std::string::npos) << lines[2];
  }
}

TEST_F(RegressionGateTest, AProtocolOnlyOneSideStoresIsNotAFailure) {
  const auto accuracy = [](const RunConfig& run, const std::string&) { return spread(run, 80, 0.5); };
  const std::string sgd_only = make_protocol_database("sgd", three_seed_grid("gate"), {"linear_probe"}, accuracy);
  const std::string both = make_protocol_database("both", three_seed_grid("gate"), {"lbfgs_probe", "linear_probe"},
                                                  [](const RunConfig& run, const std::string& protocol) {
                                                    // lbfgs_probe far below: it must not be held to anything.
                                                    return spread(run, protocol == "lbfgs_probe" ? 50 : 80, 0.5);
                                                  });
  const std::string lbfgs_only = make_protocol_database("lbfgs", three_seed_grid("gate"), {"lbfgs_probe"}, accuracy);
  // The candidate adds a protocol: only linear_probe is compared.
  const auto added = check({"--db", both, "--baseline", sgd_only});
  EXPECT_EQ(added.exit_code, 0) << added.output;
  EXPECT_EQ(added.non_empty_lines(),
            std::vector<std::string>{"check: 4 cells compared, 0 worse than baseline (alpha 0.05, Holm-adjusted over "
                                     "the Welch tests); 0 only in one database; 4 probe protocols of shared cells "
                                     "stored by one database only, not compared"});
  // The candidate drops one of two: the other is compared, and passes.
  GateOptions options;
  const GateResult dropped = regression_gate(read_store_snapshot(sgd_only), read_store_snapshot(both), options);
  EXPECT_EQ(dropped.cells_worse, 0);
  EXPECT_EQ(dropped.protocols_one_side, 4);
  ASSERT_EQ(dropped.comparisons.size(), 4u);
  for (const GateComparison& c : dropped.comparisons) EXPECT_EQ(c.protocol, "linear_probe");
  // No protocol in common: the baseline's probes are missing from the candidate, which fails.
  const GateResult disjoint = regression_gate(read_store_snapshot(lbfgs_only), read_store_snapshot(sgd_only), options);
  EXPECT_EQ(disjoint.cells_worse, 4);
  ASSERT_EQ(disjoint.comparisons.size(), 4u);
  EXPECT_EQ(disjoint.comparisons[0].test, GateComparison::Test::Missing);
  EXPECT_EQ(disjoint.comparisons[0].protocol, "linear_probe");
  // kNN and the online classifier have no probe protocol to match: compared as before.
  options.metrics = {"knn"};
  const GateResult knn = regression_gate(read_store_snapshot(lbfgs_only), read_store_snapshot(sgd_only), options);
  EXPECT_EQ(knn.cells_worse, 0);
  EXPECT_EQ(knn.protocols_one_side, 0);
  EXPECT_EQ(knn.comparisons.at(0).protocol, "knn");
}

TEST_F(RegressionGateTest, SeedNoisePasses) {
  const std::string baseline =
      make_database("baseline", three_seed_grid("gate"), [](const RunConfig& run) { return spread(run, 80.1, 0.5); });
  const std::string current =
      make_database("current", three_seed_grid("gate"), [](const RunConfig& run) { return spread(run, 79.9, 0.5); });
  // t = -0.2 / sqrt(2 * 0.25 / 3) = -0.4899, df = 4, p = 0.325 > 0.05 for every cell.
  const auto result = check({"--db", current, "--baseline", baseline});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.non_empty_lines(),
            std::vector<std::string>{"check: 4 cells compared, 0 worse than baseline (alpha 0.05, Holm-adjusted over "
                                     "the Welch tests); 0 only in one database"});
  const auto every_metric = check({"--db", current, "--baseline", baseline, "--metric", "probe.backbone,knn",
                                   "--metric", "online_linear", "--metric", "probe.sem,probe.embedding"});
  EXPECT_EQ(every_metric.exit_code, 0) << every_metric.output;
  EXPECT_NE(every_metric.output.find("check: 4 cells compared, 0 worse"), std::string::npos) << every_metric.output;
  // Without the correction, a looser significance level than the p-value turns the same numbers into a failure
  // of every cell.
  const auto loose = check({"--db", current, "--baseline", baseline, "--alpha", "0.4", "--correction", "none"});
  EXPECT_EQ(loose.exit_code, 1) << loose.output;
  EXPECT_NE(loose.output.find("4 worse than baseline (alpha 0.4)"), std::string::npos) << loose.output;
  // Holm over the four tests: the smallest p, 0.325, becomes min(1, 4 x 0.325) = 1 and every other one at least
  // that, so no cell fails at 0.4.
  const auto holm = check({"--db", current, "--baseline", baseline, "--alpha", "0.4"});
  EXPECT_EQ(holm.exit_code, 0) << holm.output;
  EXPECT_NE(holm.output.find("0 worse than baseline (alpha 0.4, Holm-adjusted"), std::string::npos) << holm.output;
  const auto bad = check({"--db", current, "--baseline", baseline, "--correction", "bonferroni"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--correction bonferroni: expected holm or none"), std::string::npos) << bad.output;
}

TEST_F(RegressionGateTest, SingleSeedUsesTheTolerance) {
  const std::string grid = "name = one\ndataset = synthetic\nseeds = 0\nmethod = simclr\nsem = off, on\n";
  const std::string baseline = make_database("baseline", grid, [](const RunConfig&) { return 80.0; });
  const std::string within =
      make_database("within", grid, [](const RunConfig& run) { return run.str("sem") == "on" ? 79.6 : 80.3; });
  const auto pass = check({"--db", within, "--baseline", baseline});
  EXPECT_EQ(pass.exit_code, 0) << pass.output;
  EXPECT_NE(pass.output.find("check: 2 cells compared, 0 worse than baseline (alpha 0.05; tolerance 0.5"),
            std::string::npos)
      << pass.output;

  const std::string beyond =
      make_database("beyond", grid, [](const RunConfig& run) { return run.str("sem") == "on" ? 79.4 : 80.0; });
  const auto fail = check({"--db", beyond, "--baseline", baseline});
  EXPECT_EQ(fail.exit_code, 1) << fail.output;
  EXPECT_NE(fail.output.find("one: sem=on"), std::string::npos) << fail.output;
  EXPECT_NE(fail.output.find("tolerance 0.5"), std::string::npos) << fail.output;
  EXPECT_NE(fail.output.find("-0.60"), std::string::npos) << fail.output;
  EXPECT_EQ(fail.output.find("sem=off"), std::string::npos) << fail.output;
  // A wider tolerance lets the same drop through.
  EXPECT_EQ(check({"--db", beyond, "--baseline", baseline, "--tolerance", "1"}).exit_code, 0);
}

// Runs of another CPU differ by more than seed noise when the seeds agree closely: a drop within --cpu-margin
// passes there however significant, and fails on the same CPU; a drop beyond it fails on either.
TEST_F(RegressionGateTest, AnotherCpuNeedsADropBeyondTheMargin) {
  const auto drop = [](double points) {
    return [points](const RunConfig& run) { return spread(run, is_cell(run, "byol", "off") ? 80 - points : 80, 0.05); };
  };
  const std::string baseline = make_database("baseline", three_seed_grid("gate"), drop(0));
  set_cpu(baseline, "Intel(R) Xeon(R) CPU @ 2.80GHz");
  const std::string small_same = make_database("small_same", three_seed_grid("gate"), drop(0.8));
  set_cpu(small_same, "Intel(R) Xeon(R) CPU @ 2.80GHz");
  const std::string small_other = make_database("small_other", three_seed_grid("gate"), drop(0.8));
  set_cpu(small_other, "AMD EPYC");
  const std::string large_other = make_database("large_other", three_seed_grid("gate"), drop(2));
  set_cpu(large_other, "AMD EPYC");

  // t = -0.8 / sqrt(2 * 0.05^2 / 3) = -19.6, df 4: p far below alpha even after Holm over 4 tests.
  const auto same = check({"--db", small_same, "--baseline", baseline});
  EXPECT_EQ(same.exit_code, 1) << same.output;
  EXPECT_NE(same.output.find("gate: method=byol sem=off"), std::string::npos) << same.output;
  EXPECT_EQ(same.output.find("another CPU"), std::string::npos) << same.output;

  const auto other = check({"--db", small_other, "--baseline", baseline});
  EXPECT_EQ(other.exit_code, 0) << other.output;
  EXPECT_NE(other.output.find("0 worse than baseline"), std::string::npos) << other.output;
  EXPECT_NE(other.output.find("4 cells ran on another CPU, where a drop counts beyond 1 points only"),
            std::string::npos)
      << other.output;
  EXPECT_EQ(check({"--db", small_other, "--baseline", baseline, "--cpu-margin", "0"}).exit_code, 1);

  const auto large = check({"--db", large_other, "--baseline", baseline});
  EXPECT_EQ(large.exit_code, 1) << large.output;
  EXPECT_NE(large.output.find("gate: method=byol sem=off"), std::string::npos) << large.output;
  EXPECT_NE(large.output.find("-2.00"), std::string::npos) << large.output;

  const auto bad = check({"--db", large_other, "--baseline", baseline, "--cpu-margin", "-1"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--cpu-margin -1: expected accuracy points >= 0"), std::string::npos) << bad.output;
}

TEST_F(RegressionGateTest, OnlyFinishedRunsCountAndUnsharedCellsAreCounted) {
  const std::string baseline =
      make_database("baseline", three_seed_grid("gate"), [](const RunConfig& run) { return spread(run, 80, 0.5); });
  // The current grid has one more method; one of its runs diverged with a stored accuracy of 1%, which
  // would fail the cell were it counted.
  const std::string grid =
      "name = gate\ndataset = synthetic\nseeds = 0, 1, 2\nmethod = simclr, byol, vicreg\n"
      "sem = off, on\n";
  const std::string current = make_database("current", grid, [](const RunConfig& run) { return spread(run, 80, 0.5); });
  const Grid loaded = load_grid((dir_ / "current.ini").string());
  for (const RunConfig& run : loaded.runs) {
    if (is_cell(run, "byol", "off") && run.seed == 2) mark_diverged(current, run.run_id());
  }
  const auto result = check({"--db", current, "--baseline", baseline});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.non_empty_lines(),
            std::vector<std::string>{"check: 4 cells compared, 0 worse than baseline (alpha 0.05, Holm-adjusted over "
                                     "the Welch tests); 2 only in one database"});
}

TEST_F(RegressionGateTest, MissingMetricInCurrentDatabaseIsWorse) {
  const std::string baseline =
      make_database("baseline", three_seed_grid("gate"), [](const RunConfig& run) { return spread(run, 80, 0.5); });
  const std::string current =
      make_database("current", three_seed_grid("gate"), [](const RunConfig& run) { return spread(run, 80, 0.5); });
  {
    SQLite::Database db(current, SQLite::OPEN_READWRITE);
    db.exec("DELETE FROM results WHERE protocol = 'knn'");
  }
  GateOptions options;
  options.metrics = {"knn"};
  const GateResult result = regression_gate(read_store_snapshot(current), read_store_snapshot(baseline), options);
  EXPECT_EQ(result.cells_compared, 4);
  EXPECT_EQ(result.cells_worse, 4);
  ASSERT_EQ(result.comparisons.size(), 4u);
  EXPECT_EQ(result.comparisons[0].test, GateComparison::Test::Missing);
  EXPECT_EQ(result.comparisons[0].current.n, 0);
  EXPECT_NE(format_gate(result, options).find("missing"), std::string::npos);
}

TEST_F(RegressionGateTest, MetricsReadTheRightRows) {
  const std::string path =
      make_database("db", three_seed_grid("gate"), [](const RunConfig& run) { return spread(run, 80, 0.5); });
  const StoreSnapshot snapshot = read_store_snapshot(path);
  ASSERT_EQ(snapshot.runs.size(), 12u);
  for (const RunRecord& run : snapshot.runs) {
    std::vector<ResultRow> own;
    for (const ResultRow& row : snapshot.results) {
      if (row.run_id == run.run_id) own.push_back(row);
    }
    const double a = 80 + 0.5 * static_cast<double>(run.seed - 1);
    const bool sem = run.config.at("sem") == "on";
    EXPECT_DOUBLE_EQ(*run_metric("headline", run, own, kSgdProbe), a);
    EXPECT_DOUBLE_EQ(*run_metric("probe.backbone", run, own, kSgdProbe), sem ? a - 3 : a);
    EXPECT_DOUBLE_EQ(*run_metric("knn", run, own, kSgdProbe), a - 1);
    EXPECT_DOUBLE_EQ(*run_metric("online_linear", run, own, kSgdProbe), a - 2);
    EXPECT_EQ(run_metric("probe.sem", run, own, kSgdProbe).has_value(), sem);
    if (sem) {
      EXPECT_DOUBLE_EQ(*run_metric("probe.sem", run, own, kSgdProbe), a);  // tau_d 0.1: best validation, not best test
      EXPECT_DOUBLE_EQ(*run_metric("probe.embedding", run, own, kSgdProbe), a - 4);
    }
  }
  EXPECT_THROW(run_metric("probe.nonsense", snapshot.runs[0], {}, kSgdProbe), std::invalid_argument);
}

TEST_F(RegressionGateTest, UnusableInputExitsTwo) {
  const std::string current =
      make_database("current", three_seed_grid("gate"), [](const RunConfig& run) { return spread(run, 80, 0.5); });
  const std::string missing = (dir_ / "nowhere.db").string();
  const auto no_baseline = check({"--db", current, "--baseline", missing});
  EXPECT_EQ(no_baseline.exit_code, 2) << no_baseline.output;
  EXPECT_NE(no_baseline.output.find(missing + ": no such database"), std::string::npos) << no_baseline.output;
  EXPECT_FALSE(fs::exists(missing));

  const fs::path not_sqlite = dir_ / "notes.db";
  const std::string text = "these are notes, not a database\n";
  write_bytes(not_sqlite, text);
  const auto not_db = check({"--db", current, "--baseline", not_sqlite.string()});
  EXPECT_EQ(not_db.exit_code, 2) << not_db.output;
  EXPECT_NE(not_db.output.find(not_sqlite.string() + ": not an SQLite database"), std::string::npos) << not_db.output;
  EXPECT_EQ(read_bytes(not_sqlite), text);
  EXPECT_FALSE(fs::exists(not_sqlite.string() + "-wal"));
  EXPECT_FALSE(fs::exists(not_sqlite.string() + "-journal"));

  // An SQLite database of another program.
  const std::string foreign = (dir_ / "foreign.db").string();
  {
    SQLite::Database db(foreign, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE songs(title TEXT)");
  }
  const std::string foreign_bytes = read_bytes(foreign);
  const auto other_program = check({"--db", current, "--baseline", foreign});
  EXPECT_EQ(other_program.exit_code, 2) << other_program.output;
  EXPECT_NE(other_program.output.find(foreign + ": not a semharness database"), std::string::npos)
      << other_program.output;
  EXPECT_EQ(read_bytes(foreign), foreign_bytes);

  // No cell in common: another grid configuration (3 epochs instead of the default).
  const std::string other = make_database("other", "name = gate\ndataset = synthetic\nepochs = 3\nseeds = 0, 1\n",
                                          [](const RunConfig&) { return 80.0; });
  const auto disjoint = check({"--db", current, "--baseline", other});
  EXPECT_EQ(disjoint.exit_code, 2) << disjoint.output;
  EXPECT_NE(disjoint.output.find("no cell has finished runs in both databases"), std::string::npos) << disjoint.output;

  const auto unknown_metric = check({"--db", current, "--baseline", current, "--metric", "accuracy"});
  EXPECT_EQ(unknown_metric.exit_code, 2) << unknown_metric.output;
  EXPECT_NE(unknown_metric.output.find("--metric accuracy"), std::string::npos) << unknown_metric.output;

  const auto bad_alpha = check({"--db", current, "--baseline", current, "--alpha", "1.5"});
  EXPECT_EQ(bad_alpha.exit_code, 2) << bad_alpha.output;
  EXPECT_EQ(check({"--db", current}).exit_code, 2);  // --baseline is required
}

TEST_F(RegressionGateTest, LeavesBothDatabasesByteIdentical) {
  const std::string baseline =
      make_database("baseline", three_seed_grid("gate"), [](const RunConfig& run) { return spread(run, 80, 0.5); });
  // The current database as `run` leaves it: WAL journal mode.
  const std::string current = make_database(
      "current", three_seed_grid("gate"),
      [](const RunConfig& run) { return spread(run, is_cell(run, "byol", "off") ? 70 : 80, 0.5); }, /*keep_wal=*/true);
  const std::string baseline_bytes = read_bytes(baseline), current_bytes = read_bytes(current);
  const auto fails = check({"--db", current, "--baseline", baseline});
  EXPECT_EQ(fails.exit_code, 1) << fails.output;
  const auto passes = check({"--db", baseline, "--baseline", baseline});
  EXPECT_EQ(passes.exit_code, 0) << passes.output;
  EXPECT_TRUE(read_bytes(baseline) == baseline_bytes) << baseline << " changed";
  EXPECT_TRUE(read_bytes(current) == current_bytes) << current << " changed";
  // Nor are side files left next to either (a read-only connection to a WAL database would leave them).
  for (const std::string& path : {baseline, current}) {
    for (const char* suffix : {"-wal", "-shm", "-journal"}) EXPECT_FALSE(fs::exists(path + suffix)) << path + suffix;
  }
}

// The committed baseline that CI checks against: one self-contained file (no -wal to go with it, rollback
// journal mode) of the quick grid's 2 cells x 3 seeds, all finished, that `check` reads without a change.
TEST(CommittedBaselineTest, IsASelfContainedQuickGridDatabase) {
  const std::string baseline = std::string(SEMHARNESS_SOURCE_DIR) + "/results/baseline-quick.db";
  ASSERT_TRUE(fs::is_regular_file(baseline)) << baseline;
  EXPECT_FALSE(fs::exists(baseline + "-wal")) << "checkpoint it: PRAGMA journal_mode = DELETE";
  const std::string bytes = read_bytes(baseline);
  ASSERT_GT(bytes.size(), 100u);
  EXPECT_EQ(bytes[18], 1) << "WAL journal mode; the committed file should be in rollback (DELETE) mode";
  const StoreSnapshot snapshot = read_store_snapshot(baseline);
  ASSERT_EQ(snapshot.runs.size(), 6u);
  for (const RunRecord& run : snapshot.runs) EXPECT_EQ(run.status, "finished") << run.run_id;
  EXPECT_EQ(snapshot.runs[0].grid, "quick");

  const fs::path dir = make_temp_dir("baseline");
  const auto result = run_binary(dir, {"check", "--db", baseline, "--baseline", baseline});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.non_empty_lines(),
            std::vector<std::string>{"check: 2 cells compared, 0 worse than baseline (alpha 0.05, Holm-adjusted over "
                                     "the Welch tests); 0 only in one database"});
  EXPECT_TRUE(read_bytes(baseline) == bytes) << baseline << " changed";
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

// What CI's gate does with the committed baseline: a copy whose +SEM cell lost 2 points of test top-1 on every
// run (each probe, feature and tau_d), recorded as made on another CPU so that --cpu-margin applies, fails and
// names the cell; the unchanged numbers recorded on that other CPU pass (a re-run that repeats them).
TEST(CommittedBaselineTest, PlantedTwoPointDropFailsAndUnchangedNumbersPass) {
  const std::string baseline = std::string(SEMHARNESS_SOURCE_DIR) + "/results/baseline-quick.db";
  const fs::path dir = make_temp_dir("baseline_drop");
  const std::string dropped = (dir / "dropped.db").string(), rerun = (dir / "rerun.db").string();
  fs::copy_file(baseline, dropped);
  fs::copy_file(baseline, rerun);
  for (const std::string& path : {dropped, rerun}) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE provenance SET value = 'Some Other CPU' WHERE key = 'cpu_model'");
    if (path == dropped) {
      EXPECT_GT(db.exec("UPDATE results SET value = value - 2 WHERE split = 'test' AND metric = 'top1' AND run_id IN "
                        "(SELECT run_id FROM runs WHERE sem = 'on')"),
                0);
    }
  }
  const auto fails = run_binary(dir, {"check", "--db", dropped, "--baseline", baseline});
  EXPECT_EQ(fails.exit_code, 1) << fails.output;
  EXPECT_NE(fails.output.find("quick: sem=on"), std::string::npos) << fails.output;
  EXPECT_NE(fails.output.find("-2.00"), std::string::npos) << fails.output;
  EXPECT_NE(fails.output.find("1 worse than baseline"), std::string::npos) << fails.output;
  EXPECT_NE(fails.output.find("2 cells ran on another CPU"), std::string::npos) << fails.output;
  const auto passes = run_binary(dir, {"check", "--db", rerun, "--baseline", baseline});
  EXPECT_EQ(passes.exit_code, 0) << passes.output;
  EXPECT_NE(passes.output.find("0 worse than baseline"), std::string::npos) << passes.output;
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace semharness
