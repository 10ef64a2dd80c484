#include "harness/store/store.h"

#include <sqlite3.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>

#include "harness/config/errors.h"

namespace semharness {

namespace {

// runs.status as stored.
void bind_status(SQLite::Statement& statement, int index, RunStatus status) {
  statement.bind(index, std::string(text(status)));
}

namespace fs = std::filesystem;

constexpr const char* kSchema = "semharness/1";
constexpr int kBusyTimeoutMs = 10000;

// Fixed columns of the runs table; the config columns sit between seed and created_at.
constexpr const char* kRunsLeadingColumns =
    "run_id TEXT PRIMARY KEY, cell_id TEXT, grid TEXT, status TEXT, seed INTEGER";
constexpr const char* kRunsTrailingColumns = "created_at TEXT, started_at TEXT, finished_at TEXT, error TEXT";
// Columns added after the first schema; a database made before them gets them on open.
const std::vector<std::pair<std::string, std::string>> kRunsLaterColumns = {
    {"worker", "TEXT"},                 // host:pid of the process running it
    {"heartbeat_at", "TEXT"},           // refreshed while it runs
    {"attempts", "INTEGER DEFAULT 0"},  // claims so far
    {"resumed_from_epoch", "INTEGER"},  // the checkpoint epoch its last attempt started from
};

// Benchmark columns of timings, added to databases made before `semharness bench` existed.
const std::vector<std::pair<std::string, std::string>> kTimingsLaterColumns = {{"params", "TEXT"},
                                                                               {"items_per_second", "REAL"},
                                                                               {"bytes_per_second", "REAL"},
                                                                               {"session", "TEXT"},
                                                                               {"recorded_at", "TEXT"}};

InputError cannot_open(const std::string& path, const std::string& reason) {
  return InputError(path + ": cannot open database for writing (" + reason + ")");
}

enum class FileState { Missing, Empty, SQLite };

// Looks at an existing file without changing it: missing, empty (treated as new) or an SQLite database.
FileState inspect_file(const std::string& path) {
  std::error_code error;
  fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) return FileState::Missing;
  if (error) throw cannot_open(path, error.message());
  if (status.type() == fs::file_type::directory) throw cannot_open(path, "is a directory");

  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw cannot_open(path, std::strerror(errno));
  static const char kHeader[16] = "SQLite format 3";  // the 16th byte is the terminating '\0'
  char header[16];
  size_t read = std::fread(header, 1, sizeof header, file);
  std::fclose(file);
  if (read == 0) return FileState::Empty;
  if (read < sizeof header || std::memcmp(header, kHeader, sizeof header) != 0) {
    throw InputError(path + ": not an SQLite database");
  }
  return FileState::SQLite;
}

// Reads (never writes) the schema of an existing database: it must have no tables, or a meta table naming
// our schema.
void check_schema(SQLite::Database& db, const std::string& path) {
  try {
    SQLite::Statement tables(
        db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
    bool any_table = false, has_meta = false;
    while (tables.executeStep()) {
      any_table = true;
      if (tables.getColumn(0).getString() == "meta") has_meta = true;
    }
    if (!any_table) return;
    bool ours = false;
    if (has_meta) {
      try {
        SQLite::Statement schema(db, "SELECT value FROM meta WHERE key = 'schema'");
        ours = schema.executeStep() && schema.getColumn(0).getString() == kSchema;
      } catch (const SQLite::Exception&) {
        ours = false;  // a meta table with other columns
      }
    }
    if (!ours) throw InputError(path + ": holds tables of another schema (expected " + kSchema + ")");
  } catch (const SQLite::Exception& e) {
    int code = e.getErrorCode();
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) throw InputError(path + ": not an SQLite database");
    throw cannot_open(path, e.what());
  }
}

std::set<std::string> table_columns(SQLite::Database& db, const std::string& table) {
  std::set<std::string> columns;
  SQLite::Statement info(db, "PRAGMA table_info(" + sql_identifier(table) + ")");
  while (info.executeStep()) columns.insert(info.getColumn("name").getString());
  return columns;
}

// Returns the journal mode now in effect, which stays the old one when WAL cannot be enabled.
std::string journal_mode_wal(SQLite::Database& db) {
  SQLite::Statement pragma(db, "PRAGMA journal_mode = WAL");
  return pragma.executeStep() ? pragma.getColumn(0).getString() : "";
}

void bind_optional_text(SQLite::Statement& statement, int index, const std::string& text) {
  if (text.empty()) {
    statement.bind(index);
  } else {
    statement.bind(index, text);
  }
}

RunRecord read_run(SQLite::Statement& row) {
  RunRecord record;
  record.run_id = row.getColumn("run_id").getText();
  record.cell_id = row.getColumn("cell_id").getText();
  record.grid = row.getColumn("grid").getText();
  record.status = row.getColumn("status").getText();
  record.error = row.getColumn("error").getText();
  record.created_at = row.getColumn("created_at").getText();
  record.started_at = row.getColumn("started_at").getText();
  record.finished_at = row.getColumn("finished_at").getText();
  record.seed = row.getColumn("seed").getInt64();
  record.worker = row.getColumn("worker").getText();
  record.heartbeat_at = row.getColumn("heartbeat_at").getText();
  record.attempts = row.getColumn("attempts").getInt64();
  if (!row.getColumn("resumed_from_epoch").isNull())
    record.resumed_from_epoch = row.getColumn("resumed_from_epoch").getInt64();
  for (const KeySpec& key : config_keys()) {
    record.config[key.name] = row.getColumn(column_name(key.name).c_str()).getText();
  }
  return record;
}

// Throws when an UPDATE of the runs table matched no row: the run was never registered.
void require_updated(int changes, const std::string& run_id, const std::string& path) {
  if (changes == 0) throw std::runtime_error(path + ": run " + run_id + " is not registered");
}

}  // namespace

