#pragma once
// Ablations (SPEC §4.4): accuracy against each SEM setting that varies with the rest fixed. For sem.L, sem.V,
// sem.tau_online and sem.tau_target (grid axes) the runs that differ only in that key and the seed form one
// line; for probe.tau_d (every SEM run probes a list of them) each configuration is a line over its tau_d
// values. Each gets a table (lines x values, test top-1 mean ± std over seeds, best per line marked) and a
// line plot (log x axis for the temperatures, and for L and V when they span a factor of 10 or more). The
// accuracy is the comparison table's: linear probe test top-1, the SEM feature at the tau_d best on
// validation (for the tau_d ablation: at each tau_d), of the first linear-probe protocol the runs store in
// linear_probe_protocols() order (a note names it when they store several). Torch-free.
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "reports/document.h"

namespace semharness {

// One section per ablated key (its table, then its plot), in the order sem.L, sem.V, sem.tau_online,
// sem.tau_target, probe.tau_d; when nothing varies, one section whose paragraph says so. Only finished runs
// count.
std::vector<ReportSection> ablation_report(const std::vector<RunRecord>& runs, const std::vector<ResultRow>& results);

// Report builder: the ablations of the runs of `grid` (every grid when empty).
std::vector<ReportSection> ablation_sections(Store& store, const std::string& db_path, const std::string& grid);

}  // namespace semharness
