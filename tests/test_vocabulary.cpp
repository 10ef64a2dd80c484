// The results vocabulary (harness/results/vocabulary.h) against the texts README "Database schema" documents,
// written out here as literals: they are the independent reference, and a change to one is a schema change.
#include <gtest/gtest.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <filesystem>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/config/grid.h"
#include "harness/config/run_config.h"
#include "harness/results/probe_protocols.h"
#include "harness/results/vocabulary.h"
#include "harness/store/store.h"

namespace semharness_vocabulary_test {
namespace {

using semharness::Feature;
using semharness::RunStatus;
using semharness::Split;

// Every value of an enum round-trips through its text, and the texts are the documented ones, in order.
template <typename E, typename Parse>
void expect_vocabulary(const std::vector<std::pair<E, std::string>>& documented, Parse parse) {
  std::set<std::string> seen;
  for (const auto& [value, stored] : documented) {
    EXPECT_EQ(semharness::text(value), stored);
    const std::optional<E> parsed = parse(stored);
    ASSERT_TRUE(parsed.has_value()) << stored;
    EXPECT_EQ(*parsed, value) << stored;
    EXPECT_TRUE(seen.insert(stored).second) << "text used twice: " << stored;
  }
}

TEST(VocabularyTest, FeaturesAreTheDocumentedTexts) {
  expect_vocabulary<Feature>(
      {{Feature::Backbone, "backbone"}, {Feature::Embedding, "embedding"}, {Feature::Sem, "sem"}},
      semharness::parse_feature);
  ASSERT_EQ(std::size(semharness::kFeatureTexts), 3u);
  EXPECT_EQ(semharness::kFeatureTexts[0].text, "backbone");
  EXPECT_EQ(semharness::kFeatureTexts[1].text, "embedding");
  EXPECT_EQ(semharness::kFeatureTexts[2].text, "sem");
}

TEST(VocabularyTest, SplitsAreTheDocumentedTexts) {
  expect_vocabulary<Split>({{Split::Train, "train"}, {Split::Val, "val"}, {Split::Test, "test"}},
                           semharness::parse_split);
  ASSERT_EQ(std::size(semharness::kSplitTexts), 3u);
}

TEST(VocabularyTest, RunStatusesAreTheDocumentedTextsInLifeCycleOrder) {
  expect_vocabulary<RunStatus>({{RunStatus::Pending, "pending"},
                                {RunStatus::Running, "running"},
                                {RunStatus::Finished, "finished"},
                                {RunStatus::Failed, "failed"},
                                {RunStatus::Diverged, "diverged"}},
                               semharness::parse_run_status);
  // `status` lists the states in the table's order.
  std::vector<std::string_view> order;
  for (const auto& term : semharness::kRunStatusTexts) order.push_back(term.text);
  EXPECT_EQ(order, (std::vector<std::string_view>{"pending", "running", "finished", "failed", "diverged"}));
}

TEST(VocabularyTest, UnknownTextsParseToNothing) {
  for (const std::string_view other :
       {"", "Backbone", "backbone ", "h", "e", "validation", "TEST", "done", "finish", "top1", "linear_probe"}) {
    EXPECT_FALSE(semharness::parse_feature(other).has_value()) << other;
    EXPECT_FALSE(semharness::parse_split(other).has_value()) << other;
    EXPECT_FALSE(semharness::parse_run_status(other).has_value()) << other;
  }
  // A text of one vocabulary is not a word of another.
  EXPECT_FALSE(semharness::parse_split("sem").has_value());
  EXPECT_FALSE(semharness::parse_feature("train").has_value());
  EXPECT_FALSE(semharness::parse_run_status("test").has_value());
}

TEST(VocabularyTest, ParseAndTextWorkAtCompileTime) {
  static_assert(semharness::text(Feature::Sem) == "sem");
  static_assert(semharness::parse_split("val") == Split::Val);
  static_assert(!semharness::parse_run_status("done").has_value());
  static_assert(semharness::is_done(RunStatus::Finished) && semharness::is_done(RunStatus::Diverged));
  static_assert(!semharness::is_done(RunStatus::Pending) && !semharness::is_done(RunStatus::Running) &&
                !semharness::is_done(RunStatus::Failed));
}

TEST(VocabularyTest, DoneStatusesOfTheStore) {
  EXPECT_TRUE(semharness::is_done_status("finished"));
  EXPECT_TRUE(semharness::is_done_status("diverged"));
  for (const char* other : {"pending", "running", "failed", "", "Finished"}) {
    EXPECT_FALSE(semharness::is_done_status(other)) << other;
  }
}

TEST(VocabularyTest, ProtocolsAreTheDocumentedTexts) {
  EXPECT_EQ(semharness::kSgdProbe, "linear_probe");
  EXPECT_EQ(semharness::kLbfgsProbe, "lbfgs_probe");
  EXPECT_EQ(semharness::kLbfgsRawProbe, "lbfgs_probe_raw");
  EXPECT_EQ(semharness::kKnnProtocol, "knn");
  EXPECT_EQ(semharness::kOnlineLinearProtocol, "online_linear");
  // kNN and the online classifier are no linear probes.
  EXPECT_FALSE(semharness::is_linear_probe_protocol(semharness::kKnnProtocol));
  EXPECT_FALSE(semharness::is_linear_probe_protocol(semharness::kOnlineLinearProtocol));
}

TEST(VocabularyTest, MetricsAreTheDocumentedTexts) {
  EXPECT_EQ(semharness::kTop1Metric, "top1");
  EXPECT_EQ(semharness::kLossMetric, "loss");
  EXPECT_EQ(semharness::kWeightL1Metric, "weight_l1");
  EXPECT_EQ(semharness::kProbeLrMetric, "probe_lr");
  EXPECT_EQ(semharness::kProbeWd1Metric, "probe_wd1");
  EXPECT_EQ(semharness::kProbeL2Metric, "probe_l2");
  EXPECT_EQ(semharness::kProbeIterationsMetric, "probe_iterations");
  EXPECT_EQ(semharness::kProbeGradNormMetric, "probe_grad_norm");
  EXPECT_EQ(semharness::kProbeConvergedMetric, "probe_converged");
  EXPECT_EQ(semharness::kTrainLossCurve, "train_loss");
  EXPECT_EQ(semharness::kLrCurve, "lr");
  EXPECT_EQ(semharness::kOnlineTrainTop1Curve, "online_train_top1");
}

// The store writes the texts literally: read back with plain SQL, not through the vocabulary.
TEST(VocabularyTest, StoreWritesTheDocumentedTexts) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("semharness_vocabulary_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db = (dir / "vocabulary.db").string();
  semharness::Grid grid;
  grid.name = "vocabulary";
  grid.file = "vocabulary.ini";
  for (int64_t seed : {0, 1, 2, 3}) {
    semharness::RunConfig config = semharness::RunConfig::defaults();
    config.seed = seed;
    grid.seeds.push_back(seed);
    grid.runs.push_back(config);
  }
  const std::string pending = grid.runs[0].run_id(), running = grid.runs[1].run_id();
  const std::string failed = grid.runs[2].run_id(), finished = grid.runs[3].run_id();
  {
    semharness::Store store(db);
    ASSERT_EQ(store.register_runs(grid), 4);
    store.mark_running(running);
    store.mark_failed(failed, "boom");
    semharness::RunOutcome outcome;
    outcome.run_id = finished;
    outcome.status = std::string(semharness::text(RunStatus::Finished));
    outcome.results.push_back({"", std::string(semharness::kKnnProtocol),
                               std::string(semharness::text(Feature::Backbone)), std::nullopt,
                               std::string(semharness::text(Split::Test)), std::string(semharness::kTop1Metric), 50.0});
    store.finish_run(outcome);
    EXPECT_EQ(store.status(failed), "failed");
  }
  SQLite::Database raw(db, SQLite::OPEN_READONLY);
  const auto status_of = [&](const std::string& run_id) {
    SQLite::Statement query(raw, "SELECT status FROM runs WHERE run_id = ?");
    query.bind(1, run_id);
    return query.executeStep() ? query.getColumn(0).getString() : std::string("<none>");
  };
  EXPECT_EQ(status_of(pending), "pending");
  EXPECT_EQ(status_of(running), "running");
  EXPECT_EQ(status_of(failed), "failed");
  EXPECT_EQ(status_of(finished), "finished");
  SQLite::Statement result(raw, "SELECT protocol, feature, split, metric FROM results");
  ASSERT_TRUE(result.executeStep());
  EXPECT_EQ(result.getColumn(0).getString(), "knn");
  EXPECT_EQ(result.getColumn(1).getString(), "backbone");
  EXPECT_EQ(result.getColumn(2).getString(), "test");
  EXPECT_EQ(result.getColumn(3).getString(), "top1");
  fs::remove_all(dir);
}

// claim_next takes up pending and failed runs, and running ones only when abandoned; it leaves done ones.
TEST(VocabularyTest, ClaimNextReadsTheStatusTexts) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("semharness_vocabulary_claim_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db = (dir / "claim.db").string();
  semharness::Grid grid;
  grid.name = "claim";
  grid.file = "claim.ini";
  for (int64_t seed : {0, 1, 2, 3}) {
    semharness::RunConfig config = semharness::RunConfig::defaults();
    config.seed = seed;
    grid.seeds.push_back(seed);
    grid.runs.push_back(config);
  }
  std::vector<std::string> ids;
  for (const auto& run : grid.runs) ids.push_back(run.run_id());
  semharness::Store store(db);
  store.register_runs(grid);
  semharness::RunOutcome done;
  done.run_id = ids[0];
  done.status = "diverged";
  store.finish_run(done);
  store.mark_failed(ids[1], "boom");
  store.mark_running(ids[2]);
  const auto never = [](const semharness::RunRecord&) { return false; };
  const auto always = [](const semharness::RunRecord&) { return true; };
  EXPECT_EQ(store.claim_next({ids[0], ids[2], ids[1]}, "w:1", never), ids[1]);  // failed
  EXPECT_EQ(store.claim_next({ids[0], ids[2], ids[3]}, "w:1", never), ids[3]);  // pending
  EXPECT_EQ(store.claim_next({ids[0], ids[2]}, "w:1", never), std::nullopt);
  EXPECT_EQ(store.claim_next({ids[0], ids[2]}, "w:1", always), ids[2]);  // running, abandoned
  EXPECT_EQ(store.status(ids[0]), "diverged");
  EXPECT_EQ(store.status(ids[1]), "running");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace semharness_vocabulary_test