std::string sql_identifier(const std::string& name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

bool is_done_status(const std::string& status) {
  const auto parsed = parse_run_status(status);
  return parsed && is_done(*parsed);
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

Store::Store(const std::string& path) : path_(path) {
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    fs::create_directories(parent, error);
    if (error) throw cannot_open(path, error.message());
  }
  FileState state = inspect_file(path);

  try {
    db_ = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, kBusyTimeoutMs);
  } catch (const SQLite::Exception& e) {
    throw cannot_open(path, e.what());
  }
  // SQLite falls back to read-only when the file is not writable instead of failing the open. Checked before
  // any read, which would leave -wal and -shm files next to a WAL database.
  if (sqlite3_db_readonly(db_->getHandle(), "main") == 1) throw cannot_open(path, "file is read-only");
  if (state == FileState::SQLite) check_schema(*db_, path);

  try {
    if (journal_mode_wal(*db_) != "wal") throw cannot_open(path, "cannot switch to WAL journal mode");
    db_->exec("PRAGMA foreign_keys = OFF");

    SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    db_->exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)");
    SQLite::Statement schema(*db_, "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', ?)");
    schema.bind(1, kSchema);
    schema.exec();

    std::string config_columns;
    for (const KeySpec& key : config_keys()) {
      config_columns += sql_identifier(column_name(key.name)) + " TEXT, ";
    }
    db_->exec(std::string("CREATE TABLE IF NOT EXISTS runs(") + kRunsLeadingColumns + ", " + config_columns +
              kRunsTrailingColumns + ")");
    std::set<std::string> existing = table_columns(*db_, "runs");
    for (const KeySpec& key : config_keys()) {
      std::string column = column_name(key.name);
      if (existing.count(column) == 0) {
        db_->exec("ALTER TABLE runs ADD COLUMN " + sql_identifier(column) + " TEXT");
      }
    }
    for (const auto& [column, type] : kRunsLaterColumns) {
      if (existing.count(column) == 0) db_->exec("ALTER TABLE runs ADD COLUMN " + column + " " + type);
    }
    db_->exec("CREATE TABLE IF NOT EXISTS provenance(run_id TEXT, key TEXT, value TEXT)");
    db_->exec("CREATE INDEX IF NOT EXISTS provenance_run_id ON provenance(run_id)");

    db_->exec("CREATE TABLE IF NOT EXISTS metrics(run_id TEXT, epoch INTEGER, name TEXT, value REAL)");
    db_->exec(
        "CREATE TABLE IF NOT EXISTS results(run_id TEXT, protocol TEXT, feature TEXT, tau_d REAL NULL, "
        "split TEXT, metric TEXT, value REAL)");
    db_->exec(
        "CREATE TABLE IF NOT EXISTS timings(run_id TEXT NULL, name TEXT, device TEXT, count INTEGER, "
        "total_ms REAL, mean_ms REAL)");
    const std::set<std::string> timing_columns = table_columns(*db_, "timings");
    for (const auto& [column, type] : kTimingsLaterColumns) {
      if (timing_columns.count(column) == 0) db_->exec("ALTER TABLE timings ADD COLUMN " + column + " " + type);
    }
    db_->exec(
        "CREATE TABLE IF NOT EXISTS profile(run_id TEXT, device TEXT, kind TEXT, part TEXT, name TEXT, "
        "shapes TEXT, steps INTEGER, calls INTEGER, self_ms REAL, total_ms REAL, step_share REAL)");
    db_->exec("CREATE INDEX IF NOT EXISTS profile_run_id ON profile(run_id)");
    db_->exec("CREATE INDEX IF NOT EXISTS metrics_run_id ON metrics(run_id)");
    db_->exec("CREATE INDEX IF NOT EXISTS results_run_id ON results(run_id)");
    db_->exec("CREATE INDEX IF NOT EXISTS runs_cell_id ON runs(cell_id)");
    transaction.commit();
  } catch (const SQLite::Exception& e) {
    throw cannot_open(path, e.what());
  }
}

