#pragma once
// Runs every run of a grid that the store has not finished yet, one after another, storing each outcome as
// soon as it is known: a crash loses at most the run in flight, and running the grid again resumes.
#include <iosfwd>

#include <c10/core/Device.h>

#include "harness/config/grid.h"
#include "harness/store/store.h"

namespace semharness {

struct GridRunSummary {
  int64_t total = 0, skipped = 0, finished = 0, diverged = 0, failed = 0;
};

// Loads every dataset the grid names before touching the store (bad data files change nothing stored).
GridRunSummary run_grid(const Grid& grid, Store& store, c10::Device device, std::ostream& log);

}  // namespace semharness
