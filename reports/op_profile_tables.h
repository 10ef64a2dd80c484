#pragma once
// "Where the time goes": the profiled training steps of runs with profile.steps > 0 (the store's profile table,
// harness/train/op_profile.h). Per grid cell: a step's wall time with and without the profiler, and the SEM
// block's share of it (its softmax forward and backward, its embedder); per method, the operators with the
// most self time, its cells (baseline, +SEM, controls) side by side. Torch-free.
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "reports/document.h"

namespace semharness {

// grid: only that grid's runs (every grid when empty).
std::vector<ReportSection> profile_sections(Store& store, const std::string& db_path, const std::string& grid);

}  // namespace semharness
