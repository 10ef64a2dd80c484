#include "reports/op_profile_tables.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "reports/run_labels.h"

namespace semharness {
namespace {

constexpr size_t kTopOperators = 12;
constexpr const char* kBackwardNodePrefix = "autograd::engine::evaluate_function: ";
constexpr const char* kSoftmaxForward = "sem::simplex_softmax";
constexpr const char* kSoftmaxBackward = "sem::simplex_softmax_backward";

// One cell's profiled runs, summed over them (divided by runs when shown). Shares are of the profiled steps'
// wall time.
struct CellProfile {
  std::string group, column, device;
  int runs = 0;
  int64_t steps = 0;
  double step_ms = 0, profiled_step_ms = 0;  // per step
  double softmax_forward = 0, softmax_backward = 0, embedder = 0, outside = 0;
  std::map<std::string, double> operators;  // display name -> share
};

// "SEM: aten::mm", "backward node MmBackward0", "kernel ampere_sgemm...": names as the report shows them, one
// line per name (shapes summed).
std::string display_name(const ProfileRow& row) {
  std::string name = row.name;
  const std::string prefix = kBackwardNodePrefix;
  if (name.compare(0, prefix.size(), prefix) == 0) name = "backward node " + name.substr(prefix.size());
  if (row.kind == kProfileKernel) name = "kernel " + name;
  if (row.part == kProfileSemPart) name = "SEM: " + name;
  return name;
}

double timing_ms_per_call(const std::vector<TimingRow>& timings, const std::string& name) {
  for (const TimingRow& row : timings) {
    if (row.name == name && row.count > 0) return row.total_ms / static_cast<double>(row.count);
  }
  return 0;
}

// Adds one run's rows to its cell.
void add_run(CellProfile& cell, const std::vector<const ProfileRow*>& rows, const std::vector<TimingRow>& timings) {
  cell.runs += 1;
  cell.device = rows.front()->device;
  cell.steps = rows.front()->steps;
  const double profiled_ms = timing_ms_per_call(timings, "step:profiled");
  cell.step_ms += timing_ms_per_call(timings, "step:unprofiled");
  cell.profiled_step_ms += profiled_ms;
  const double wall_ms = profiled_ms * static_cast<double>(cell.steps);
  const auto share = [&](double ms) { return wall_ms > 0 ? ms / wall_ms : 0; };
  double sem_self = 0, softmax_total = 0;
  for (const ProfileRow* row : rows) {
    cell.operators[display_name(*row)] += row->step_share;
    if (row->name == kOutsideOperators) cell.outside += row->step_share;
    if (row->part != kProfileSemPart || row->kind == kProfileKernel) continue;
    sem_self += row->self_ms;
    // The softmax's scopes by their total time: the operators they call (an output's allocation) are theirs.
    if (row->name == kSoftmaxForward || row->name == kSoftmaxBackward) {
      softmax_total += row->total_ms;
      (row->name == kSoftmaxForward ? cell.softmax_forward : cell.softmax_backward) += share(row->total_ms);
    }
  }
  cell.embedder += share(std::max(0.0, sem_self - softmax_total));
}

std::string percent(double share) { return fmt::format("{:.1f}", 100 * share); }

ReportCell percent_cell(double share) { return {percent(share), 100 * share}; }

ReportTable step_table(const std::vector<CellProfile>& cells) {
  ReportTable table;
  table.id = "profile_steps";
  table.title = "Time per training step, and the SEM block's share of it";
  // The group (e.g. the method) leads when there is one; the embedder's setting names the rest of the cell.
  const bool grouped = std::any_of(cells.begin(), cells.end(), [](const CellProfile& c) { return !c.group.empty(); });
  table.label_columns = grouped ? 2 : 1;
  if (grouped) table.header.push_back("cell");
  for (const char* column : {"embedder", "runs", "device", "step (ms)", "profiled (ms)", "overhead", "SEM block (%)",
                             "softmax fwd", "softmax bwd", "Linear+BN", "outside ops (%)"}) {
    table.header.push_back(column);
  }
  for (const CellProfile& cell : cells) {
    const double n = cell.runs;
    const double sem = (cell.softmax_forward + cell.softmax_backward + cell.embedder) / n;
    const double overhead = cell.step_ms > 0 ? cell.profiled_step_ms / cell.step_ms : 0;
    std::vector<ReportCell> row;
    if (grouped) row.push_back({cell.group, std::nullopt});
    row.insert(row.end(), {{cell.column, std::nullopt},
                           {std::to_string(cell.runs), n},
                           {cell.device, std::nullopt},
                           {fmt::format("{:.1f}", cell.step_ms / n), cell.step_ms / n},
                           {fmt::format("{:.1f}", cell.profiled_step_ms / n), cell.profiled_step_ms / n},
                           {fmt::format("{:.2f}x", overhead), overhead},
                           percent_cell(sem),
                           percent_cell(cell.softmax_forward / n),
                           percent_cell(cell.softmax_backward / n),
                           percent_cell(cell.embedder / n),
                           percent_cell(cell.outside / n)});
    table.rows.push_back(std::move(row));
  }
  table.notes.push_back(
      "Means over the cell's runs. step = a training step's wall time without the profiler, profiled = with it "
      "(the same run, the steps just before the recorded ones), overhead = profiled / step. Shares are of the "
      "profiled step's wall time, by self time: SEM block = every call of the block (harness/train/op_profile.h: "
      "its forward scope, the backward nodes of its operators), split into the softmax's forward and backward "
      "kernels and the rest (the embedder's Linear and BatchNorm, forward and backward); outside ops = wall "
      "time no recorded operator covers (waits for the next batch, host code between operators).");
  return table;
}

// One group's (a method's) operators, its cells side by side: the kTopOperators largest of each cell.
ReportTable operator_table(const std::string& group, const std::vector<const CellProfile*>& cells, size_t index) {
  ReportTable table;
  table.id = fmt::format("profile_ops_{}", index);
  table.title = group.empty() ? "Operators by self time" : "Operators by self time: " + group;
  table.header = {"operator"};
  std::set<std::string> names;
  for (const CellProfile* cell : cells) {
    table.header.push_back(cell->column + " (%)");
    std::vector<std::pair<double, std::string>> ranked;
    for (const auto& [name, share] : cell->operators) ranked.push_back({share, name});
    std::sort(ranked.rbegin(), ranked.rend());
    for (size_t i = 0; i < std::min(kTopOperators, ranked.size()); ++i) names.insert(ranked[i].second);
  }
  std::vector<std::pair<double, std::string>> order;  // by the largest share in any cell
  for (const std::string& name : names) {
    double largest = 0;
    for (const CellProfile* cell : cells) {
      const auto it = cell->operators.find(name);
      if (it != cell->operators.end()) largest = std::max(largest, it->second / cell->runs);
    }
    order.push_back({largest, name});
  }
  std::sort(order.rbegin(), order.rend());
  for (const auto& [largest, name] : order) {
    std::vector<ReportCell> row = {{name, std::nullopt}};
    for (const CellProfile* cell : cells) {
      const auto it = cell->operators.find(name);
      row.push_back(it == cell->operators.end() ? ReportCell{"", std::nullopt} : percent_cell(it->second / cell->runs));
    }
    table.rows.push_back(row);
  }
  table.notes.push_back(fmt::format(
      "Self time as a share of the profiled step (mean over runs), summed over input shapes; the {} largest of "
      "each column. SEM: a call of the SEM block; backward node: autograd's own time around a backward "
      "function (the operators it calls are lines of their own).",
      kTopOperators));
  return table;
}

}  // namespace

std::vector<ReportSection> profile_sections(Store& store, const std::string& /*db_path*/, const std::string& grid) {
  ReportSection section;
  section.id = "profile";
  section.title = "Where the time goes";
  std::map<std::string, std::vector<const ProfileRow*>> by_run;
  const std::vector<ProfileRow> rows = store.profile(grid);
  for (const ProfileRow& row : rows) by_run[row.run_id].push_back(&row);
  const std::vector<RunRecord> runs = store.runs(grid);
  std::map<std::string, std::vector<const RunRecord*>> profiled_by_grid;
  for (const RunRecord& run : runs) {
    if (by_run.count(run.run_id)) profiled_by_grid[run.grid].push_back(&run);
  }
  if (profiled_by_grid.empty()) {
    section.paragraphs.push_back("No run of these has a profile (grid key profile.steps = N records N steps).");
    return {section};
  }
  std::vector<CellProfile> cells;
  std::map<std::tuple<std::string, std::string>, size_t> cell_index;
  for (const auto& [grid_name, grid_runs] : profiled_by_grid) {
    std::vector<std::string> keys;
    for (const std::string& key : distinguishing_keys(grid_runs)) {
      if (key != "sem") keys.push_back(key);
    }
    for (const RunRecord* run : grid_runs) {
      const std::string label = row_label(*run, keys);
      const std::string group = profiled_by_grid.size() > 1 ? grid_name + (label.empty() ? "" : " " + label) : label;
      const std::string column = "sem=" + run->config.at("sem");
      const auto [it, added] = cell_index.insert({{group, column}, cells.size()});
      if (added) cells.push_back({group, column});
      add_run(cells[it->second], by_run[run->run_id], store.timings(run->run_id));
    }
  }
  section.tables.push_back(step_table(cells));
  std::map<std::string, std::vector<const CellProfile*>> by_group;
  std::vector<std::string> groups;
  for (const CellProfile& cell : cells) {
    if (by_group[cell.group].empty()) groups.push_back(cell.group);
    by_group[cell.group].push_back(&cell);
  }
  for (size_t i = 0; i < groups.size(); ++i)
    section.tables.push_back(operator_table(groups[i], by_group[groups[i]], i));
  return {section};
}

}  // namespace semharness
