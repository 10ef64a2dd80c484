// The generalization-bound check (reports/analyses/bound_check.h, SPEC §4.2): Rademacher estimates against
// closed forms and exhaustive sums, probe norms and entropy histograms on hand-made inputs, Spearman's rho,
// and the report sections on a tiny grid's stored features.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli_support.h"
#include "harness/config/run_spec.h"
#include "harness/store/artifact_paths.h"
#include "harness/store/store.h"
#include "harness/probe/lbfgs_probe.h"
#include "reports/analyses/analysis_probe.h"
#include "reports/analyses/bound_check.h"
#include "reports/run_labels.h"
#include "reports/statistics.h"

namespace semharness {
namespace {

using namespace semharness_test;

torch::Tensor matrix(const std::vector<std::vector<double>>& rows) {
  auto t = torch::zeros({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, torch::kDouble);
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = 0; j < rows[i].size(); ++j) t[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = rows[i][j];
  }
  return t;
}

TEST(Rademacher, OneSampleIsTheFeaturesNormWhateverTheSigns) {
  // n = 1: ||x^T sigma|| = ||x|| for sigma = +-1. L = 2, V = 2: simplex 0 is columns {0, 2}, simplex 1 {1, 3}.
  const auto x = matrix({{3, 0, 4, 0}});
  for (uint64_t seed : {1u, 2u, 3u}) {
    const auto r = rademacher_complexity(x, 2, 2, 7, seed);
    EXPECT_DOUBLE_EQ(r.l2, 5.0);
    EXPECT_DOUBLE_EQ(r.linf, 4.0);
    ASSERT_TRUE(r.group_l21.has_value());
    EXPECT_DOUBLE_EQ(*r.group_l21, 5.0);
  }
  EXPECT_FALSE(rademacher_complexity(x, 0, 0, 3, 1).group_l21.has_value());
  EXPECT_THROW(rademacher_complexity(x, 3, 2, 3, 1), std::invalid_argument);
}

TEST(Rademacher, ThreeSamplesAgainstTheExactExpectationOverAllSigns) {
  const std::vector<std::vector<double>> rows = {{1, 2, 0, -1}, {0, 1, 3, 1}, {2, -1, 1, 0}};
  const int64_t L = 2, V = 2, n = 3;
  double l2 = 0, linf = 0, group = 0;
  std::vector<std::vector<double>> all_signs;
  for (int pattern = 0; pattern < 8; ++pattern) {
    std::vector<double> sigma = {pattern & 1 ? 1.0 : -1.0, pattern & 2 ? 1.0 : -1.0, pattern & 4 ? 1.0 : -1.0};
    all_signs.push_back(sigma);
    std::vector<double> v(4, 0.0);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 4; ++j)
        v[static_cast<size_t>(j)] +=
            sigma[static_cast<size_t>(i)] * rows[static_cast<size_t>(i)][static_cast<size_t>(j)];
    }
    l2 += std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]) / 8;
    linf += std::max({std::abs(v[0]), std::abs(v[1]), std::abs(v[2]), std::abs(v[3])}) / 8;
    // Vertex-major: simplex l holds columns l and L + l.
    group += std::max(std::hypot(v[0], v[2]), std::hypot(v[1], v[3])) / 8;
  }
  l2 /= n;
  linf /= n;
  group /= n;
  const auto x = matrix(rows);
  const auto exact = rademacher_complexity_for_signs(x, matrix(all_signs).t().contiguous(), L, V);
  EXPECT_NEAR(exact.l2, l2, 1e-12);
  EXPECT_NEAR(exact.linf, linf, 1e-12);
  EXPECT_NEAR(*exact.group_l21, group, 1e-12);
  const auto sampled = rademacher_complexity(x.to(torch::kFloat), L, V, 20000, 7);
  EXPECT_NEAR(sampled.l2, l2, 0.02 * l2);
  EXPECT_NEAR(sampled.linf, linf, 0.02 * linf);
  EXPECT_NEAR(*sampled.group_l21, group, 0.02 * group);
}

