// The semantic-coherence analysis (SPEC §4.3): the class groups against the published CIFAR-100 superclass
// listing, top-K extraction and the simplex layout on hand-made weights, sharing counts on a hand-counted case,
// and the whole analysis on stored features the test writes itself, where SEM's probe has a planted group
// structure and the baseline's is random.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cifar100_superclasses.h"
#include "cli_support.h"
#include "harness/config/grid.h"
#include "harness/store/npy.h"
#include "harness/store/store.h"
#include "harness/probe/lbfgs_probe.h"
#include "reports/analyses/semantic_coherence.h"
#include "sem/simplicial_embedding.h"

using namespace semharness;

namespace {

namespace fs = std::filesystem;

int64_t label_of(const ClassGroups& groups, const std::string& name) {
  const auto it = std::find(groups.class_names.begin(), groups.class_names.end(), name);
  EXPECT_NE(it, groups.class_names.end()) << name;
  return it - groups.class_names.begin();
}

std::string group_of(const ClassGroups& groups, const std::string& name) {
  return groups.group_names.at(groups.group_of_class.at(label_of(groups, name)));
}

}  // namespace

TEST(SemanticCoherenceTest, Cifar100SuperclassesMatchThePublishedListing) {
  const auto groups = class_groups("cifar100");
  ASSERT_TRUE(groups);
  ASSERT_EQ(groups->class_names.size(), 100u);
  ASSERT_EQ(groups->group_names.size(), 20u);
  // Spot checks by label.
  EXPECT_EQ(groups->group_of_class[0], 4);  // apple -> fruit_and_vegetables
  EXPECT_EQ(groups->group_names[4], "fruit_and_vegetables");
  EXPECT_EQ(groups->group_of_class[1], 1);  // aquarium_fish -> fish
  EXPECT_EQ(groups->group_names[1], "fish");
  // Every superclass with its five classes, as listed with the dataset.
  const auto& listing = cifar100_superclasses();
  for (const auto& [superclass, members] : listing) {
    for (const auto& member : members) EXPECT_EQ(group_of(*groups, member), superclass) << member;
  }
  // 20 groups of 5: 20 * C(5,2) of the C(100,2) class pairs lie within a group.
  EXPECT_NEAR(chance_within_group_fraction(groups->group_of_class), 200.0 / 4950.0, 1e-12);
}

TEST(SemanticCoherenceTest, FashionMnistAndCifar10Groups) {
  const auto fashion = class_groups("fashion_mnist");
  ASSERT_TRUE(fashion);
  for (const char* top : {"T-shirt/top", "Pullover", "Coat", "Shirt"}) EXPECT_EQ(group_of(*fashion, top), "tops");
  for (const char* shoe : {"Sandal", "Sneaker", "Ankle boot"}) EXPECT_EQ(group_of(*fashion, shoe), "footwear");
  EXPECT_EQ(label_of(*fashion, "Coat"), 4);
  EXPECT_EQ(label_of(*fashion, "Ankle boot"), 9);
  // Trouser, dress and bag are alone in their groups.
  for (const char* alone : {"Trouser", "Dress", "Bag"}) {
    const int64_t g = fashion->group_of_class[label_of(*fashion, alone)];
    EXPECT_EQ(std::count(fashion->group_of_class.begin(), fashion->group_of_class.end(), g), 1) << alone;
  }
  EXPECT_NEAR(chance_within_group_fraction(fashion->group_of_class), (6.0 + 3.0) / 45.0, 1e-12);

  const auto cifar10 = class_groups("cifar10");
  ASSERT_TRUE(cifar10);
  for (const char* vehicle : {"airplane", "automobile", "ship", "truck"})
    EXPECT_EQ(group_of(*cifar10, vehicle), "vehicles");
  for (const char* animal : {"bird", "cat", "deer", "dog", "frog", "horse"})
    EXPECT_EQ(group_of(*cifar10, animal), "animals");
  EXPECT_NEAR(chance_within_group_fraction(cifar10->group_of_class), (6.0 + 15.0) / 45.0, 1e-12);

  EXPECT_FALSE(class_groups("synthetic"));
}