Store::~Store() = default;

int Store::register_runs(const Grid& grid) {
  std::string columns = "run_id, cell_id, grid, status, seed, created_at";
  std::string placeholders = "?, ?, ?, ?, ?, ?";
  for (const KeySpec& key : config_keys()) {
    columns += ", " + sql_identifier(column_name(key.name));
    placeholders += ", ?";
  }
  SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement insert(*db_, "INSERT OR IGNORE INTO runs(" + columns + ") VALUES(" + placeholders + ")");
  const std::string created_at = utc_now();
  int inserted = 0;
  for (const RunConfig& run : grid.runs) {
    insert.reset();
    insert.clearBindings();
    insert.bind(1, run.run_id());
    insert.bind(2, run.cell_id());
    insert.bind(3, grid.name);
    bind_status(insert, 4, RunStatus::Pending);
    insert.bind(5, run.seed);
    insert.bind(6, created_at);
    int index = 7;
    for (const KeySpec& key : config_keys()) {
      auto value = run.values.find(key.name);
      if (value != run.values.end()) insert.bind(index, value->second);
      ++index;
    }
    inserted += insert.exec();
  }
  transaction.commit();
  return inserted;
}

std::string Store::status(const std::string& run_id) {
  SQLite::Statement query(*db_, "SELECT status FROM runs WHERE run_id = ?");
  query.bind(1, run_id);
  return query.executeStep() ? query.getColumn(0).getText() : "";
}

void Store::mark_running(const std::string& run_id) {
  SQLite::Statement update(*db_, "UPDATE runs SET status = ?, started_at = ?, error = NULL WHERE run_id = ?");
  bind_status(update, 1, RunStatus::Running);
  update.bind(2, utc_now());
  update.bind(3, run_id);
  require_updated(update.exec(), run_id, path_);
}