TEST(BoundCheckNorms, GroupNormsFollowTheSimplexLayout) {
  // C = 2, L = 3, V = 2: simplex l is columns {l, 3 + l}. Block 0 holds 3 and 4 (norm 5), block 1 nothing,
  // block 2 holds 0.001 and 0.002 (norm sqrt(5e-6), below 1% of 5).
  const auto w = matrix({{3, 0, 0.001, 4, 0, 0}, {0, 0, 0, 0, 0, 0.002}});
  const auto norms = weight_norms(w.to(torch::kFloat), 3, 2);
  EXPECT_NEAR(norms.l2, std::sqrt(25.000005), 1e-6);
  EXPECT_NEAR(norms.l1, 7.003, 1e-6);
  ASSERT_TRUE(norms.group_l21.has_value());
  EXPECT_NEAR(*norms.group_l21, 5.0 + std::sqrt(5e-6), 1e-6);
  EXPECT_NEAR(*norms.group_sparsity, 2.0 / 3.0, 1e-12);
  const auto dense = weight_norms(matrix({{1, 1, 1, 1, 1, 1}}), 3, 2);
  EXPECT_NEAR(*dense.group_l21, 3 * std::sqrt(2.0), 1e-12);
  EXPECT_EQ(*dense.group_sparsity, 0.0);
  const auto plain = weight_norms(w, 0, 0);
  EXPECT_FALSE(plain.group_l21.has_value());
  EXPECT_FALSE(plain.group_sparsity.has_value());
}

TEST(BoundCheckNorms, EntropyHistogramOfHandMadeSimplices) {
  // L = 2, V = 4, column v * 2 + l. Row 0: simplex 0 uniform (H = ln 4), simplex 1 one-hot (H = 0).
  // Row 1: simplex 0 two vertices at 0.5 (H = ln 2, half of ln 4), simplex 1 (0.7, 0.1, 0.1, 0.1)
  // (H = 0.9404, 0.678 of ln 4). Five bins of width 0.2 ln 4.
  auto y = torch::zeros({2, 8}, torch::kFloat);
  const auto set = [&](int64_t row, int64_t l, std::vector<float> p) {
    for (int64_t v = 0; v < 4; ++v) y[row][v * 2 + l] = p[static_cast<size_t>(v)];
  };
  set(0, 0, {0.25f, 0.25f, 0.25f, 0.25f});
  set(0, 1, {0, 0, 1, 0});
  set(1, 0, {0.5f, 0, 0.5f, 0});
  set(1, 1, {0.7f, 0.1f, 0.1f, 0.1f});
  const auto histogram = block_entropy_histogram(y, 2, 4, 5);
  ASSERT_EQ(histogram.size(), 5u);
  const std::vector<double> expected = {0.25, 0, 0.25, 0.25, 0.25};
  for (size_t b = 0; b < 5; ++b) EXPECT_DOUBLE_EQ(histogram[b], expected[b]) << b;
}

TEST(BoundCheckStatistics, SpearmanWithAndWithoutTies) {
  // No ties: rho = 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - 6*4/120 = 0.8. t = 2.309 on 3 df: between the 0.10 and
  // 0.05 one-sided critical values 1.638 and 2.353.
  const auto r = spearman({1, 2, 3, 4, 5}, {2, 1, 4, 3, 5});
  ASSERT_TRUE(r.has_value());
  EXPECT_NEAR(r->rho, 0.8, 1e-12);
  EXPECT_EQ(r->n, 5);
  EXPECT_GT(*r->p_positive, 0.05);
  EXPECT_LT(*r->p_positive, 0.10);
  // Ties get their average rank: b's ranks (1.5, 1.5, 3, 4) give rho = 4.5 / sqrt(5 * 4.5) = 3 / sqrt(10).
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {1, 1, 2, 3})->rho, 3 / std::sqrt(10.0), 1e-12);
  EXPECT_EQ(*spearman({1, 2, 3}, {3, 2, 1})->p_positive, 1.0);
  EXPECT_EQ(*spearman({1, 2, 3}, {10, 20, 30})->p_positive, 0.0);
  EXPECT_FALSE(spearman({1, 2}, {1, 2}).has_value());
  EXPECT_FALSE(spearman({1, 2, 3}, {4, 4, 4}).has_value());
}