TEST(SemanticCoherenceTest, TopKByAbsoluteWeightAndSimplexOfEachFeature) {
  // 2 classes x 6 features.
  const std::vector<float> weight = {0.1f,  -0.9f, 0.5f,  0.0f, 0.5f,  -0.2f,  // class 0
                                     -0.3f, 0.0f,  0.05f, 2.0f, -0.4f, 0.3f};  // class 1
  const auto top = top_k_features(weight, 2, 6, 3);
  // Class 0: |-0.9| first, then the tie 0.5 / 0.5 by lower index.
  EXPECT_EQ(top[0], (std::vector<int64_t>{1, 2, 4}));
  // Class 1: 2.0, |-0.4|, then the tie 0.3 / |-0.3| by lower index.
  EXPECT_EQ(top[1], (std::vector<int64_t>{3, 4, 0}));
  EXPECT_EQ(top_k_features(weight, 2, 6, 10)[0].size(), 6u);  // K capped at the dimension
  EXPECT_THROW(top_k_features(weight, 3, 6, 2), std::invalid_argument);

  // L = 3 simplices of V = 2 vertices: index v*L + l, so features 1 and 4 are simplex 1, 2 is simplex 2.
  const auto simplices = simplices_of(top, 3);
  EXPECT_EQ(simplices[0], (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(simplices[1], (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(features_of_simplices({1, 2}, 3, 2), (std::vector<int64_t>{1, 2, 4, 5}));
  EXPECT_EQ(union_of(top), (std::vector<int64_t>{0, 1, 2, 3, 4}));

  // The mapping agrees with the SEM block's own layout: to_blocks(x)[b, l, v] is x[b, simplex feature].
  const int64_t L = 5, V = 3;
  const auto flat = torch::arange(L * V, torch::kFloat).unsqueeze(0);
  const auto blocks = to_blocks(flat, L, V);
  for (int64_t f = 0; f < L * V; ++f) {
    const int64_t l = simplex_of_feature(f, L);
    bool found = false;
    for (int64_t v = 0; v < V; ++v) found |= blocks[0][l][v].item<float>() == static_cast<float>(f);
    EXPECT_TRUE(found) << "feature " << f << " is not in simplex " << l;
  }
}

TEST(SemanticCoherenceTest, WithinGroupSharingHandCounted) {
  // Classes 0, 1 in group 0; classes 2, 3 in group 1.
  const std::vector<std::vector<int64_t>> top = {{1, 2}, {1, 3}, {2, 4}, {4, 1}};
  const auto stats = sharing_stats(top, {0, 0, 1, 1});
  // Unit 1: classes 0, 1, 3 -> pairs (0,1) within, (0,3), (1,3) across. Unit 2: (0,2) across. Unit 3: class 1
  // alone. Unit 4: (2,3) within.
  EXPECT_EQ(stats.shared_units, 3);
  EXPECT_EQ(stats.shared_pairs, 5);
  EXPECT_EQ(stats.within_group_pairs, 2);
  ASSERT_TRUE(stats.within_group_fraction());
  EXPECT_NEAR(*stats.within_group_fraction(), 0.4, 1e-12);

  const auto ungrouped = sharing_stats(top, {});
  EXPECT_EQ(ungrouped.shared_pairs, 5);
  EXPECT_FALSE(ungrouped.within_group_fraction());
  EXPECT_FALSE(sharing_stats({{1}, {2}}, {0, 0}).within_group_fraction());  // nothing shared
}

namespace {

// Fashion-MNIST's groups as the analysis uses them (tops, footwear, trouser, dress, bag).
const std::vector<int64_t> kFashionGroup = {0, 2, 0, 3, 0, 1, 0, 1, 4, 1};
constexpr int64_t kL = 16, kV = 4, kClasses = 10;
constexpr int64_t kTrain = 400, kTest = 200;

// Each group owns simplices; within them the class is the vertex it lights up. The other simplices are noise.
std::vector<int64_t> simplices_of_group(int64_t group) {
  static const std::vector<std::vector<int64_t>> owned = {{0, 1}, {2, 3}, {4}, {5}, {6}};
  return owned[group];
}
int64_t vertex_of_class(int64_t c) {
  int64_t rank = 0;
  for (int64_t other = 0; other < c; ++other) rank += kFashionGroup[other] == kFashionGroup[c];
  return rank;
}

std::vector<float> to_floats(const torch::Tensor& t) {
  const auto c = t.contiguous().to(torch::kFloat);
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}
std::vector<int64_t> to_longs(const torch::Tensor& t) {
  const auto c = t.contiguous().to(torch::kLong);
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}
void write_float(const fs::path& dir, const std::string& name, const torch::Tensor& t) {
  const auto values = to_floats(t);
  write_npy((dir / name).string(), values.data(), std::vector<int64_t>(t.sizes().begin(), t.sizes().end()));
}
void write_long(const fs::path& dir, const std::string& name, const torch::Tensor& t) {
  const auto values = to_longs(t);
  write_npy((dir / name).string(), values.data(), std::vector<int64_t>(t.sizes().begin(), t.sizes().end()));
}

// The simplex that is nearly constant in the SEM feature when the stored probes include the L-BFGS one.
constexpr int64_t kFlatSimplex = kL - 1;

// Pre-softmax SEM embeddings with the planted structure, [n, L*V] in the vertex-major layout. With
// flat_simplex, simplex kFlatSimplex barely varies: its SEM feature is 1/V up to ~1e-5.
torch::Tensor planted_embedding(const torch::Tensor& labels, bool flat_simplex = false) {
  const int64_t n = labels.size(0);
  auto blocks = 0.3 * torch::randn({n, kL, kV});
  if (flat_simplex) blocks.select(1, kFlatSimplex).mul_(1e-4 / 0.3);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = labels[i].item<int64_t>();
    for (int64_t l : simplices_of_group(kFashionGroup[c])) blocks[i][l][vertex_of_class(c)] += 3.0;
  }
  return blocks.permute({0, 2, 1}).reshape({n, kL * kV});  // [n, L, V] -> [n, V, L] flattened
}

// A probe reading that structure: in its group's simplices, +1 on the class's own vertex and -0.5 on the
// others; small noise elsewhere. A class's top-4 then lies in its group's simplices, shared only with mates.
torch::Tensor planted_probe() {
  auto w = 0.01 * torch::randn({kClasses, kV, kL});
  for (int64_t c = 0; c < kClasses; ++c) {
    for (int64_t l : simplices_of_group(kFashionGroup[c])) {
      for (int64_t v = 0; v < kV; ++v) w[c][v][l] = v == vertex_of_class(c) ? 1.0 : -0.5;
    }
  }
  return w.reshape({kClasses, kV * kL});
}

RunConfig run_config(const std::string& dataset, const std::string& sem, int64_t seed) {
  RunConfig config = RunConfig::defaults();
  config.values["dataset"] = dataset;
  config.values["sem"] = sem;
  config.values["sem.L"] = std::to_string(kL);
  config.values["sem.V"] = std::to_string(kV);
  config.values["probe.tau_d"] = "0.1,1";
  config.values["probe.epochs"] = "15";
  config.values["probe.batch_size"] = "100";
  config.seed = seed;
  return config;
}

ResultRow row(const std::string& feature, std::optional<double> tau, const std::string& split,
              const std::string& metric, double value, const std::string& protocol = "linear_probe") {
  return {"", protocol, feature, tau, split, metric, value};
}

// The probes the planted runs store. kSgd: the SGD probe (linear_probe). kSgdAndLbfgs: sem=on runs store both
// protocols, the L-BFGS one (lbfgs_probe) planted and its SGD one random at both tau_d, validation picking
// another tau_d under each; sem=off runs store only the L-BFGS probe. Choosing the SGD probe, or its tau_d,
// loses the structure.
enum class StoredProbes { kSgd, kSgdAndLbfgs };

constexpr double kStoredL2 = 1e-3;

// The L-BFGS probe as a run stores it: a probe fitted on standardised features with its standardisation
// folded in, raw weight = standardised weight / std of the feature on the training split. At the nearly
// constant simplex the raw weights of the standardised probe's small noise are in the hundreds.
torch::Tensor folded_planted_probe(const torch::Tensor& train_e) {
  const auto train_y = downstream_feature(train_e, kL, kV, 1.0);
  return planted_probe() / FeatureStandardizer::fit(train_y).scale.unsqueeze(0);
}

// Registers and finishes grid "planted" (sem off and on, seeds 0..2) and writes the stored features and
// probes of seeds 0 and 1: SEM's probe has the planted group structure, the baseline's is random. Returns
// the sem=on run of seed 2, which has none.
std::string write_planted_grid(Store& store, const std::string& db, const std::string& dataset,
                               StoredProbes probes = StoredProbes::kSgd) {
  const bool lbfgs = probes == StoredProbes::kSgdAndLbfgs;
  Grid grid;
  grid.name = "planted";
  grid.file = "planted.ini";
  grid.seeds = {0, 1, 2};
  for (const char* sem : {"off", "on"}) {
    for (int64_t seed : grid.seeds) grid.runs.push_back(run_config(dataset, sem, seed));
  }
  store.register_runs(grid);
  std::string without_features;
  for (const auto& config : grid.runs) {
    const bool sem = config.values.at("sem") == "on";
    RunOutcome outcome;
    outcome.run_id = config.run_id();
    outcome.status = "finished";
    if (sem && !lbfgs) {
      // tau_d 1 wins on validation; 0.1 has the better test number, which must not matter.
      outcome.results = {row("sem", 0.1, "val", "top1", 50),        row("sem", 0.1, "test", "top1", 99),
                         row("sem", 1.0, "val", "top1", 90),        row("sem", 1.0, "test", "top1", 80),
                         row("sem", 0.1, "train", "probe_lr", 0.5), row("sem", 0.1, "train", "probe_wd1", 0),
                         row("sem", 1.0, "train", "probe_lr", 0.5), row("sem", 1.0, "train", "probe_wd1", 0)};
    } else if (sem) {
      // Under lbfgs_probe tau_d 1 wins on validation, under linear_probe 0.1.
      const std::string converged = "lbfgs_probe";
      outcome.results = {row("sem", 0.1, "val", "top1", 95),
                         row("sem", 1.0, "val", "top1", 40),
                         row("sem", 0.1, "train", "probe_lr", 0.5),
                         row("sem", 0.1, "train", "probe_wd1", 0),
                         row("sem", 1.0, "train", "probe_lr", 0.5),
                         row("sem", 1.0, "train", "probe_wd1", 0),
                         row("sem", 0.1, "val", "top1", 50, converged),
                         row("sem", 1.0, "val", "top1", 90, converged),
                         row("sem", 0.1, "train", "probe_l2", 0.1, converged),
                         row("sem", 1.0, "train", "probe_l2", kStoredL2, converged)};
    } else if (lbfgs) {
      outcome.results = {row("backbone", std::nullopt, "test", "top1", 70, "lbfgs_probe"),
                         row("backbone", std::nullopt, "train", "probe_l2", kStoredL2, "lbfgs_probe")};
    } else {
      outcome.results = {row("backbone", std::nullopt, "test", "top1", 70),
                         row("backbone", std::nullopt, "train", "probe_lr", 0.5),
                         row("backbone", std::nullopt, "train", "probe_wd1", 0)};
    }
    store.finish_run(outcome);
    if (config.seed == 2) {  // finished before features were stored
      if (sem) without_features = outcome.run_id;
      continue;
    }
    const fs::path artifacts = fs::path(db + ".artifacts") / outcome.run_id;
    fs::create_directories(artifacts);
    torch::manual_seed(100 + config.seed);
    const auto train_labels = torch::randint(kClasses, {kTrain}, torch::kLong);
    const auto test_labels = torch::randint(kClasses, {kTest}, torch::kLong);
    write_long(artifacts, "train_labels.npy", train_labels);
    write_long(artifacts, "test_labels.npy", test_labels);
    // The backbone feature: a random class template plus noise; its stored probe is random.
    const auto templates = torch::randn({kClasses, 32});
    write_float(artifacts, "train_h.npy", templates.index_select(0, train_labels) + 0.5 * torch::randn({kTrain, 32}));
    write_float(artifacts, "test_h.npy", templates.index_select(0, test_labels) + 0.5 * torch::randn({kTest, 32}));
    const std::string backbone_stem = lbfgs ? "lbfgs_probe_backbone" : "probe_backbone";
    write_float(artifacts, backbone_stem + "_weight.npy", torch::randn({kClasses, 32}));
    write_float(artifacts, backbone_stem + "_bias.npy", torch::zeros({kClasses}));
    if (sem) {
      const auto train_e = planted_embedding(train_labels, lbfgs);
      write_float(artifacts, "train_e.npy", train_e);
      write_float(artifacts, "test_e.npy", planted_embedding(test_labels, lbfgs));
      if (lbfgs) {
        write_float(artifacts, "lbfgs_probe_sem_tau1_weight.npy", folded_planted_probe(train_e));
        write_float(artifacts, "lbfgs_probe_sem_tau1_bias.npy", torch::zeros({kClasses}));
        write_float(artifacts, "lbfgs_probe_sem_tau0.1_weight.npy", torch::randn({kClasses, kL * kV}));
        write_float(artifacts, "lbfgs_probe_sem_tau0.1_bias.npy", torch::zeros({kClasses}));
        write_float(artifacts, "probe_backbone_weight.npy", torch::randn({kClasses, 32}));
        write_float(artifacts, "probe_backbone_bias.npy", torch::zeros({kClasses}));
      }
      // The probe of the tau_d that lost on validation is random: picking it would break the structure. With
      // the L-BFGS probe stored, both SGD probes are.
      write_float(artifacts, "probe_sem_tau1_weight.npy", lbfgs ? torch::randn({kClasses, kL * kV}) : planted_probe());
      write_float(artifacts, "probe_sem_tau1_bias.npy", torch::zeros({kClasses}));
      write_float(artifacts, "probe_sem_tau0.1_weight.npy", torch::randn({kClasses, kL * kV}));
      write_float(artifacts, "probe_sem_tau0.1_bias.npy", torch::zeros({kClasses}));
    }
    std::ofstream(artifacts / "meta.json") << "{}\n";
  }
  return without_features;
}

// These probes are tiny: one thread runs them fastest, and many threads on a loaded machine cost seconds.
class OneTorchThread {
 public:
  OneTorchThread() : previous_(torch::get_num_threads()) { torch::set_num_threads(1); }
  ~OneTorchThread() { torch::set_num_threads(previous_); }

 private:
  int previous_;
};

}  // namespace

namespace {

std::string paragraphs_of(const ReportSection& section) {
  std::string text;
  for (const auto& paragraph : section.paragraphs) text += paragraph + "\n";
  return text;
}

// The section of grid "planted" (Fashion-MNIST groups, seeds 0 and 1 with stored features, K = 4) finds the
// planted structure of the SEM probe and not in the random baseline probe.
void expect_planted_structure_found(const ReportSection& section) {
  ASSERT_EQ(section.tables.size(), 3u);
  const auto column = [](const ReportTable& table, const std::string& name) {
    const auto it = std::find(table.header.begin(), table.header.end(), name);
    EXPECT_NE(it, table.header.end()) << name;
    return static_cast<size_t>(it - table.header.begin());
  };
  const auto& sharing = section.tables[0];
  ASSERT_EQ(sharing.rows.size(), 1u);
  const auto& s = sharing.rows[0];
  EXPECT_EQ(s[column(sharing, "seeds")].text, "2");
  EXPECT_EQ(s[column(sharing, "tau_d")].text, "1");
  // The planted probe shares features only between group-mates; the random one mostly across groups.
  ASSERT_TRUE(s[column(sharing, "SEM within-group %")].value);
  ASSERT_TRUE(s[column(sharing, "baseline within-group %")].value);
  EXPECT_NEAR(*s[column(sharing, "SEM within-group %")].value, 100.0, 1e-9);
  EXPECT_LT(*s[column(sharing, "baseline within-group %")].value, 60.0);
  EXPECT_NEAR(*s[column(sharing, "chance %")].value, 20.0, 1e-9);
  EXPECT_GT(*s[column(sharing, "SEM shared features")].value, 0.0);

  const auto& masked = section.tables[1];
  const auto& m = masked.rows.at(0);
  const double sem_all = *m[column(masked, "SEM all")].value;
  const double sem_mask = *m[column(masked, "SEM top-K mask")].value;
  const double sem_random = *m[column(masked, "SEM random mask")].value;
  // Groups own simplices 0..6: the mask keeps those 7 of 16 simplices, 28 of 64 dims, and all the signal.
  EXPECT_NEAR(*m[column(masked, "SEM kept dims")].value, 28.0, 1e-9);
  EXPECT_GT(sem_all, 90.0);
  EXPECT_GT(sem_mask, sem_all - 3.0);
  EXPECT_LT(sem_random, sem_mask - 10.0);
  EXPECT_GT(*m[column(masked, "baseline all")].value, 50.0);

  const auto& classes = section.tables[2];
  ASSERT_EQ(classes.rows.size(), 10u);
  EXPECT_EQ(classes.rows[0][0].text, "T-shirt/top");
  EXPECT_EQ(classes.rows[0][1].text, "tops");
  EXPECT_EQ(classes.rows[0][2].text, "0 1 (2)");  // its top-4 weights lie in simplices 0 and 1
  EXPECT_EQ(classes.rows[1][3].text, "-");        // the trouser shares nothing

  const std::string text = paragraphs_of(section);
  EXPECT_NE(text.find("more often for SEM than for the baseline"), std::string::npos) << text;
}

}  // namespace

TEST(SemanticCoherenceTest, PlantedGroupStructureBeatsRandomProbeEndToEnd) {
  const OneTorchThread one_thread;
  const fs::path dir = semharness_test::make_temp_dir("coherence");
  const std::string db = (dir / "coherence.db").string();
  Store store(db);
  const std::string without_features = write_planted_grid(store, db, "fashion_mnist");

  const auto sections = coherence_sections(store, db, "planted", 4);
  ASSERT_EQ(sections.size(), 1u);
  expect_planted_structure_found(sections[0]);
  const std::string text = paragraphs_of(sections[0]);
  EXPECT_NE(text.find(without_features + " (no stored features)"), std::string::npos) << text;
  // Runs that stored only the SGD probe are read and retrained with it.
  EXPECT_NE(text.find("linear_probe ("), std::string::npos) << text;
  EXPECT_NE(text.find("for 4 runs"), std::string::npos) << text;  // 2 SEM runs and their 2 baselines
  EXPECT_EQ(text.find("lbfgs_probe ("), std::string::npos) << text;
  fs::remove_all(dir);
}

TEST(SemanticCoherenceTest, PlantedGroupStructureFoundInTheConvergedProbe) {
  // The SEM runs store both probes, the L-BFGS one planted (its raw weights huge on a nearly constant
  // simplex, as a standardised probe's are) and their SGD ones random; the baselines store only the L-BFGS
  // probe. The analysis must take the L-BFGS probe, its validation-best tau_d, rank by the weights on the
  // standardised features, and retrain with L-BFGS.
  const OneTorchThread one_thread;
  const fs::path dir = semharness_test::make_temp_dir("coherence-lbfgs");
  const std::string db = (dir / "coherence.db").string();
  Store store(db);
  write_planted_grid(store, db, "fashion_mnist", StoredProbes::kSgdAndLbfgs);

  const auto sections = coherence_sections(store, db, "planted", 4);
  ASSERT_EQ(sections.size(), 1u);
  expect_planted_structure_found(sections[0]);
  const std::string text = paragraphs_of(sections[0]);
  EXPECT_NE(text.find("lbfgs_probe ("), std::string::npos) << text;
  EXPECT_NE(text.find("for 4 runs"), std::string::npos) << text;
  EXPECT_EQ(text.find("linear_probe ("), std::string::npos) << text;
  fs::remove_all(dir);
}

TEST(SemanticCoherenceTest, SyntheticDataHasNoGroups) {
  const OneTorchThread one_thread;
  const fs::path dir = semharness_test::make_temp_dir("coherence-synthetic");
  const std::string db = (dir / "coherence.db").string();
  Store store(db);
  write_planted_grid(store, db, "synthetic");
  const auto sections = coherence_sections(store, db, "", 4);  // every grid: the one
  ASSERT_EQ(sections.size(), 1u);
  const std::string text = paragraphs_of(sections[0]);
  EXPECT_NE(text.find("no semantic groups"), std::string::npos) << text;
  const auto& sharing = sections[0].tables.at(0);
  const auto& header = sharing.header;
  const size_t within = std::find(header.begin(), header.end(), "SEM within-group %") - header.begin();
  ASSERT_LT(within, header.size());
  EXPECT_EQ(sharing.rows.at(0)[within].text, "-");
  EXPECT_FALSE(sharing.rows.at(0)[within].value);
  // The sharing itself is still counted, and the per-class table names classes by label.
  const size_t shared = std::find(header.begin(), header.end(), "SEM shared features") - header.begin();
  EXPECT_GT(*sharing.rows.at(0)[shared].value, 0.0);
  EXPECT_EQ(sections[0].tables.at(2).rows.at(3)[0].text, "3");
  fs::remove_all(dir);
}

TEST(SemanticCoherenceTest, GridWithoutSemRunsHasNoSection) {
  const fs::path dir = semharness_test::make_temp_dir("coherence-empty");
  const std::string db = (dir / "coherence.db").string();
  Store store(db);
  Grid grid;
  grid.name = "baseline_only";
  grid.file = "baseline_only.ini";
  grid.seeds = {0};
  grid.runs.push_back(run_config("fashion_mnist", "off", 0));
  store.register_runs(grid);
  EXPECT_TRUE(coherence_sections(store, db, "baseline_only").empty());
  fs::remove_all(dir);
}
