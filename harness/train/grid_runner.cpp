#include "harness/train/grid_runner.h"

#include <chrono>
#include <map>
#include <ostream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "harness/train/run.h"

namespace semharness {
namespace {

std::string duration_text(double seconds) {
  if (seconds < 60) return fmt::format("{:.0f}s", seconds);
  if (seconds < 3600) return fmt::format("{:.0f}m{:02.0f}s", std::floor(seconds / 60), std::fmod(seconds, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(seconds / 3600), std::fmod(seconds, 3600) / 60);
}

// Test top-1 of the backbone probe and, with SEM, of the SEM probe at the tau_d best on validation.
std::string headline(const RunOutcome& outcome) {
  double backbone = -1, sem = -1, best_val = -1;
  std::map<double, double> sem_test;
  for (const auto& r : outcome.results) {
    if (r.protocol != "linear_probe" || r.metric != "top1") continue;
    if (r.feature == "backbone" && r.split == "test") backbone = r.value;
    if (r.feature == "sem" && r.split == "test") sem_test[*r.tau_d] = r.value;
  }
  for (const auto& r : outcome.results) {
    if (r.feature == "sem" && r.split == "val" && r.metric == "top1" && r.value > best_val) {
      best_val = r.value;
      sem = sem_test[*r.tau_d];
    }
  }
  std::string text = fmt::format("probe top-1 backbone {:.2f}", backbone);
  if (sem >= 0) text += fmt::format(", sem {:.2f}", sem);
  return text;
}

}  // namespace

GridRunSummary run_grid(const Grid& grid, Store& store, c10::Device device, std::ostream& log) {
  using Clock = std::chrono::steady_clock;
  std::map<std::pair<std::string, std::string>, DeviceDataset> datasets;
  for (const auto& run : grid.runs) {
    const auto key = std::make_pair(run.str("dataset"), run.str("data_dir"));
    if (!datasets.count(key)) datasets.emplace(key, to_device(load_dataset(key.first, key.second), device));
  }
  store.register_runs(grid);

  GridRunSummary summary;
  summary.total = static_cast<int64_t>(grid.runs.size());
  std::vector<const RunConfig*> pending;
  for (const auto& run : grid.runs) {
    const auto status = store.status(run.run_id());
    if (status == "finished" || status == "diverged") {
      ++summary.skipped;
    } else {
      pending.push_back(&run);
    }
  }
  log << fmt::format("grid '{}': {} runs, {} already done, {} to run on {} ({} threads, LibTorch {}), database {}\n",
                     grid.name, summary.total, summary.skipped, pending.size(), device.str(), torch::get_num_threads(),
                     TORCH_VERSION, store.path());
  const auto grid_started = Clock::now();
  for (size_t i = 0; i < pending.size(); ++i) {
    const RunConfig& run = *pending[i];
    const std::string tag = fmt::format("[{}/{}] {}", i + 1, pending.size(), run.label(grid.axes));
    store.mark_running(run.run_id());
    try {
      const auto outcome = execute_run(run, datasets.at({run.str("dataset"), run.str("data_dir")}), device,
                                       [&](const EpochProgress& p) {
        log << fmt::format("{}  epoch {}/{}  loss {:.4f}  {}\n", tag, p.epoch, p.epochs, p.loss, duration_text(p.seconds))
            << std::flush;
      });
      store.finish_run(outcome);
      if (outcome.status == "finished") {
        ++summary.finished;
      } else {
        ++summary.diverged;
      }
      const double elapsed = std::chrono::duration<double>(Clock::now() - grid_started).count();
      const double eta = elapsed / static_cast<double>(i + 1) * static_cast<double>(pending.size() - i - 1);
      log << fmt::format("{}  {}: {}  (grid ETA {})\n", tag, outcome.status,
                         outcome.status == "finished" ? headline(outcome) : outcome.error, duration_text(eta))
          << std::flush;
    } catch (const std::exception& e) {
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      store.mark_failed(run.run_id(), what);
      ++summary.failed;
      log << fmt::format("{}  failed: {}\n", tag, what) << std::flush;
    }
  }
  log << fmt::format("grid '{}': {} finished, {} diverged, {} failed, {} skipped in {}\n", grid.name, summary.finished,
                     summary.diverged, summary.failed, summary.skipped,
                     duration_text(std::chrono::duration<double>(Clock::now() - grid_started).count()));
  return summary;
}

}  // namespace semharness
