#pragma once
// Phase and kernel timings from the store's `timings` table: per grid, per (name, device) the runs that
// timed it, the calls (count), the total and the mean per call (total / count). Rows whose run_id is NULL
// are benchmark rows, tied to no run: a table of their own. Torch-free.
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "reports/document.h"

namespace semharness {

// grid: only that grid's runs (every grid when empty); the benchmark rows are shown either way.
ReportSection timings_section(Store& store, const std::string& grid);

// Report builder.
std::vector<ReportSection> timing_sections(Store& store, const std::string& db_path, const std::string& grid);

}  // namespace semharness
