#include "harness/train/grid_runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <torch/torch.h>

#include "harness/config/errors.h"
#include "harness/executors/worker_identity.h"
#include "harness/results/probe_protocols.h"
#include "harness/train/artifacts.h"
#include "harness/train/checkpoint.h"
#include "harness/train/provenance.h"
#include "harness/train/run.h"

namespace semharness {
namespace {

// Test top-1 of the backbone probe and, with SEM, of the SEM probe at the tau_d best on validation, under the
// first linear-probe protocol the run stored (the converged probe when there is one).
std::string headline(const RunOutcome& outcome) {
  std::string protocol;
  for (const auto& candidate : linear_probe_protocols()) {
    const bool stored = std::any_of(outcome.results.begin(), outcome.results.end(),
                                    [&](const ResultRow& r) { return r.protocol == candidate && r.metric == "top1"; });
    if (stored) {
      protocol = candidate;
      break;
    }
  }
  if (protocol.empty()) return "probe top-1: none stored";
  double backbone = -1, sem = -1, best_val = -1;
  std::map<double, double> sem_test;
  for (const auto& r : outcome.results) {
    if (r.protocol != protocol || r.metric != "top1") continue;
    if (r.feature == "backbone" && r.split == "test") backbone = r.value;
    if (r.feature == "sem" && r.split == "test") sem_test[*r.tau_d] = r.value;
  }
  for (const auto& r : outcome.results) {
    if (r.protocol == protocol && r.feature == "sem" && r.split == "val" && r.metric == "top1" && r.value > best_val) {
      best_val = r.value;
      sem = sem_test[*r.tau_d];
    }
  }
  std::string text = fmt::format("probe top-1 ({}) backbone {:.2f}", protocol, backbone);
  if (sem >= 0) text += fmt::format(", sem {:.2f}", sem);
  return text;
}

// Refreshes the heartbeat of the run in flight from a thread of its own (an epoch can take longer than the
// stale timeout), on its own connection to the database.
class Heartbeat {
 public:
  Heartbeat(const std::string& database, double interval_seconds)
      : database_(database), interval_(interval_seconds), thread_([this] { loop(); }) {}
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void beat_for(const std::string& run_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    run_id_ = run_id;
  }

 private:
  void loop() {
    std::unique_ptr<HeartbeatConnection> connection;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::duration<double>(interval_), [this] { return stop_; })) {
      if (run_id_.empty()) continue;
      const std::string run_id = run_id_;
      lock.unlock();
      try {
        if (!connection) connection = std::make_unique<HeartbeatConnection>(database_);
        connection->beat(run_id);
      } catch (const std::exception&) {
        // A busy or vanished database: the next beat tries again; a run that misses beats is only reclaimed
        // after the stale timeout.
      }
      lock.lock();
    }
  }

  std::string database_;
  double interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::string run_id_;
  std::thread thread_;
};

}  // namespace