std::optional<std::string> Store::claim_next(const std::vector<std::string>& run_ids, const std::string& worker,
                                             const std::function<bool(const RunRecord&)>& is_abandoned,
                                             const std::set<std::string>& skip) {
  // BEGIN IMMEDIATE takes the write lock before reading, so two processes cannot pick the same run.
  SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement query(*db_, "SELECT * FROM runs WHERE run_id = ?");
  std::optional<std::string> chosen;
  for (const std::string& run_id : run_ids) {
    if (skip.count(run_id)) continue;
    query.reset();
    query.bind(1, run_id);
    if (!query.executeStep()) continue;
    const RunRecord record = read_run(query);
    const auto status = parse_run_status(record.status);
    if (status == RunStatus::Pending || status == RunStatus::Failed ||
        (status == RunStatus::Running && is_abandoned(record))) {
      chosen = run_id;
      break;
    }
  }
  if (chosen) {
    SQLite::Statement update(*db_,
                             "UPDATE runs SET status = ?, worker = ?, started_at = ?, heartbeat_at = ?, "
                             "error = NULL, attempts = COALESCE(attempts, 0) + 1 WHERE run_id = ?");
    const std::string now = utc_now();
    bind_status(update, 1, RunStatus::Running);
    update.bind(2, worker);
    update.bind(3, now);
    update.bind(4, now);
    update.bind(5, *chosen);
    update.exec();
  }
  transaction.commit();
  return chosen;
}

HeartbeatConnection::HeartbeatConnection(const std::string& path)
    : db_(std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE, kBusyTimeoutMs)) {}

HeartbeatConnection::~HeartbeatConnection() = default;

void HeartbeatConnection::beat(const std::string& run_id) {
  SQLite::Statement update(*db_, "UPDATE runs SET heartbeat_at = ? WHERE run_id = ? AND status = ?");
  update.bind(1, utc_now());
  update.bind(2, run_id);
  bind_status(update, 3, RunStatus::Running);
  update.exec();
}

void Store::set_provenance(const std::string& run_id, const std::vector<std::pair<std::string, std::string>>& entries) {
  SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement remove(*db_, "DELETE FROM provenance WHERE run_id = ? AND key = ?");
  SQLite::Statement insert(*db_, "INSERT INTO provenance(run_id, key, value) VALUES(?, ?, ?)");
  for (const auto& [key, value] : entries) {
    remove.reset();
    remove.bind(1, run_id);
    remove.bind(2, key);
    remove.exec();
    insert.reset();
    insert.bind(1, run_id);
    insert.bind(2, key);
    insert.bind(3, value);
    insert.exec();
  }
  transaction.commit();
}

std::map<std::string, std::string> Store::provenance(const std::string& run_id) {
  SQLite::Statement query(*db_, "SELECT key, value FROM provenance WHERE run_id = ? ORDER BY rowid");
  query.bind(1, run_id);
  std::map<std::string, std::string> entries;
  while (query.executeStep()) entries[query.getColumn(0).getText()] = query.getColumn(1).getText();
  return entries;
}

