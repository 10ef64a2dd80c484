#include "harness/store/snapshot.h"

#include <sqlite3.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "harness/config/errors.h"

namespace semharness {
namespace {

namespace fs = std::filesystem;

// A file name in the temporary folder, removed with its SQLite side files when the guard goes.
class TemporaryDatabase {
 public:
  TemporaryDatabase() {
    static std::atomic<int> counter{0};
    std::random_device random;
    path_ = fs::temp_directory_path() / ("semharness-snapshot-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter++) + "-" + std::to_string(random()) + ".db");
  }
  ~TemporaryDatabase() {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_.string() + suffix, ignored);
  }
  TemporaryDatabase(const TemporaryDatabase&) = delete;
  TemporaryDatabase& operator=(const TemporaryDatabase&) = delete;
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

// Missing, not a regular file, empty or without SQLite's 16-byte header: InputError naming path. Returns
// whether the header marks a WAL database (file format version bytes 18 and 19 equal to 2).
bool require_sqlite_file(const std::string& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) throw InputError(path + ": no such database");
  if (error) throw InputError(path + ": cannot read (" + error.message() + ")");
  if (status.type() != fs::file_type::regular) throw InputError(path + ": not a database file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read (" + std::strerror(errno) + ")");
  static const char kMagic[16] = "SQLite format 3";  // with its terminating '\0', 16 bytes
  char header[20] = {};
  in.read(header, sizeof header);
  if (in.gcount() == 0) throw InputError(path + ": empty file, not a semharness database");
  if (in.gcount() < static_cast<std::streamsize>(sizeof header) || std::memcmp(header, kMagic, sizeof kMagic) != 0) {
    throw InputError(path + ": not an SQLite database");
  }
  return header[18] == 2 && header[19] == 2;
}

// "file:" URI of a path (RFC 3986 percent-encoding of everything but unreserved characters and '/').
std::string file_uri(const std::string& path) {
  std::string uri = "file:";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  return uri;
}

}  // namespace

std::string cpu_of(const std::map<std::string, std::string>& provenance) {
  const auto model = provenance.find("cpu_model"), capability = provenance.find("cpu_capability");
  if (model == provenance.end() && capability == provenance.end()) return "";
  return (model == provenance.end() ? std::string("?") : model->second) + ", " +
         (capability == provenance.end() ? std::string("?") : capability->second);
}

StoreSnapshot read_store_snapshot(const std::string& path) {
  const bool wal = require_sqlite_file(path);
  TemporaryDatabase copy;
  try {
    // A read-only connection to a WAL database creates its -wal and -shm files and, unable to delete them,
    // leaves them behind. Without a -wal file every commit is in the main file, and a writer that starts now
    // writes to a new -wal (the main file changes only when a checkpoint copies 1000 pages back): read it as
    // immutable, which creates no side files and takes no locks.
    const bool idle_wal = wal && !fs::exists(path + "-wal");
    SQLite::Database source(idle_wal ? file_uri(path) + "?immutable=1" : path,
                            SQLite::OPEN_READONLY | (idle_wal ? SQLite::OPEN_URI : 0), 10000);
    if (source.execAndGet("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'runs')")
            .getInt() != 2) {
      throw InputError(path + ": not a semharness database (no meta and runs tables)");
    }
    source.backup(copy.path().c_str(), SQLite::Database::Save);
  } catch (const SQLite::Exception& e) {
    const int code = e.getErrorCode();
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) throw InputError(path + ": not an SQLite database");
    throw InputError(path + ": cannot read (" + e.what() + ")");
  }
  try {
    Store store(copy.path());
    StoreSnapshot snapshot{store.runs(), store.results(), {}};
    for (const RunRecord& run : snapshot.runs) {
      const std::string cpu = cpu_of(store.provenance(run.run_id));
      if (!cpu.empty()) snapshot.cpu_of_run[run.run_id] = cpu;
    }
    return snapshot;
  } catch (const InputError& e) {
    // Store names the copy; the user knows the original (e.g. "holds tables of another schema").
    std::string message = e.what();
    if (message.rfind(copy.path(), 0) == 0) message = path + message.substr(copy.path().size());
    throw InputError(message);
  }
}

}  // namespace semharness
