// Both linear probes on one checkpoint, through the binary: `probe.protocols = lbfgs, sgd` stores every
// feature's probe under each protocol, the L-BFGS probe with its convergence, weight files of each, a timing
// per protocol; and the SGD probe's numbers do not depend on whether the L-BFGS probe ran beside it.
#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "cli_support.h"
#include "harness/store/artifact_paths.h"
#include "harness/store/npy.h"
#include "harness/store/store.h"

namespace semharness_probe_protocols_test {
namespace {

using namespace semharness_test;
using semharness::ResultRow;
using semharness::Store;

using RowKey = std::tuple<std::string, std::string, double, std::string, std::string>;  // protocol .. metric

std::map<RowKey, double> rows_of(const std::string& db) {
  Store store(db);
  const auto runs = store.runs();
  EXPECT_EQ(runs.size(), 1u);
  std::map<RowKey, double> rows;
  for (const ResultRow& r : store.results(runs.at(0).run_id)) {
    rows[{r.protocol, r.feature, r.tau_d.value_or(-1), r.split, r.metric}] = r.value;
  }
  return rows;
}

// Top-1 (%) of logits = x W^T + b from stored files, in float64.
double top1_from_files(const fs::path& dir, const std::string& feature_file, const std::string& stem) {
  const auto x = semharness::read_npy((dir / feature_file).string());
  const auto y = semharness::read_npy((dir / "test_labels.npy").string());
  const auto w = semharness::read_npy((dir / (stem + "_weight.npy")).string());
  const auto b = semharness::read_npy((dir / (stem + "_bias.npy")).string());
  const int64_t n = x.shape.at(0), d = x.shape.at(1), c = w.shape.at(0);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    double best_logit = -1e300;
    for (int64_t k = 0; k < c; ++k) {
      double logit = b.f32[static_cast<size_t>(k)];
      for (int64_t j = 0; j < d; ++j)
        logit += double(w.f32[static_cast<size_t>(k * d + j)]) * x.f32[static_cast<size_t>(i * d + j)];
      if (logit > best_logit) best_logit = logit, best = k;
    }
    correct += best == y.i64[static_cast<size_t>(i)];
  }
  return 100.0 * static_cast<double>(correct) / static_cast<double>(n);
}

TEST(ProbeProtocolsTest, BothProbesOnOneCheckpoint) {
  const fs::path dir = make_temp_dir("protocols");
  write_bytes(dir / "p.ini", "name = p\nepochs = 1\nmethod = simclr\nsem = on\n" + std::string(kTinySettings));
  const std::string both = (dir / "both.db").string(), sgd = (dir / "sgd.db").string();
  const Result both_run = run_binary(dir, {"run", (dir / "p.ini").string(), "--db", both, "--device", "cpu", "--set",
                                           "probe.protocols=lbfgs,sgd", "--set", "analysis.samples=100000"});
  ASSERT_EQ(both_run.exit_code, 0) << both_run.output;
  const Result sgd_run = run_binary(dir, {"run", (dir / "p.ini").string(), "--db", sgd, "--device", "cpu", "--set",
                                          "probe.protocols=sgd", "--set", "analysis.samples=0"});
  ASSERT_EQ(sgd_run.exit_code, 0) << sgd_run.output;

  const auto rows = rows_of(both);
  const std::vector<std::pair<std::string, double>> features{
      {"backbone", -1}, {"embedding", -1}, {"sem", 0.01}, {"sem", 0.1}, {"sem", 1}};
  for (const auto& [feature, tau_d] : features) {
    SCOPED_TRACE(feature + " " + std::to_string(tau_d));
    for (const std::string protocol : {"lbfgs_probe", "linear_probe"}) {
      for (const std::string split : {"train", "val", "test"}) {
        EXPECT_EQ(rows.count({protocol, feature, tau_d, split, "top1"}), 1u) << protocol << " " << split;
      }
    }
    // The L-BFGS probe's convergence: the criterion holds exactly when it says it converged.
    const double converged = rows.at({"lbfgs_probe", feature, tau_d, "train", "probe_converged"});
    const double grad_norm = rows.at({"lbfgs_probe", feature, tau_d, "train", "probe_grad_norm"});
    EXPECT_EQ(converged, grad_norm <= 1e-4 ? 1.0 : 0.0);
    EXPECT_GT(rows.at({"lbfgs_probe", feature, tau_d, "train", "probe_iterations"}), 0.0);
    const double l2 = rows.at({"lbfgs_probe", feature, tau_d, "train", "probe_l2"});
    const std::set<double> grid{1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1};
    EXPECT_EQ(grid.count(l2), 1u) << l2;
    EXPECT_EQ(rows.count({"lbfgs_probe", feature, tau_d, "train", "probe_lr"}), 0u);
    EXPECT_EQ(rows.count({"linear_probe", feature, tau_d, "train", "probe_lr"}), 1u);
  }

  // The SGD probe's numbers are those of a run that trained it alone.
  int compared = 0;
  for (const auto& [key, value] : rows_of(sgd)) {
    if (std::get<0>(key) != "linear_probe") continue;
    ASSERT_EQ(rows.count(key), 1u);
    EXPECT_EQ(rows.at(key), value) << std::get<1>(key) << " " << std::get<3>(key) << " " << std::get<4>(key);
    ++compared;
  }
  EXPECT_GE(compared, 5 * 9);

  // Weight files of each protocol; the L-BFGS probe's (standardisation folded in) reproduce its test top-1 on
  // the raw stored features, up to one image whose two best logits tie within float32 rounding.
  Store store(both);
  const auto artifacts = semharness::stored_artifacts(both, store.runs().at(0).run_id);
  ASSERT_TRUE(artifacts.has_value());
  const int64_t n_test = semharness::read_npy((*artifacts / "test_labels.npy").string()).shape.at(0);
  for (const auto& [feature, file] :
       {std::pair<std::string, std::string>{"backbone", "test_h.npy"}, {"embedding", "test_e.npy"}}) {
    EXPECT_TRUE(fs::exists(*artifacts / (semharness::probe_file_stem("linear_probe", feature) + "_weight.npy")));
    const double stored = rows.at({"lbfgs_probe", feature, -1.0, "test", "top1"});
    EXPECT_NEAR(top1_from_files(*artifacts, file, semharness::probe_file_stem("lbfgs_probe", feature)), stored,
                100.0 / static_cast<double>(n_test) + 1e-9)
        << feature;
  }

  // A timing per protocol.
  SQLite::Database database(both);
  SQLite::Statement timings(database, "SELECT name FROM timings WHERE name LIKE 'probe:%' ORDER BY name");
  std::vector<std::string> names;
  while (timings.executeStep()) names.push_back(timings.getColumn(0).getString());
  EXPECT_EQ(names, (std::vector<std::string>{"probe:lbfgs_probe", "probe:linear_probe"}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace semharness_probe_protocols_test