void Store::finish_run(const RunOutcome& outcome) {
  const std::string& run_id = outcome.run_id;
  SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);

  SQLite::Statement update(
      *db_, "UPDATE runs SET status = ?, error = ?, finished_at = ?, resumed_from_epoch = ? WHERE run_id = ?");
  update.bind(1, outcome.status);
  bind_optional_text(update, 2, outcome.error);
  update.bind(3, utc_now());
  if (outcome.resumed_from_epoch) {
    update.bind(4, *outcome.resumed_from_epoch);
  } else {
    update.bind(4);
  }
  update.bind(5, run_id);
  require_updated(update.exec(), run_id, path_);

  for (const char* table : {"metrics", "results", "timings", "profile"}) {
    SQLite::Statement remove(*db_, std::string("DELETE FROM ") + table + " WHERE run_id = ?");
    remove.bind(1, run_id);
    remove.exec();
  }

  SQLite::Statement metric(*db_, "INSERT INTO metrics(run_id, epoch, name, value) VALUES(?, ?, ?, ?)");
  for (const MetricRow& row : outcome.metrics) {
    metric.reset();
    metric.bind(1, run_id);
    metric.bind(2, row.epoch);
    metric.bind(3, row.name);
    metric.bind(4, row.value);
    metric.exec();
  }

  SQLite::Statement result(*db_,
                           "INSERT INTO results(run_id, protocol, feature, tau_d, split, metric, value) "
                           "VALUES(?, ?, ?, ?, ?, ?, ?)");
  for (const ResultRow& row : outcome.results) {
    result.reset();
    result.bind(1, run_id);
    result.bind(2, row.protocol);
    result.bind(3, row.feature);
    if (row.tau_d) {
      result.bind(4, *row.tau_d);
    } else {
      result.bind(4);
    }
    result.bind(5, row.split);
    result.bind(6, row.metric);
    result.bind(7, row.value);
    result.exec();
  }

  SQLite::Statement timing(*db_,
                           "INSERT INTO timings(run_id, name, device, count, total_ms, mean_ms) "
                           "VALUES(?, ?, ?, ?, ?, ?)");
  for (const TimingRow& row : outcome.timings) {
    timing.reset();
    timing.bind(1, run_id);
    timing.bind(2, row.name);
    timing.bind(3, row.device);
    timing.bind(4, row.count);
    timing.bind(5, row.total_ms);
    timing.bind(6, row.total_ms / static_cast<double>(std::max<int64_t>(row.count, 1)));
    timing.exec();
  }

  SQLite::Statement profile(*db_,
                            "INSERT INTO profile(run_id, device, kind, part, name, shapes, steps, calls, self_ms, "
                            "total_ms, step_share) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const ProfileRow& row : outcome.profile) {
    profile.reset();
    profile.bind(1, run_id);
    profile.bind(2, row.device);
    profile.bind(3, row.kind);
    profile.bind(4, row.part);
    profile.bind(5, row.name);
    profile.bind(6, row.shapes);
    profile.bind(7, row.steps);
    profile.bind(8, row.calls);
    profile.bind(9, row.self_ms);
    profile.bind(10, row.total_ms);
    profile.bind(11, row.step_share);
    profile.exec();
  }

  transaction.commit();
}

void Store::add_benchmark_rows(const std::string& session, const std::vector<BenchmarkRow>& rows) {
  SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement insert(
      *db_,
      "INSERT INTO timings(run_id, name, device, count, total_ms, mean_ms, params, items_per_second, "
      "bytes_per_second, session, recorded_at) VALUES(NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const std::string now = utc_now();
  for (const BenchmarkRow& row : rows) {
    insert.reset();
    insert.bind(1, row.name);
    insert.bind(2, row.device);
    insert.bind(3, row.count);
    insert.bind(4, row.total_ms);
    insert.bind(5, row.total_ms / static_cast<double>(std::max<int64_t>(row.count, 1)));
    insert.bind(6, row.params);
    if (row.items_per_second)
      insert.bind(7, *row.items_per_second);
    else
      insert.bind(7);
    if (row.bytes_per_second)
      insert.bind(8, *row.bytes_per_second);
    else
      insert.bind(8);
    insert.bind(9, session);
    insert.bind(10, now);
    insert.exec();
  }
  transaction.commit();
}

void Store::mark_failed(const std::string& run_id, const std::string& error) {
  SQLite::Statement update(*db_, "UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE run_id = ?");
  bind_status(update, 1, RunStatus::Failed);
  update.bind(2, error);
  update.bind(3, utc_now());
  update.bind(4, run_id);
  require_updated(update.exec(), run_id, path_);
}

std::vector<RunRecord> Store::runs(const std::string& grid) {
  std::string sql = "SELECT * FROM runs";
  if (!grid.empty()) sql += " WHERE grid = ?";
  sql += " ORDER BY rowid";
  SQLite::Statement query(*db_, sql);
  if (!grid.empty()) query.bind(1, grid);
  std::vector<RunRecord> records;
  while (query.executeStep()) records.push_back(read_run(query));
  return records;
}

std::vector<ResultRow> Store::results(const std::string& run_id) {
  std::string sql = "SELECT run_id, protocol, feature, tau_d, split, metric, value FROM results";
  if (!run_id.empty()) sql += " WHERE run_id = ?";
  sql += " ORDER BY rowid";
  SQLite::Statement query(*db_, sql);
  if (!run_id.empty()) query.bind(1, run_id);
  std::vector<ResultRow> rows;
  while (query.executeStep()) {
    ResultRow row;
    row.run_id = query.getColumn(0).getText();
    row.protocol = query.getColumn(1).getText();
    row.feature = query.getColumn(2).getText();
    if (!query.getColumn(3).isNull()) row.tau_d = query.getColumn(3).getDouble();
    row.split = query.getColumn(4).getText();
    row.metric = query.getColumn(5).getText();
    row.value = query.getColumn(6).getDouble();
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<TimingRow> Store::timings(const std::string& run_id) {
  SQLite::Statement query(*db_, "SELECT name, device, count, total_ms FROM timings WHERE run_id = ? ORDER BY rowid");
  query.bind(1, run_id);
  std::vector<TimingRow> rows;
  while (query.executeStep()) {
    rows.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(), query.getColumn(2).getInt64(),
                    query.getColumn(3).getDouble()});
  }
  return rows;
}

std::vector<TimingTotal> Store::timing_totals(const std::string& grid) {
  SQLite::Statement query(*db_,
                          "SELECT r.grid, t.name, t.device, COUNT(DISTINCT t.run_id), SUM(t.count), SUM(t.total_ms) "
                          "FROM timings t JOIN runs r ON r.run_id = t.run_id WHERE (? = '' OR r.grid = ?) "
                          "GROUP BY r.grid, t.name, t.device");
  query.bind(1, grid);
  query.bind(2, grid);
  std::vector<TimingTotal> totals;
  while (query.executeStep()) {
    totals.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(), query.getColumn(2).getString(),
                      query.getColumn(3).getInt64(), query.getColumn(4).getInt64(), query.getColumn(5).getDouble()});
  }
  return totals;
}