TEST(BoundCheckProbeChoice, TheFirstStoredProtocolOfThePreferenceOrder) {
  const auto rows = [](const std::string& run_id, const std::vector<std::string>& protocols) {
    std::vector<ResultRow> results;
    for (const auto& protocol : protocols) {
      results.push_back({run_id, protocol, "backbone", std::nullopt, "test", "top1", 50});
    }
    return results;
  };
  EXPECT_EQ(analysis_probe_protocol(rows("a", {"knn", "linear_probe"}), "a"), "linear_probe");
  EXPECT_EQ(analysis_probe_protocol(rows("a", {"linear_probe", "lbfgs_probe"}), "a"), "lbfgs_probe");
  EXPECT_EQ(analysis_probe_protocol(rows("a", {"linear_probe", "lbfgs_probe_raw"}), "a"), "lbfgs_probe_raw");
  EXPECT_FALSE(analysis_probe_protocol(rows("a", {"knn", "online_linear"}), "a"));
  EXPECT_FALSE(analysis_probe_protocol(rows("b", {"lbfgs_probe"}), "a"));  // another run's rows
  EXPECT_TRUE(protocol_standardizes("lbfgs_probe"));
  EXPECT_FALSE(protocol_standardizes("lbfgs_probe_raw"));
  EXPECT_FALSE(protocol_standardizes("linear_probe"));
}

TEST(BoundCheckProbeChoice, SelectedHyperParametersOfEachProtocol) {
  RunRecord run;
  run.run_id = "a";
  run.config = {{"probe.max_iter", "321"},
                {"probe.tolerance", "0.002"},
                {"probe.wd2", "0.0005"},
                {"probe.epochs", "7"},
                {"probe.batch_size", "64"}};
  const std::vector<ResultRow> results = {
      {"a", "lbfgs_probe", "sem", 0.1, "train", "probe_l2", 0.01},
      {"a", "lbfgs_probe", "sem", 1.0, "train", "probe_l2", 0.0001},
      {"a", "lbfgs_probe_raw", "sem", 1.0, "train", "probe_l2", 0.1},
      {"a", "lbfgs_probe", "sem", 0.1, "val", "top1", 60},
      {"a", "lbfgs_probe", "sem", 1.0, "val", "top1", 70},
      {"a", "linear_probe", "sem", 0.1, "val", "top1", 80},
      {"a", "linear_probe", "sem", 1.0, "val", "top1", 80},
      {"a", "linear_probe", "backbone", std::nullopt, "train", "probe_lr", 0.2},
      {"a", "linear_probe", "backbone", std::nullopt, "train", "probe_wd1", 1e-5},
      {"b", "lbfgs_probe", "backbone", std::nullopt, "train", "probe_l2", 0.5},
  };
  const auto converged = selected_probe(run, results, "lbfgs_probe", "sem", 1.0);
  EXPECT_TRUE(converged.is_lbfgs());
  EXPECT_EQ(converged.lbfgs.l2s, std::vector<double>{0.0001});
  EXPECT_TRUE(converged.lbfgs.standardize);
  EXPECT_EQ(converged.lbfgs.max_iterations, 321);
  EXPECT_DOUBLE_EQ(converged.lbfgs.tolerance, 0.002);
  EXPECT_EQ(converged.hyper_parameters(), "l2 0.0001");
  const auto raw = selected_probe(run, results, "lbfgs_probe_raw", "sem", 1.0);
  EXPECT_EQ(raw.lbfgs.l2s, std::vector<double>{0.1});
  EXPECT_FALSE(raw.lbfgs.standardize);
  const auto sgd = selected_probe(run, results, "linear_probe", "backbone", std::nullopt);
  EXPECT_FALSE(sgd.is_lbfgs());
  EXPECT_EQ(sgd.sgd.lrs, std::vector<double>{0.2});
  EXPECT_EQ(sgd.sgd.wd1s, std::vector<double>{1e-5});
  EXPECT_DOUBLE_EQ(sgd.sgd.wd2, 0.0005);
  EXPECT_EQ(sgd.sgd.epochs, 7);
  EXPECT_EQ(sgd.sgd.batch_size, 64);
  EXPECT_EQ(sgd.hyper_parameters(), "lr 0.2, wd1 1e-05");
  // Run b's backbone l2 is not run a's; the SGD rows hold no l2.
  EXPECT_THROW(selected_probe(run, results, "lbfgs_probe", "backbone", std::nullopt), std::runtime_error);
  EXPECT_THROW(selected_probe(run, results, "linear_probe", "sem", 1.0), std::runtime_error);
  EXPECT_THROW(selected_probe(run, results, "knn", "backbone", std::nullopt), std::invalid_argument);
  // Each protocol's own validation-best tau_d (ties: the smallest).
  EXPECT_EQ(selected_sem_tau_d(results, "a", "lbfgs_probe"), 1.0);
  EXPECT_EQ(selected_sem_tau_d(results, "a", "linear_probe"), 0.1);
  EXPECT_FALSE(selected_sem_tau_d(results, "a", "lbfgs_probe_raw"));
}

