#include "harness/store/merge.h"

#include "harness/store/artifact_paths.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "harness/config/errors.h"
#include "harness/results/vocabulary.h"

namespace semharness {

namespace {

namespace fs = std::filesystem;

constexpr const char* kShardSchema = "shard";

// Columns of a run's life cycle: a run registered from a shard's unfinished row starts afresh in main.
const std::set<std::string> kLifecycleColumns = {"status", "started_at",   "finished_at", "error",
                                                 "worker", "heartbeat_at", "attempts",    "resumed_from_epoch"};

// The columns of `table` that both main and the shard have, in main's order (a shard written by another
// version may have more or fewer).
std::vector<std::string> shared_columns(SQLite::Database& db, const std::string& table) {
  auto columns = [&](const std::string& schema) {
    std::vector<std::string> names;
    SQLite::Statement info(db, "PRAGMA " + schema + ".table_info(" + sql_identifier(table) + ")");
    while (info.executeStep()) names.push_back(info.getColumn("name").getString());
    return names;
  };
  const std::vector<std::string> shard = columns(kShardSchema);
  const std::set<std::string> in_shard(shard.begin(), shard.end());
  std::vector<std::string> shared;
  for (const std::string& name : columns("main")) {
    if (in_shard.count(name)) shared.push_back(name);
  }
  return shared;
}

std::string column_list(const std::vector<std::string>& columns) {
  std::string list;
  for (const std::string& column : columns) list += (list.empty() ? "" : ", ") + sql_identifier(column);
  return list;
}

// ATTACHes the shard to main's connection for the lifetime of the object. ATTACH and DETACH cannot run inside
// a transaction, and DETACH needs every statement that read the shard finalized first.
class Attached {
 public:
  Attached(SQLite::Database& db, const std::string& path) : db_(db) {
    SQLite::Statement attach(db_, std::string("ATTACH DATABASE ? AS ") + kShardSchema);
    attach.bind(1, path);
    attach.exec();
  }
  ~Attached() {
    try {
      db_.exec(std::string("DETACH DATABASE ") + kShardSchema);
    } catch (const SQLite::Exception&) {
      // Nothing sensible to do in a destructor; the connection stays usable with the shard attached.
    }
  }
  Attached(const Attached&) = delete;
  Attached& operator=(const Attached&) = delete;

 private:
  SQLite::Database& db_;
};

struct ShardRun {
  std::string run_id, status;
};

MergeCounts fold_attached(SQLite::Database& db, std::vector<std::string>& merged_run_ids) {
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);

  std::vector<ShardRun> shard_runs;
  {
    SQLite::Statement query(db, std::string("SELECT run_id, status FROM ") + kShardSchema + ".runs ORDER BY rowid");
    while (query.executeStep()) shard_runs.push_back({query.getColumn(0).getString(), query.getColumn(1).getString()});
  }

  const std::vector<std::string> run_columns = shared_columns(db, "runs");
  std::vector<std::string> register_columns;
  for (const std::string& column : run_columns) {
    if (!kLifecycleColumns.count(column)) register_columns.push_back(column);
  }
  const std::string shard_runs_table = std::string(kShardSchema) + ".runs";

  SQLite::Statement main_run(db, "SELECT rowid, status FROM main.runs WHERE run_id = ?");
  SQLite::Statement delete_run(db, "DELETE FROM main.runs WHERE run_id = ?");
  // The old rowid is kept (NULL when main lacked the run) so that the runs keep their registration order.
  SQLite::Statement copy_run(db, "INSERT INTO main.runs(rowid, " + column_list(run_columns) + ") SELECT ?, " +
                                     column_list(run_columns) + " FROM " + shard_runs_table + " WHERE run_id = ?");
  SQLite::Statement register_run(db, "INSERT INTO main.runs(status, " + column_list(register_columns) + ") SELECT ?, " +
                                         column_list(register_columns) + " FROM " + shard_runs_table +
                                         " WHERE run_id = ?");
  struct ChildTable {
    SQLite::Statement remove, copy;
  };
  std::vector<ChildTable> children;
  for (const char* table : {"metrics", "results", "timings", "provenance", "profile"}) {
    const std::vector<std::string> shared = shared_columns(db, table);
    if (shared.empty()) continue;  // a shard from before the table existed
    const std::string columns = column_list(shared);
    children.push_back(
        {SQLite::Statement(db, std::string("DELETE FROM main.") + table + " WHERE run_id = ?"),
         SQLite::Statement(db, std::string("INSERT INTO main.") + table + "(" + columns + ") SELECT " + columns +
                                   " FROM " + kShardSchema + "." + table + " WHERE run_id = ? ORDER BY rowid")});
  }

  MergeCounts counts;
  for (const ShardRun& run : shard_runs) {
    main_run.reset();
    main_run.bind(1, run.run_id);
    std::optional<int64_t> main_rowid;
    std::string main_status;
    if (main_run.executeStep()) {
      main_rowid = main_run.getColumn(0).getInt64();
      main_status = main_run.getColumn(1).getString();
    }
    main_run.reset();

    if (!is_done_status(run.status)) {
      ++counts.unfinished;
      if (!main_rowid) {
        register_run.reset();
        register_run.bind(1, std::string(text(RunStatus::Pending)));
        register_run.bind(2, run.run_id);
        register_run.exec();
      }
      continue;
    }
    if (is_done_status(main_status)) {
      ++counts.already_present;
      continue;
    }
    delete_run.reset();
    delete_run.bind(1, run.run_id);
    delete_run.exec();
    copy_run.reset();
    if (main_rowid) {
      copy_run.bind(1, *main_rowid);
    } else {
      copy_run.bind(1);
    }
    copy_run.bind(2, run.run_id);
    copy_run.exec();
    for (ChildTable& child : children) {
      child.remove.reset();
      child.remove.bind(1, run.run_id);
      child.remove.exec();
      child.copy.reset();
      child.copy.bind(1, run.run_id);
      child.copy.exec();
    }
    ++counts.merged;
    merged_run_ids.push_back(run.run_id);
  }
  transaction.commit();
  return counts;
}

}  // namespace

void check_shard(const std::string& shard_path, const std::string& main_path) {
  std::error_code error;
  if (!fs::exists(shard_path, error)) throw InputError(shard_path + ": no such shard database");
  if (fs::equivalent(shard_path, main_path, error)) {
    throw InputError(shard_path + ": is the main database itself (a shard cannot be merged into itself)");
  }
  // Validates the file like any database semharness opens (and adds the columns a shard of an older version
  // lacks); throws InputError naming it otherwise, leaving it untouched.
  Store shard(shard_path);
}

MergeCounts merge_shard(Store& main, const std::string& shard_path) {
  check_shard(shard_path, main.path());
  try {
    std::vector<std::string> merged_run_ids;
    MergeCounts counts;
    {
      Attached attached(main.database(), shard_path);
      counts = fold_attached(main.database(), merged_run_ids);
    }
    // After the commit: a merge killed here leaves runs without features (the analyses skip them, a second
    // merge does not copy them again), never features without their run.
    for (const std::string& run_id : merged_run_ids)
      counts.artifacts += copy_run_artifacts(shard_path, main.path(), run_id);
    return counts;
  } catch (const SQLite::Exception& e) {
    throw std::runtime_error(shard_path + ": cannot merge into " + main.path() + " (" + e.what() + ")");
  }
}

}  // namespace semharness