std::vector<BenchmarkRow> Store::latest_benchmarks() {
  SQLite::Statement query(
      *db_,
      "SELECT name, IFNULL(params, ''), device, count, total_ms, items_per_second, bytes_per_second "
      "FROM timings WHERE rowid IN (SELECT MAX(rowid) FROM timings WHERE run_id IS NULL "
      "GROUP BY name, IFNULL(params, ''), device) ORDER BY name, rowid");
  std::vector<BenchmarkRow> rows;
  while (query.executeStep()) {
    BenchmarkRow row;
    row.name = query.getColumn(0).getString();
    row.params = query.getColumn(1).getString();
    row.device = query.getColumn(2).getString();
    row.count = query.getColumn(3).getInt64();
    row.total_ms = query.getColumn(4).getDouble();
    if (!query.getColumn(5).isNull()) row.items_per_second = query.getColumn(5).getDouble();
    if (!query.getColumn(6).isNull()) row.bytes_per_second = query.getColumn(6).getDouble();
    rows.push_back(row);
  }
  return rows;
}

std::vector<ProfileRow> Store::profile(const std::string& grid) {
  SQLite::Statement query(*db_,
                          "SELECT p.run_id, p.device, p.kind, p.part, p.name, p.shapes, p.steps, p.calls, p.self_ms, "
                          "p.total_ms, p.step_share FROM profile p JOIN runs r ON r.run_id = p.run_id "
                          "WHERE (? = '' OR r.grid = ?) ORDER BY r.rowid, p.rowid");
  query.bind(1, grid);
  query.bind(2, grid);
  std::vector<ProfileRow> rows;
  while (query.executeStep()) {
    rows.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(), query.getColumn(2).getString(),
                    query.getColumn(3).getString(), query.getColumn(4).getString(), query.getColumn(5).getString(),
                    query.getColumn(6).getInt64(), query.getColumn(7).getInt64(), query.getColumn(8).getDouble(),
                    query.getColumn(9).getDouble(), query.getColumn(10).getDouble()});
  }
  return rows;
}

std::vector<MetricRow> Store::metrics(const std::string& run_id) {
  SQLite::Statement query(*db_, "SELECT epoch, name, value FROM metrics WHERE run_id = ? ORDER BY epoch, rowid");
  query.bind(1, run_id);
  std::vector<MetricRow> rows;
  while (query.executeStep()) {
    rows.push_back({query.getColumn(0).getInt64(), query.getColumn(1).getText(), query.getColumn(2).getDouble()});
  }
  return rows;
}

}  // namespace semharness