TEST(BoundCheckProbeChoice, RetrainsWithTheSelectedProtocol) {
  // Two separable classes in 2-D.
  torch::manual_seed(3);
  const auto y = torch::cat({torch::zeros({40}, torch::kLong), torch::ones({40}, torch::kLong)});
  const auto x = torch::randn({80, 2}) + 3 * torch::stack({y.to(torch::kFloat) * 2 - 1, torch::zeros({80})}, 1);
  SelectedProbe lbfgs;
  lbfgs.protocol = "lbfgs_probe";
  lbfgs.lbfgs = RunSpec::parse(RunConfig::defaults()).probe.lbfgs;  // standardised, the default tolerance
  lbfgs.lbfgs.l2s = {1e-3};
  const auto converged = retrain_probe(lbfgs, {x, y}, {x, y}, 2);
  ASSERT_TRUE(converged.convergence.has_value());
  EXPECT_TRUE(converged.convergence->converged);
  EXPECT_DOUBLE_EQ(converged.l2, 1e-3);
  EXPECT_GT(converged.test.top1, 95.0);
  SelectedProbe sgd;
  sgd.protocol = "linear_probe";
  sgd.sgd.lrs = {0.1};
  sgd.sgd.wd1s = {0};
  sgd.sgd.epochs = 20;
  sgd.sgd.batch_size = 16;
  const auto stepped = retrain_probe(sgd, {x, y}, {x, y}, 2);
  EXPECT_FALSE(stepped.convergence.has_value());
  EXPECT_DOUBLE_EQ(stepped.lr, 0.1);
  EXPECT_GT(stepped.test.top1, 95.0);

  // Standardised with given statistics: those of the training rows give the same probe.
  const auto same = retrain_probe(lbfgs, {x, y}, {x, y}, 2, FeatureStandardizer::fit(x));
  EXPECT_TRUE(torch::allclose(same.weight, converged.weight, 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(same.bias, converged.bias, 1e-4, 1e-4));
  // A column nearly constant on the six labelled rows (it follows their label by +-1e-6) but not on the rest:
  // standardised by the six rows' own std it gets a raw weight in the millions, by every row's a small one.
  const auto few = torch::tensor(std::vector<int64_t>{0, 1, 2, 40, 41, 42});
  auto images = x.clone();
  images.index_put_({few, 1}, 5 + 1e-6 * (y.index_select(0, few).to(torch::kFloat) * 2 - 1));
  const LabeledFeatures labelled{images.index_select(0, few), y.index_select(0, few)};
  const auto own = retrain_probe(lbfgs, labelled, {images, y}, 2);
  const auto subset = retrain_probe(lbfgs, labelled, {images, y}, 2, FeatureStandardizer::fit(images));
  EXPECT_GT(own.weight.select(1, 1).abs().max().item<double>(), 1e4);
  EXPECT_LT(subset.weight.select(1, 1).abs().max().item<double>(), 10);
  ASSERT_TRUE(subset.convergence.has_value());
  // The returned weight and bias apply to raw features: they score as reported.
  const auto raw_logits = images.mm(subset.weight.t()) + subset.bias;
  const double raw_top1 = raw_logits.argmax(1).eq(y).to(torch::kDouble).mean().item<double>() * 100.0;
  EXPECT_NEAR(raw_top1, subset.test.top1, 1e-9);
  EXPECT_NEAR(torch::nn::functional::cross_entropy(raw_logits, y).item<double>(), subset.test.loss, 1e-4);
  EXPECT_NEAR(subset.weight_l1, subset.weight.abs().sum().item<double>(), 1e-6);
}

const ReportTable* table_with_prefix(const ReportSection& section, const std::string& prefix) {
  for (const auto& table : section.tables) {
    if (table.id.rfind(prefix, 0) == 0) return &table;
  }
  return nullptr;
}

std::string paragraphs_of(const ReportSection& section) {
  std::string text;
  for (const auto& p : section.paragraphs) text += p + "\n";
  return text;
}

// The section of the tiny grid: every configuration measured, its verdicts, the simplex statistics.
void expect_every_configuration_measured(const ReportSection& section, const std::string& grid) {
  EXPECT_EQ(section.id, "bound_check_" + grid);
  const std::string paragraphs = paragraphs_of(section);
  EXPECT_NE(paragraphs.find("2 finished runs with stored features"), std::string::npos) << paragraphs;
  EXPECT_NE(paragraphs.find("Verdict, does the bound proxy order configurations"), std::string::npos) << paragraphs;
  EXPECT_NE(paragraphs.find("Verdict, is the SEM gap smaller"), std::string::npos) << paragraphs;
  EXPECT_NE(paragraphs.find("Verdict, does a lower tau_d shrink the gap"), std::string::npos) << paragraphs;

  // sem=off: h; sem=on: h, e, SEM at 3 tau_d; each at 3 label fractions (3, 30, 300 of the 300 images).
  const ReportTable* gaps = table_with_prefix(section, "bound_gaps_");
  ASSERT_NE(gaps, nullptr);
  ASSERT_EQ(gaps->rows.size(), 3u + 5u * 3u);
  std::map<std::string, int> per_feature;
  for (const auto& row : gaps->rows) {
    ++per_feature[row[1].text];
    const double n = *row[3].value;
    EXPECT_TRUE(n == 3 || n == 30 || n == 300) << n;
    EXPECT_NEAR(*row[6].value, *row[4].value - *row[5].value, 1e-9);  // gap top-1 = train - test
    EXPECT_NEAR(*row[9].value, *row[8].value - *row[7].value, 1e-9);  // gap loss = test - train
    for (size_t c : {10u, 11u, 12u, 13u}) EXPECT_GT(*row[c].value, 0) << row[1].text;
    const bool blocks = row[1].text != "h";
    EXPECT_EQ(row[14].value.has_value(), blocks);
    EXPECT_EQ(row[16].value.has_value(), blocks);
    if (blocks) {
      EXPECT_GE(*row[16].value, 0);
      EXPECT_LE(*row[16].value, 1);
      // ||W||_F <= group L(2,1) norm <= sqrt(L) ||W||_F (L = 8).
      EXPECT_LE(*row[10].value, *row[14].value * (1 + 1e-6));
      EXPECT_LE(*row[14].value, std::sqrt(8.0) * *row[10].value * (1 + 1e-6));
    }
  }
  EXPECT_EQ(per_feature["h"], 6);
  EXPECT_EQ(per_feature["e"], 3);
  EXPECT_EQ(per_feature["SEM tau_d=0.01"], 3);
  EXPECT_EQ(per_feature["SEM tau_d=1"], 3);

  const ReportTable* rank = table_with_prefix(section, "bound_rank_");
  ASSERT_NE(rank, nullptr);
  EXPECT_EQ(rank->rows.size(), 3u * 4u * 2u);  // proxies x (all, 1%, 10%, 100%) x (top-1, loss)
  EXPECT_EQ(*rank->rows[0][3].value, 18);      // L2 ball, all fractions: every configuration
  EXPECT_EQ(*rank->rows[16][3].value, 12);     // group ball, all fractions: e and SEM of the sem=on run

  const ReportTable* simplex = table_with_prefix(section, "bound_simplex_");
  ASSERT_NE(simplex, nullptr);
  ASSERT_EQ(simplex->rows.size(), 3u);
  for (const auto& row : simplex->rows) {
    const double squared_norm = *row[2].value;
    EXPECT_GE(squared_norm, 8.0 / 4.0 - 1e-4);  // L/V <= ||y||^2 <= L
    EXPECT_LE(squared_norm, 8.0 + 1e-4);
    EXPECT_GE(*row[4].value, 0);
    EXPECT_LE(*row[4].value, std::log(4.0) + 1e-6);
    double total = 0;
    for (size_t c = 6; c < row.size(); ++c) total += *row[c].value;
    EXPECT_NEAR(total, 100.0, 0.5);  // the cells are rounded to 0.1
  }
  ASSERT_EQ(section.plots.size(), 1u);
  EXPECT_EQ(section.plots[0].series.size(), 3u);
}

// The stored l2 of the run's L-BFGS probe on the feature of a gaps-table row ("h", "e", "SEM tau_d=0.1").
std::optional<double> stored_l2(const std::vector<ResultRow>& results, const std::string& run_id,
                                const std::string& feature_name) {
  std::string feature = feature_name == "h" ? "backbone" : feature_name == "e" ? "embedding" : "sem";
  std::optional<double> tau_d;
  if (feature == "sem") tau_d = std::stod(feature_name.substr(std::string("SEM tau_d=").size()));
  for (const auto& r : results) {
    if (r.run_id == run_id && r.protocol == "lbfgs_probe" && r.feature == feature && r.metric == "probe_l2" &&
        r.tau_d.has_value() == tau_d.has_value() && (!tau_d || std::abs(*r.tau_d - *tau_d) < 1e-12)) {
      return r.value;
    }
  }
  return std::nullopt;
}

// A tiny grid with and without SEM, its features stored (300 images per split), storing only the SGD probe.
class BoundCheckReportTest : public semharness_test::TinyStoredFeaturesTest<BoundCheckReportTest> {
 public:
  static constexpr const char* kGrid = "bound";
  static inline const std::vector<std::string> kOverrides{"probe.protocols=sgd"};
};

TEST_F(BoundCheckReportTest, SectionsMeasureEveryConfiguration) {
  Store store(db_.string());
  const auto sections = bound_check_sections(store, db_.string(), "bound");
  ASSERT_EQ(sections.size(), 1u);
  expect_every_configuration_measured(sections[0], "bound");
  // The runs stored only the SGD probe: it is the one retrained, at its stored lr and wd1.
  const std::string paragraphs = paragraphs_of(sections[0]);
  EXPECT_NE(paragraphs.find("linear_probe ("), std::string::npos) << paragraphs;
  EXPECT_EQ(paragraphs.find("lbfgs_probe ("), std::string::npos) << paragraphs;
  EXPECT_NE(paragraphs.find("as many SGD steps on fewer"), std::string::npos) << paragraphs;
  const ReportTable* gaps = table_with_prefix(sections[0], "bound_gaps_");
  ASSERT_NE(gaps, nullptr);
  for (const auto& row : gaps->rows) EXPECT_EQ(row.back().text.rfind("linear_probe lr ", 0), 0u) << row.back().text;
}

TEST_F(BoundCheckReportTest, RunsWithoutStoredFeaturesAreNamed) {
  const fs::path db = dir_ / "bare.db";
  fs::copy_file(db_, db, fs::copy_options::overwrite_existing);
  Store store(db.string());
  const auto sections = bound_check_sections(store, db.string(), "");
  ASSERT_EQ(sections.size(), 1u);
  EXPECT_TRUE(sections[0].tables.empty());
  ASSERT_EQ(sections[0].paragraphs.size(), 1u);
  EXPECT_NE(sections[0].paragraphs[0].find("None of the 2 finished runs stored features"), std::string::npos);
}

// The same grid with the default probe of the runs, the converged L-BFGS one only (two penalties, to be quick).
class BoundCheckLbfgsReportTest : public semharness_test::TinyStoredFeaturesTest<BoundCheckLbfgsReportTest> {
 public:
  static constexpr const char* kGrid = "bound_lbfgs";
  static inline const std::vector<std::string> kOverrides{"probe.protocols=lbfgs", "probe.l2=0.001,0.1"};
};

TEST_F(BoundCheckLbfgsReportTest, AnLbfgsOnlyRunIsRetrainedWithLbfgsAtItsStoredL2) {
  Store store(db_.string());
  const auto runs = store.runs("bound_lbfgs");
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& run : runs) {
    const auto dir = stored_artifacts(db_.string(), run.run_id);
    ASSERT_TRUE(dir.has_value());
    EXPECT_TRUE(fs::exists(*dir / "lbfgs_probe_backbone_bias.npy"));
    EXPECT_FALSE(fs::exists(*dir / "probe_backbone_bias.npy"));  // no SGD probe to fall back on
  }
  const auto sections = bound_check_sections(store, db_.string(), "bound_lbfgs");
  ASSERT_EQ(sections.size(), 1u);
  expect_every_configuration_measured(sections[0], "bound_lbfgs");
  const std::string paragraphs = paragraphs_of(sections[0]);
  EXPECT_NE(paragraphs.find("lbfgs_probe ("), std::string::npos) << paragraphs;
  EXPECT_NE(paragraphs.find("for 2 runs"), std::string::npos) << paragraphs;
  EXPECT_EQ(paragraphs.find("linear_probe ("), std::string::npos) << paragraphs;
  EXPECT_NE(paragraphs.find("retrained probes converged"), std::string::npos) << paragraphs;

  // Every configuration is retrained at the l2 its run's probe selected for that feature.
  const auto results = store.results();
  std::map<std::string, std::string> run_of_label;
  for (const auto& [run_id, label] : run_labels(runs)) run_of_label[label] = run_id;
  const ReportTable* gaps = table_with_prefix(sections[0], "bound_gaps_");
  ASSERT_NE(gaps, nullptr);
  int64_t converged = 0;
  for (const auto& row : gaps->rows) {
    const auto l2 = stored_l2(results, run_of_label.at(row[0].text), row[1].text);
    ASSERT_TRUE(l2.has_value()) << row[0].text << " " << row[1].text;
    const std::string probe = row.back().text;
    EXPECT_EQ(probe.rfind(fmt::format("lbfgs_probe l2 {:g}, ", *l2), 0), 0u) << probe;
    converged += probe.find(", converged") != std::string::npos;
  }
  EXPECT_NE(paragraphs.find(fmt::format("{} of {} retrained probes converged", converged, gaps->rows.size())),
            std::string::npos)
      << paragraphs;
  EXPECT_GT(converged, 0);
}

