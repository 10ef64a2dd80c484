#pragma once
// A worker over a grid: claims the grid's runs from the store one at a time (atomically, so any number of
// workers on one database never run a run twice), trains and probes each and stores its outcome as soon as
// it is known. A crash or kill loses at most the run in flight, which the next worker resumes from its last
// checkpoint. Runs abandoned by a dead worker are claimed again.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include <c10/core/Device.h>

#include "harness/config/grid.h"
#include "harness/store/store.h"

namespace semharness {

struct GridRunSummary {
  int64_t total = 0, skipped = 0, finished = 0, diverged = 0, failed = 0;
  int64_t resumed = 0;  // runs this worker went on with from a checkpoint
};

struct WorkerOptions {
  double stale_after_seconds = 300;  // a running run whose heartbeat is older is reclaimed
  double heartbeat_seconds = 10;
  std::optional<int64_t> task_index;  // run only Grid::runs[task_index] (a Slurm array task)
  bool pool_member = false;           // one of `run --jobs N`'s workers: no banner or summary
  int64_t workers = 1;                // workers sharing the grid, for the ETA
};

// Loads every dataset the grid names before touching the store (bad data files change nothing stored).
GridRunSummary run_grid(const Grid& grid, Store& store, c10::Device device, std::ostream& log,
                        const WorkerOptions& options = {});

// The runs a worker with these options works on: all of the grid, or the one of its task index. Throws
// InputError when the task index is out of range.
Grid worker_share(const Grid& grid, const std::optional<int64_t>& task_index);

// "12s", "4m05s", "2h10m".
std::string duration_text(double seconds);

}  // namespace semharness
