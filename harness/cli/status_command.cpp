#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "harness/cli/command_line.h"
#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/config/run_config.h"
#include "harness/executors/worker_identity.h"
#include "harness/store/store.h"
#include "reports/run_labels.h"
#include "reports/text_table.h"

namespace semharness {
namespace po = boost::program_options;

namespace {

const std::vector<std::string> kStates = {"pending", "running", "finished", "failed", "diverged"};

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string counts_table(const std::vector<RunRecord>& runs) {
  std::map<std::string, std::map<std::string, int64_t>> counts;  // grid -> status -> runs
  for (const RunRecord& run : runs) ++counts[run.grid][run.status];
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"grid"});
  rows[0].insert(rows[0].end(), kStates.begin(), kStates.end());
  rows[0].push_back("total");
  std::map<std::string, int64_t> all_grids;
  for (const auto& [grid, by_status] : counts) {
    std::vector<std::string> row = {grid};
    int64_t total = 0;
    for (const std::string& state : kStates) {
      const auto found = by_status.find(state);
      const int64_t count = found == by_status.end() ? 0 : found->second;
      row.push_back(std::to_string(count));
      all_grids[state] += count;
      total += count;
    }
    row.push_back(std::to_string(total));
    rows.push_back(row);
  }
  if (counts.size() > 1) {
    std::vector<std::string> row = {"(all)"};
    int64_t total = 0;
    for (const std::string& state : kStates) {
      row.push_back(std::to_string(all_grids[state]));
      total += all_grids[state];
    }
    row.push_back(std::to_string(total));
    rows.push_back(row);
  }
  return format_aligned(rows);
}

}  // namespace

int status_command(const std::vector<std::string>& args) {
  CommandLine cli("semharness status [options]");
  std::string db;
  int64_t stale_after = 300;
  cli.database(&db, "SQLite database to read");
  cli.options()("stale-after", po::value(&stale_after)->default_value(300),
                "seconds without a heartbeat after which a running run counts as stale");
  if (!cli.parse(args,
                 "Prints the runs per state of every grid, the runs in flight (worker, attempts, heartbeat age;\n"
                 "'stale' when the heartbeat is older than --stale-after: the next 'run' of the grid reclaims\n"
                 "them) and the failed and diverged runs with their errors.\n")) {
    return 0;
  }
  if (stale_after <= 0) throw InputError(fmt::format("--stale-after: expected seconds > 0, got {}", stale_after));
  if (!std::filesystem::exists(db)) throw InputError(fmt::format("{}: no such database", db));
  Store store(db);
  const std::vector<RunRecord> runs = store.runs();
  if (runs.empty()) {
    std::cout << db << ": no runs\n";
    return 0;
  }
  const auto labels = run_labels(runs);

  std::cout << counts_table(runs);

  std::vector<const RunRecord*> in_flight, unsuccessful;
  for (const RunRecord& run : runs) {
    if (run.status == "running") in_flight.push_back(&run);
    if (run.status == "failed" || run.status == "diverged") unsuccessful.push_back(&run);
  }
  const auto by_grid_then_start = [](const RunRecord* a, const RunRecord* b) {
    return std::tie(a->grid, a->started_at, a->run_id) < std::tie(b->grid, b->started_at, b->run_id);
  };
  std::sort(in_flight.begin(), in_flight.end(), by_grid_then_start);
  std::sort(unsuccessful.begin(), unsuccessful.end(), by_grid_then_start);

  if (!in_flight.empty()) {
    std::vector<std::vector<std::string>> rows = {
        {"grid", "run", "label", "worker", "attempts", "started_at", "heartbeat_age_s", "resumed_from", ""}};
    int stale = 0;
    for (const RunRecord* run : in_flight) {
      // A run claimed before heartbeats existed has only started_at.
      const double age = seconds_since(run->heartbeat_at.empty() ? run->started_at : run->heartbeat_at);
      // The rule the next `run` applies: a stale heartbeat, or a worker on this host that is gone.
      const bool is_stale = is_abandoned(*run, stale_after);
      stale += is_stale;
      rows.push_back({run->grid, run->run_id, labels.at(run->run_id), run->worker.empty() ? "-" : run->worker,
                      std::to_string(run->attempts), run->started_at.empty() ? "-" : run->started_at,
                      std::isfinite(age) ? fmt::format("{:.0f}", age) : "-",
                      run->resumed_from_epoch ? std::to_string(*run->resumed_from_epoch) : "-",
                      is_stale ? "stale" : ""});
    }
    std::cout << fmt::format("\nin flight: {}", in_flight.size());
    if (stale > 0) {
      std::cout << fmt::format(
          " ({} stale: worker gone or no heartbeat for more than {} s; the next 'run' reclaims them)", stale,
          stale_after);
    }
    std::cout << "\n" << format_aligned(rows);
  }

  if (!unsuccessful.empty()) {
    std::cout << fmt::format("\nfailed or diverged: {}\n", unsuccessful.size());
    for (const RunRecord* run : unsuccessful) {
      std::cout << fmt::format("{} {} [{}] {}: {}\n", run->grid, run->run_id, labels.at(run->run_id), run->status,
                               run->error.empty() ? "(no error recorded)" : first_line(run->error));
    }
  }
  return 0;
}

}  // namespace semharness