std::string duration_text(double seconds) {
  if (seconds < 60) return fmt::format("{:.0f}s", seconds);
  if (seconds < 3600) return fmt::format("{:.0f}m{:02.0f}s", std::floor(seconds / 60), std::fmod(seconds, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(seconds / 3600), std::fmod(seconds, 3600) / 60);
}

Grid worker_share(const Grid& grid, const std::optional<int64_t>& task_index) {
  if (!task_index) return grid;
  const auto count = static_cast<int64_t>(grid.runs.size());
  if (*task_index < 0 || *task_index >= count) {
    throw InputError(fmt::format("--task-index {}: grid '{}' has runs 0 to {}", *task_index, grid.name, count - 1));
  }
  Grid share = grid;
  share.runs = {grid.runs[static_cast<size_t>(*task_index)]};
  return share;
}

GridRunSummary run_grid(const Grid& whole_grid, Store& store, c10::Device device, std::ostream& log,
                        const WorkerOptions& options) {
  using Clock = std::chrono::steady_clock;
  const Grid grid = worker_share(whole_grid, options.task_index);
  std::map<std::pair<std::string, std::string>, DeviceDataset> datasets;
  for (const auto& run : grid.runs) {
    const DataSpec data = RunSpec::parse(run).data;
    const auto key = std::make_pair(data.dataset, data.data_dir);
    if (!datasets.count(key)) datasets.emplace(key, to_device(load_dataset(key.first, key.second), device));
  }
  store.register_runs(grid);

  GridRunSummary summary;
  summary.total = static_cast<int64_t>(grid.runs.size());
  std::vector<std::string> run_ids;
  std::map<std::string, size_t> index_of;  // run_id -> position in the whole grid, for progress lines
  for (size_t i = 0; i < grid.runs.size(); ++i) {
    const std::string run_id = grid.runs[i].run_id();
    index_of[run_id] = options.task_index ? static_cast<size_t>(*options.task_index) : i;
    if (is_done_status(store.status(run_id))) {
      ++summary.skipped;
      std::filesystem::remove(checkpoint_path(store.path(), run_id));  // left by a kill after the run was stored
    } else {
      run_ids.push_back(run_id);
    }
  }
  if (!options.pool_member) {
    log << fmt::format("grid '{}': {} runs, {} already done, {} to run on {} ({} threads, LibTorch {}), database {}\n",
                       grid.name, summary.total, summary.skipped, run_ids.size(), device.str(),
                       torch::get_num_threads(), TORCH_VERSION, store.path());
    if (run_ids.empty())
      log << fmt::format("nothing to run: every run of grid '{}' is finished or diverged\n", grid.name);
    else if (!device.is_cuda())
      log << compute_backends_line() << "\n";
  }

  const std::string worker = this_worker();
  // A task's shard database belongs to that task alone (Slurm runs one task per index): a running run in it
  // was left by an earlier, cancelled job of the same task, possibly on another node.
  const auto abandoned = [&](const RunRecord& run) {
    return options.task_index.has_value() || is_abandoned(run, options.stale_after_seconds);
  };
  Heartbeat heartbeat(store.path(), options.heartbeat_seconds);
  std::set<std::string> attempted;  // a run that failed here is left for the next `run`, not retried in a loop
  const auto grid_started = Clock::now();
  int64_t completed_here = 0;
  const auto width = fmt::format("{}", whole_grid.runs.size()).size();
  while (auto claimed = store.claim_next(run_ids, worker, abandoned, attempted)) {
    const std::string run_id = *claimed;
    attempted.insert(run_id);
    const RunConfig& run = whole_grid.runs[index_of.at(run_id)];
    const RunSpec spec = RunSpec::parse(run);
    const std::string tag = fmt::format("[{:>{}}/{}] {}", index_of.at(run_id) + 1, width, whole_grid.runs.size(),
                                        run.label(whole_grid.axes));
    heartbeat.beat_for(run_id);
    reset_peak_memory(device);
    auto provenance = run_provenance(device);
    provenance.emplace_back("started_at", utc_now());
    store.set_provenance(run_id, provenance);
    const CheckpointPolicy checkpoint{checkpoint_path(store.path(), run_id), spec.pretrain.checkpoint_every};
    try {
      const auto outcome = execute_run(
          spec, datasets.at({spec.data.dataset, spec.data.data_dir}), device,
          [&](const EpochProgress& p) {
            log << fmt::format("{}  epoch {}/{}  loss {:.4f}  {}\n", tag, p.epoch, p.epochs, p.loss,
                               duration_text(p.seconds))
                << std::flush;
          },
          checkpoint);
      save_run_artifacts(store.path(), outcome);  // first: a finished run always has its stored features
      store.finish_run(outcome);
      std::filesystem::remove(checkpoint.path);
      if (outcome.status == "finished") {
        ++summary.finished;
      } else {
        ++summary.diverged;
      }
      if (outcome.resumed_from_epoch) ++summary.resumed;
      ++completed_here;
      int64_t left = 0;
      for (const auto& id : run_ids) left += is_done_status(store.status(id)) ? 0 : 1;
      const double elapsed = std::chrono::duration<double>(Clock::now() - grid_started).count();
      const double eta = elapsed / static_cast<double>(completed_here) * static_cast<double>(left) /
                         static_cast<double>(std::max<int64_t>(1, options.workers));
      const std::string resumed =
          outcome.resumed_from_epoch ? fmt::format(" (resumed from epoch {})", *outcome.resumed_from_epoch) : "";
      log << fmt::format("{}  {}{}: {}  ({} left, grid ETA {})\n", tag, outcome.status, resumed,
                         outcome.status == "finished" ? headline(outcome) : outcome.error, left, duration_text(eta))
          << std::flush;
    } catch (const std::exception& e) {
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      store.mark_failed(run_id, what);
      ++summary.failed;
      log << fmt::format("{}  failed: {}\n", tag, what) << std::flush;
    }
    heartbeat.beat_for("");
    auto ending = peak_memory(device);
    ending.emplace_back("finished_at", utc_now());
    store.set_provenance(run_id, ending);
  }
  if (!options.pool_member) {
    int64_t elsewhere = 0;
    for (const auto& id : run_ids) elsewhere += store.status(id) == "running" ? 1 : 0;
    if (elsewhere > 0)
      log << fmt::format("{} runs still in flight in other workers (semharness status shows them)\n", elsewhere);
    log << fmt::format(
        "grid '{}': {} finished, {} diverged, {} failed, {} skipped, {} resumed from a checkpoint in {}\n", grid.name,
        summary.finished, summary.diverged, summary.failed, summary.skipped, summary.resumed,
        duration_text(std::chrono::duration<double>(Clock::now() - grid_started).count()));
  }
  return summary;
}

}  // namespace semharness
