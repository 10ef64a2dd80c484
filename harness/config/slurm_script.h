#pragma once
// The sbatch scripts of `semharness slurm`: a job array with one task per unfinished run of a grid, each
// writing its own shard database, and a merge job that folds the shards into the main database. Torch-free.
#include <cstddef>
#include <string>
#include <vector>

#include "harness/config/shell_words.h"

namespace semharness {

// Sorted, distinct indices in Slurm's --array syntax: {0, 1, 2, 3, 7, 9, 10} -> "0-3,7,9-10".
std::string array_spec(const std::vector<size_t>& indices);

struct SlurmJob {
  std::string grid_name;
  std::string binary;                  // absolute path of build/semharness
  std::string grid_file;               // absolute
  std::vector<std::string> overrides;  // --set values, as given
  std::string main_db;                 // absolute
  std::string shards_dir;              // absolute; shards are task-<index>.db in it, logs too
  std::string workdir;                 // the tasks' working directory (where relative paths in the grid resolve)
  std::vector<size_t> indices;         // runs to do, in Grid::runs order
  // #SBATCH options, each written only when set.
  std::string partition, gpus_per_task, cpus_per_task, time;
  int max_parallel = 0;  // 0: no limit

  std::string array() const;              // the --array value: array_spec(indices), then %max_parallel
  std::string array_script_path() const;  // <shards_dir>/<grid_name>.sbatch
  std::string merge_script_path() const;  // <shards_dir>/<grid_name>.merge.sbatch
};

// The job array: task I runs `semharness run GRID --task-index I --db <shards_dir>/task-I.db`.
std::string array_script(const SlurmJob& job);
// Merges <shards_dir>/task-*.db into main_db, then prints the grid's report.
std::string merge_script(const SlurmJob& job);

}  // namespace semharness
