#pragma once
// The SQLite store: one database holds the runs of any number of grids, their training curves, probe
// results and phase timings. Schema (documented in README.md):
//   meta(key TEXT PRIMARY KEY, value TEXT)                          -- key 'schema' = 'semharness/1'
//   runs(run_id TEXT PRIMARY KEY, cell_id TEXT, grid TEXT, status TEXT, seed INTEGER,
//        <one column per config key, named column_name(key)>, created_at TEXT, started_at TEXT,
//        finished_at TEXT, error TEXT, worker TEXT, heartbeat_at TEXT, attempts INTEGER,
//        resumed_from_epoch INTEGER)
//   provenance(run_id TEXT, key TEXT, value TEXT)
//   metrics(run_id TEXT, epoch INTEGER, name TEXT, value REAL)
//   results(run_id TEXT, protocol TEXT, feature TEXT, tau_d REAL NULL, split TEXT, metric TEXT, value REAL)
//   timings(run_id TEXT NULL, name TEXT, device TEXT, count INTEGER, total_ms REAL, mean_ms REAL,
//           params TEXT, items_per_second REAL, bytes_per_second REAL, session TEXT, recorded_at TEXT)
//     -- a run's phases (run_id set; the last five NULL) or a benchmark's result (`semharness bench`: run_id
//        NULL, params like "B=256 L=5000 V=13", session = one bench invocation)
//   profile(run_id TEXT, device TEXT, kind TEXT, part TEXT, name TEXT, shapes TEXT, steps INTEGER,
//           calls INTEGER, self_ms REAL, total_ms REAL, step_share REAL)
//     -- the profiled steps of a run with profile.steps > 0 (records.h ProfileRow)
// The texts of runs.status and of results.protocol, feature, split and metric: harness/results/vocabulary.h.
// Torch-free.
#include <cstdint>
#include <map>
#include <memory>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "harness/config/grid.h"
#include "harness/results/vocabulary.h"
#include "harness/store/npy.h"
#include "harness/store/records.h"

namespace SQLite {
class Database;
}

namespace semharness {

// name as an SQL identifier: double-quoted, inner quotes doubled.
std::string sql_identifier(const std::string& name);
// The stored text of a finished or diverged run (is_done(RunStatus)): a run no worker takes up again.
bool is_done_status(const std::string& status);

// Now, in UTC, as the store writes times: "%Y-%m-%dT%H:%M:%SZ".
std::string utc_now();

struct MergeCounts;  // harness/store/merge.h

class Store {
 public:
  // Opens or creates the database at path (creating parent folders). Throws InputError naming the path when
  // it cannot be opened for writing, is not an SQLite database, or holds tables of another schema; the file
  // is left untouched in those cases. Adds columns for config keys that are new since the file was made.
  explicit Store(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }

  // Inserts a pending row for each run of the grid that is not in the database yet; returns how many.
  int register_runs(const Grid& grid);
  // Status of a run, or "" when it is not in the database.
  std::string status(const std::string& run_id);
  void mark_running(const std::string& run_id);
  // Atomically (BEGIN IMMEDIATE) takes the first of run_ids, in order, that is pending, failed, or running
  // but abandoned by its worker (is_abandoned decides, e.g. from the heartbeat), skipping `skip`; marks it
  // running by `worker`, counts the attempt and returns it. nullopt when none is left.
  std::optional<std::string> claim_next(const std::vector<std::string>& run_ids, const std::string& worker,
                                        const std::function<bool(const RunRecord&)>& is_abandoned,
                                        const std::set<std::string>& skip = {});
  // Sets provenance entries of a run (key -> value), replacing entries of the same keys.
  void set_provenance(const std::string& run_id, const std::vector<std::pair<std::string, std::string>>& entries);
  std::map<std::string, std::string> provenance(const std::string& run_id);
  // Writes metrics, results and timings and sets status and finished_at, all in one transaction. Rows a
  // previous attempt of the same run left are replaced.
  void finish_run(const RunOutcome& outcome);
  void mark_failed(const std::string& run_id, const std::string& error);
  // Stores benchmark results as timings rows with run_id NULL, all under one session name, in one transaction.
  void add_benchmark_rows(const std::string& session, const std::vector<BenchmarkRow>& rows);

  std::vector<RunRecord> runs(const std::string& grid = "");       // all grids when empty
  std::vector<ResultRow> results(const std::string& run_id = "");  // all runs when empty
  std::vector<MetricRow> metrics(const std::string& run_id);
  // The profile rows of a grid's runs (all grids when empty), in the runs' order.
  std::vector<ProfileRow> profile(const std::string& grid = "");
  // A run's phase timings.
  std::vector<TimingRow> timings(const std::string& run_id);
  // Each grid's timings (all grids when empty) summed per (phase name, device).
  std::vector<TimingTotal> timing_totals(const std::string& grid = "");
  // The newest stored benchmark row of each (name, params, device), by name.
  std::vector<BenchmarkRow> latest_benchmarks();

 private:
  // Merging attaches the shard on this connection and folds it in with SQL.
  friend MergeCounts merge_shard(Store& main, const std::string& shard_path);
  SQLite::Database& database() { return *db_; }

  std::string path_;
  std::unique_ptr<SQLite::Database> db_;
};

// A second connection to an open database that only refreshes heartbeat_at of running runs, for a thread of
// the process that holds the Store. Not a second Store: Store's constructor reads the file's header with
// fopen/fclose, and closing any descriptor of a file drops every POSIX lock the process holds on it, which
// would let another process delete the live WAL.
class HeartbeatConnection {
 public:
  explicit HeartbeatConnection(const std::string& path);
  ~HeartbeatConnection();
  void beat(const std::string& run_id);

 private:
  std::unique_ptr<SQLite::Database> db_;
};

}  // namespace semharness
