#pragma once
// A database the report tests fill by hand: a real grid (load_grid over an INI written to a temp folder,
// registered with Store::register_runs) whose runs are finished with Store::finish_run and results rows
// chosen so that every number of the report can be computed by hand:
//
//   grid 'handmade': method simclr, byol x sem off, on x sem.L 8, 16 x seeds 0, 1, 2; probe.tau_d 0.1, 1
//   sem=off  backbone test top-1: simclr 60, 62, 64 (seeds 0, 1, 2), byol 50, 54, 52 (both sem.L values);
//            online_linear test top-1 40 + seed
//   sem=on   simclr L=8:  tau_d 0.1 val 70 test 63, 66, 66; tau_d 1 val 60 test 50   -> best tau_d 0.1
//            simclr L=16: tau_d 0.1 val 65 test 70, 71, 72; tau_d 1 val 66 test 68   -> best tau_d 1
//            byol   L=8:  tau_d 0.1 val 60 test 56;         tau_d 1 val 40 test 30   (seeds 0, 1)
//            byol   L=16: tau_d 0.1 val 50 test 58, 59;     tau_d 1 val 45 test 20   (seeds 0, 1)
//            byol seed 2 runs with SEM failed; every sem=on run also has a backbone probe at 10 (ignored).
//   Validation picks sem.L = 8 for both methods' +SEM (mean val 70 > 66, 60 > 50).
//   timings: every simclr run: forward cpu 10 calls 50 ms, backward cpu 10 calls 30 ms; benchmark rows
//            (run_id NULL, session "bench"): sem/fused B=8 cpu 100 calls 250 ms at 4 GB/s, sem/unfused B=8 cpu
//            100 calls 500 ms, memory/copy MB=256 cpu 10 calls 10 ms at 8 GB/s (and MB=1 at 50 GB/s, in cache: not the
//            floor), sem/unfused_block_major B=8 cpu 10 calls
//            60 ms (no fused partner: no floor row)
//            -> fused 2.5 ms, unfused 5 ms (2x), floor 2.5 ms x 4/8 = 1.25 ms, fused/floor 2x.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "harness/config/grid.h"
#include "harness/store/store.h"