// Holm's adjustment by hand: p = (0.01, 0.04, 0.03) sorted 0.01, 0.03, 0.04 become 3 x 0.01 = 0.03,
// max(0.03, 2 x 0.03) = 0.06 and max(0.06, 1 x 0.04) = 0.06, returned in the input's order.
TEST(RunLevelStatisticsTest, HolmAdjustmentByHand) {
  const auto adjusted = holm_adjusted({0.01, 0.04, 0.03});
  ASSERT_EQ(adjusted.size(), 3u);
  EXPECT_NEAR(adjusted[0], 0.03, 1e-15);
  EXPECT_NEAR(adjusted[1], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[2], 0.06, 1e-15);
  EXPECT_EQ(holm_adjusted({0.5, 0.9}), (std::vector<double>{1.0, 1.0}));
}

// Sign flips by hand: (1, 2, 3) has mean 2, reached by 1 of its 8 sign patterns, p = 1/8; its 95% interval is
// 2 -+ t(0.975, 2 df) x 1 / sqrt(3) = 2 -+ 4.302653 x 0.577350. Five equal positive values: p = 1/32. A value
// set symmetric about 0 has mean 0 and p above one half.
TEST(RunLevelStatisticsTest, SignFlipTestByHand) {
  const auto a = sign_flip_test({1, 2, 3});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->n, 3);
  EXPECT_DOUBLE_EQ(a->mean, 2.0);
  EXPECT_DOUBLE_EQ(a->p_positive, 1.0 / 8.0);
  EXPECT_NEAR(a->low, 2.0 - 4.302652729911275 / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(a->high, 2.0 + 4.302652729911275 / std::sqrt(3.0), 1e-9);
  EXPECT_DOUBLE_EQ(sign_flip_test({0.5, 0.5, 0.5, 0.5, 0.5})->p_positive, 1.0 / 32.0);
  EXPECT_GT(sign_flip_test({-1, 1, -2, 2})->p_positive, 0.5);
  EXPECT_FALSE(sign_flip_test({0.7}).has_value());
  // Beyond 16 runs the patterns are drawn: 20 equal positive values give p = 1 / 20,001 (only the observed one).
  EXPECT_NEAR(sign_flip_test(std::vector<double>(20, 0.4))->p_positive, 1.0 / 20001.0, 1e-12);
}

}  // namespace
}  // namespace semharness
