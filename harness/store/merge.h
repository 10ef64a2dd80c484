#pragma once
// Folds shard databases (one per Slurm array task, each made by `semharness run --task-index`) into a main
// database. Idempotent: folding the same shard twice changes nothing the second time. Torch-free.
#include <string>

#include "harness/store/store.h"

namespace semharness {

struct MergeCounts {
  int merged = 0;           // finished/diverged in the shard, copied into main
  int already_present = 0;  // finished/diverged in the shard and already finished/diverged in main: untouched
  int unfinished = 0;       // pending/running/failed in the shard (registered in main as pending if absent)
  int artifacts = 0;        // of the merged runs, those whose stored features were copied

  MergeCounts& operator+=(const MergeCounts& other) {
    merged += other.merged;
    already_present += other.already_present;
    unfinished += other.unfinished;
    artifacts += other.artifacts;
    return *this;
  }
};

// Throws InputError naming shard_path when it is missing, is main_path itself, is not an SQLite database or
// holds another schema; the file is left untouched then.
void check_shard(const std::string& shard_path, const std::string& main_path);

// Folds one shard into main, in one transaction: every run the shard finished (or marked diverged) that main
// has not gets its runs row (columns matched by name), metrics, results, timings and provenance copied,
// replacing what main held for that run_id; then the stored features of those runs
// (<shard>.artifacts/<run_id>/) are copied next to main (<main>.artifacts/<run_id>/). Checks the shard first
// (check_shard).
MergeCounts merge_shard(Store& main, const std::string& shard_path);

}  // namespace semharness