namespace semharness_test {

inline constexpr const char* kHandmadeGrid =
    "name = handmade\n"
    "dataset = synthetic\n"
    "method = simclr, byol\n"
    "sem = off, on\n"
    "seeds = 0, 1, 2\n"
    "\n"
    "[sem]\n"
    "L = 8, 16\n"
    "\n"
    "[probe]\n"
    "tau_d = 0.1, 1\n";

inline std::filesystem::path make_report_temp_dir(const std::string& tag) {
  std::random_device random;
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("semharness-report-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
  std::filesystem::create_directories(dir);
  return dir;
}

// Fills `db_path` with the grid above; returns the grid.
inline semharness::Grid fill_handmade_database(const std::filesystem::path& dir, const std::string& db_path) {
  using namespace semharness;
  const auto ini = dir / "handmade.ini";
  std::ofstream(ini) << kHandmadeGrid;
  Grid grid = load_grid(ini.string());
  Store store(db_path);
  store.register_runs(grid);
  const auto top1 = [](const std::string& protocol, const std::string& feature, std::optional<double> tau,
                       const std::string& split,
                       double value) { return ResultRow{"", protocol, feature, tau, split, "top1", value}; };
  for (const RunConfig& config : grid.runs) {
    const std::string method = config.str("method"), sem = config.str("sem");
    const int64_t L = config.i("sem.L"), seed = config.seed;
    RunOutcome outcome;
    outcome.run_id = config.run_id();
    outcome.status = "finished";
    if (sem == "off") {
      const double simclr[] = {60, 62, 64}, byol[] = {50, 54, 52};
      const double test = method == "simclr" ? simclr[seed] : byol[seed];
      outcome.results = {top1("linear_probe", "backbone", std::nullopt, "test", test),
                         top1("linear_probe", "backbone", std::nullopt, "val", test + 1),
                         top1("online_linear", "backbone", std::nullopt, "test", 40.0 + static_cast<double>(seed))};
    } else {
      if (method == "byol" && seed == 2) {
        store.mark_failed(outcome.run_id, "out of memory (made up by the test)");
        continue;
      }
      double val_a = 0, test_a = 0, val_b = 0, test_b = 0;  // tau_d 0.1 and 1
      if (method == "simclr" && L == 8) {
        const double tests[] = {63, 66, 66};
        val_a = 70, test_a = tests[seed], val_b = 60, test_b = 50;
      } else if (method == "simclr") {
        val_a = 65, test_a = 70.0 + static_cast<double>(seed), val_b = 66, test_b = 68;
      } else if (L == 8) {
        val_a = 60, test_a = 56, val_b = 40, test_b = 30;
      } else {
        val_a = 50, test_a = 58.0 + static_cast<double>(seed), val_b = 45, test_b = 20;
      }
      outcome.results = {
          top1("linear_probe", "sem", 0.1, "val", val_a), top1("linear_probe", "sem", 0.1, "test", test_a),
          top1("linear_probe", "sem", 1.0, "val", val_b), top1("linear_probe", "sem", 1.0, "test", test_b),
          top1("linear_probe", "backbone", std::nullopt, "test", 10)};
    }
    if (method == "simclr") outcome.timings = {{"forward", "cpu", 10, 50.0}, {"backward", "cpu", 10, 30.0}};
    store.finish_run(outcome);
  }
  store.add_benchmark_rows("bench", {{"sem/fused", "B=8", "cpu", 100, 250.0, 40000.0, 4e9},
                                     {"sem/unfused", "B=8", "cpu", 100, 500.0, 20000.0, std::nullopt},
                                     {"memory/copy", "MB=1", "cpu", 10, 10.0, std::nullopt, 50e9},
                                     {"memory/copy", "MB=256", "cpu", 10, 10.0, std::nullopt, 8e9},
                                     {"sem/unfused_block_major", "B=8", "cpu", 10, 60.0, std::nullopt, std::nullopt}});
  return grid;
}

// A second database, whose runs store two probe protocols on the same checkpoints (the L-BFGS probe's
// convergence records too), every number chosen to be computed by hand:
//
//   grid 'protocols': method simclr, byol x sem off, on x seeds 0, 1, 2; probe.tau_d 0.1, 1;
//                     probe.protocols lbfgs, sgd (stored as lbfgs_probe and linear_probe)
//   linear_probe  sem=off backbone test: simclr 60, 62, 64; byol 50, 54, 52
//                 sem=on  tau_d 0.1 val 70 test simclr 63, 66, 66, byol 56, 57, 55; tau_d 1 val 60 test 40
//                 -> +SEM - baseline: simclr +3 (diffs 3, 4, 2), byol +4 (diffs 6, 3, 3)
//   lbfgs_probe   sem=off backbone test: simclr 70, 71, 72; byol 60, 61, 62
//                 sem=on  tau_d 1 val 85 test simclr 72, 74, 73, byol 59, 59, 60; tau_d 0.1 val 80 test 99
//                 (its own validation picks tau_d 1) -> simclr +2 (diffs 2, 3, 1), byol -5/3 (diffs -1, -2, -2)
//   Every run also stores, on the train split of each lbfgs_probe probe (sem=off: backbone; sem=on: backbone,
//   sem at tau_d 0.1 and 1; 24 probes), probe_converged 1 and probe_grad_norm 1e-5, except two that did not
//   converge: byol sem=on seed 1, sem at tau_d 1 (probe_grad_norm 0.002), and simclr sem=off seed 2,
//   backbone (0.0005).
inline constexpr const char* kProtocolsGrid =
    "name = protocols\n"
    "dataset = synthetic\n"
    "method = simclr, byol\n"
    "sem = off, on\n"
    "seeds = 0, 1, 2\n"
    "\n"
    "[probe]\n"
    "tau_d = 0.1, 1\n"
    "protocols = lbfgs, sgd\n";

inline semharness::Grid fill_protocols_database(const std::filesystem::path& dir, const std::string& db_path) {
  using namespace semharness;
  const auto ini = dir / "protocols.ini";
  std::ofstream(ini) << kProtocolsGrid;
  Grid grid = load_grid(ini.string());
  Store store(db_path);
  store.register_runs(grid);
  const auto row = [](const char* protocol, const char* feature, std::optional<double> tau, const char* split,
                      const std::string& metric,
                      double value) { return ResultRow{"", protocol, feature, tau, split, metric, value}; };
  for (const RunConfig& config : grid.runs) {
    const bool simclr = config.str("method") == "simclr", sem = config.str("sem") == "on";
    const auto seed = static_cast<size_t>(config.seed);
    RunOutcome outcome;
    outcome.run_id = config.run_id();
    outcome.status = "finished";
    auto& r = outcome.results;
    if (!sem) {
      const double sgd[2][3] = {{60, 62, 64}, {50, 54, 52}}, lbfgs[2][3] = {{70, 71, 72}, {60, 61, 62}};
      r.push_back(row("linear_probe", "backbone", std::nullopt, "test", "top1", sgd[simclr ? 0 : 1][seed]));
      r.push_back(row("lbfgs_probe", "backbone", std::nullopt, "test", "top1", lbfgs[simclr ? 0 : 1][seed]));
    } else {
      const double sgd[2][3] = {{63, 66, 66}, {56, 57, 55}}, lbfgs[2][3] = {{72, 74, 73}, {59, 59, 60}};
      r.push_back(row("linear_probe", "sem", 0.1, "val", "top1", 70));
      r.push_back(row("linear_probe", "sem", 0.1, "test", "top1", sgd[simclr ? 0 : 1][seed]));
      r.push_back(row("linear_probe", "sem", 1.0, "val", "top1", 60));
      r.push_back(row("linear_probe", "sem", 1.0, "test", "top1", 40));
      r.push_back(row("lbfgs_probe", "sem", 0.1, "val", "top1", 80));
      r.push_back(row("lbfgs_probe", "sem", 0.1, "test", "top1", 99));
      r.push_back(row("lbfgs_probe", "sem", 1.0, "val", "top1", 85));
      r.push_back(row("lbfgs_probe", "sem", 1.0, "test", "top1", lbfgs[simclr ? 0 : 1][seed]));
      r.push_back(row("linear_probe", "backbone", std::nullopt, "test", "top1", 10));
      r.push_back(row("lbfgs_probe", "backbone", std::nullopt, "test", "top1", 10));
    }
    std::vector<std::pair<const char*, std::optional<double>>> probes = {{"backbone", std::nullopt}};
    if (sem) probes.insert(probes.end(), {{"sem", 0.1}, {"sem", 1.0}});
    for (const auto& [feature, tau] : probes) {
      double grad_norm = 1e-5;
      if (!simclr && sem && seed == 1 && tau == 1.0) grad_norm = 0.002;
      if (simclr && !sem && seed == 2) grad_norm = 0.0005;
      r.push_back(row("lbfgs_probe", feature, tau, "train", "probe_grad_norm", grad_norm));
      r.push_back(row("lbfgs_probe", feature, tau, "train", "probe_converged", grad_norm > 1e-4 ? 0.0 : 1.0));
    }
    store.finish_run(outcome);
  }
  return grid;
}

// The t quantile t_{0.975, df} for df = 2 and 4 in closed form (Hill 1970), independent of Boost.Math:
// df 2: t = (2p - 1) / sqrt(2 p (1 - p)); df 4: t = 2 sqrt(q - 1), q = cos(acos(sqrt(a)) / 3) / sqrt(a),
// a = 4 p (1 - p), with p = 0.975.
inline double t975_df2() {
  const double p = 0.975;
  return (2 * p - 1) / std::sqrt(2 * p * (1 - p));
}
inline double t975_df4() {
  const double p = 0.975, a = 4 * p * (1 - p);
  const double q = std::cos(std::acos(std::sqrt(a)) / 3) / std::sqrt(a);
  return 2 * std::sqrt(q - 1);
}

}  // namespace semharness_test
