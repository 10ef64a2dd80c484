#pragma once
// Tables of benchmark results (`semharness bench`, timings rows with run_id NULL): every benchmark's time and
// rate, and the SEM kernel against the memory floor (rows from Store::latest_benchmarks). Torch-free.
#include <optional>
#include <vector>

#include "harness/store/store.h"
#include "reports/document.h"

namespace semharness {

// One row per benchmark: name, params, device, iterations, mean ms, items/s, GB/s.
ReportTable benchmark_table(const std::vector<BenchmarkRow>& rows);

// For each SEM size (tests/bench/bench_sem.cpp) the fused and unfused forward+backward times, their ratio,
// the memory floor and the fused time over it. The floor is the bytes the fused op must move
// (bytes_per_second x time of the sem/fused row) over the bandwidth of the largest memory/copy of the same
// device (a small copy runs in cache, far above memory bandwidth).
// nullopt without sem/fused rows.
std::optional<ReportTable> memory_floor_table(const std::vector<BenchmarkRow>& rows);

}  // namespace semharness
