#include "reports/benchmark_tables.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

namespace semharness {
namespace {

double mean_ms(const BenchmarkRow& row) { return row.total_ms / static_cast<double>(std::max<int64_t>(row.count, 1)); }

ReportCell number(double value, const std::string& format) { return {fmt::format(fmt::runtime(format), value), value}; }

}  // namespace

ReportTable benchmark_table(const std::vector<BenchmarkRow>& rows) {
  ReportTable table;
  table.id = "benchmarks";
  table.title = "Benchmarks (semharness bench)";
  table.header = {"benchmark", "params", "device", "iterations", "mean (ms)", "items/s", "GB/s"};
  table.label_columns = 3;
  for (const auto& row : rows) {
    std::vector<ReportCell> cells = {{row.name, std::nullopt},
                                     {row.params, std::nullopt},
                                     {row.device, std::nullopt},
                                     {std::to_string(row.count), static_cast<double>(row.count)},
                                     number(mean_ms(row), "{:.3f}")};
    cells.push_back(row.items_per_second ? number(*row.items_per_second, "{:.1f}") : ReportCell{"", std::nullopt});
    cells.push_back(row.bytes_per_second ? number(*row.bytes_per_second / 1e9, "{:.2f}")
                                         : ReportCell{"", std::nullopt});
    table.rows.push_back(cells);
  }
  table.notes.push_back(
      "mean = wall time per iteration (device work synchronised); items are images for training "
      "steps, augmentation and probes.");
  return table;
}

std::optional<ReportTable> memory_floor_table(const std::vector<BenchmarkRow>& rows) {
  // device -> bytes/s of its largest copy: small copies stay in cache and run far above memory bandwidth.
  std::map<std::string, std::pair<double, double>> largest_copy;  // device -> (MB, bytes/s)
  for (const auto& row : rows) {
    if (row.name.rfind("memory/copy", 0) != 0 || !row.bytes_per_second) continue;
    const auto at = row.params.find("MB=");
    const double mb = at == std::string::npos ? 0 : std::atof(row.params.c_str() + at + 3);
    auto& best = largest_copy[row.device];
    if (mb >= best.first) best = {mb, *row.bytes_per_second};
  }
  std::map<std::string, double> bandwidth;
  for (const auto& [device, copy] : largest_copy) bandwidth[device] = copy.second;
  // (device, params + layout) -> "fused"/"unfused" -> row. sem/fused_block_major pairs with
  // sem/unfused_block_major.
  std::map<std::pair<std::string, std::string>, std::map<std::string, const BenchmarkRow*>> sizes;
  for (const auto& row : rows) {
    for (const std::string variant : {"fused", "unfused"}) {
      const std::string prefix = "sem/" + variant;
      if (row.name.rfind(prefix, 0) != 0) continue;
      std::string layout = row.name.substr(prefix.size());
      if (!layout.empty() && layout[0] == '_') layout = " " + layout.substr(1);
      sizes[{row.device, row.params + layout}][prefix] = &row;
    }
  }
  ReportTable table;
  table.id = "memory_floor";
  table.title = "SEM softmax forward+backward against the memory floor";
  table.header = {"params", "device", "fused (ms)", "unfused (ms)", "unfused/fused", "floor (ms)", "fused/floor"};
  table.label_columns = 2;
  for (const auto& [key, variants] : sizes) {
    const auto fused = variants.find("sem/fused");
    if (fused == variants.end()) continue;
    const auto unfused = variants.find("sem/unfused");
    const BenchmarkRow& f = *fused->second;
    std::vector<ReportCell> cells = {
        {key.second, std::nullopt}, {key.first, std::nullopt}, number(mean_ms(f), "{:.3f}")};
    if (unfused != variants.end()) {
      cells.push_back(number(mean_ms(*unfused->second), "{:.3f}"));
      cells.push_back(number(mean_ms(*unfused->second) / mean_ms(f), "{:.2f}x"));
    } else {
      cells.insert(cells.end(), {{"", std::nullopt}, {"", std::nullopt}});
    }
    const auto copy = bandwidth.find(key.first);
    if (copy != bandwidth.end() && f.bytes_per_second) {
      const double floor_ms = mean_ms(f) * *f.bytes_per_second / copy->second;
      cells.push_back(number(floor_ms, "{:.3f}"));
      cells.push_back(number(mean_ms(f) / floor_ms, "{:.2f}x"));
    } else {
      cells.insert(cells.end(), {{"", std::nullopt}, {"", std::nullopt}});
    }
    table.rows.push_back(cells);
  }
  if (table.rows.empty()) return std::nullopt;
  std::string bandwidths;
  for (const auto& [device, bytes] : bandwidth) {
    bandwidths += fmt::format("{}{} {:.1f} GB/s", bandwidths.empty() ? "" : ", ", device, bytes / 1e9);
  }
  table.notes.push_back(
      "floor = bytes the fused op must read and write (forward: x in, y out; backward: y and dy in, "
      "dx out) / the bandwidth of the largest memory/copy measured on the device (" +
      (bandwidths.empty() ? std::string("none measured") : bandwidths) + ").");
  return table;
}

}  // namespace semharness
