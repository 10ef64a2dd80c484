#pragma once
// A semharness database read without writing to it: no schema migration, no journal-mode switch, no lock
// held after return. Store opens read-write and migrates; a committed reference database (the regression
// gate's baseline) must stay byte-identical. Torch-free.
#include <map>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace semharness {

struct StoreSnapshot {
  std::vector<RunRecord> runs;     // every run, any status, in insertion order
  std::vector<ResultRow> results;  // every result row
  // run_id -> the processor that ran it: its provenance's "cpu_model, cpu_capability" ("AMD EPYC, AVX512");
  // absent for a run without those entries. CPU runs repeat bit for bit only on the same kind of processor.
  std::map<std::string, std::string> cpu_of_run;
};

// "cpu_model, cpu_capability" of a run's provenance entries; "" when it has neither.
std::string cpu_of(const std::map<std::string, std::string>& provenance);

// Copies the database at path through a read-only connection (SQLite's online backup, a consistent snapshot
// even while runs write to it) into a temporary file, reads that through Store (which adds the columns an
// older database lacks) and removes it. Throws InputError naming path when the file is missing, empty, not
// SQLite, or not a semharness database; the file is never opened for writing.
StoreSnapshot read_store_snapshot(const std::string& path);

}  // namespace semharness
