#pragma once
// A semharness database read without writing to it: no schema migration, no journal-mode switch, no lock
// held after return. Store opens read-write and migrates; a committed reference database (the regression
// gate's baseline) must stay byte-identical. Torch-free.
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace semharness {

struct StoreSnapshot {
  std::vector<RunRecord> runs;     // every run, any status, in insertion order
  std::vector<ResultRow> results;  // every result row
};

// Copies the database at path through a read-only connection (SQLite's online backup, a consistent snapshot
// even while runs write to it) into a temporary file, reads that through Store (which adds the columns an
// older database lacks) and removes it. Throws InputError naming path when the file is missing, empty, not
// SQLite, or not a semharness database; the file is never opened for writing.
StoreSnapshot read_store_snapshot(const std::string& path);

}  // namespace semharness
