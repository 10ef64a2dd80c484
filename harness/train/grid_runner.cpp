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
#include "harness/results/vocabulary.h"
#include "harness/train/artifacts.h"
#include "harness/train/checkpoint.h"
#include "harness/train/provenance.h"
#include "harness/train/run.h"

namespace semharness {
namespace {

// Test top-1 of the backbone probe and, with SEM, of the SEM probe at the tau_d best on validation, under the
// first linear-probe protocol the run stored (the converged probe when there is one).
std::string headline(const RunOutcome& outcome) {
  const auto top1 = [](const ResultRow& r, std::string_view protocol, Feature feature, Split split) {
    return r.protocol == protocol && r.metric == kTop1Metric && r.feature == text(feature) && r.split == text(split);
  };
  std::string protocol;
  for (const auto& candidate : linear_probe_protocols()) {
    const bool stored = std::any_of(outcome.results.begin(), outcome.results.end(), [&](const ResultRow& r) {
      return r.protocol == candidate && r.metric == kTop1Metric;
    });
    if (stored) {
      protocol = candidate;
      break;
    }
  }
  if (protocol.empty()) return "probe top-1: none stored";
  double backbone = -1, sem = -1, best_val = -1;
  std::map<double, double> sem_test;
  for (const auto& r : outcome.results) {
    if (top1(r, protocol, Feature::Backbone, Split::Test)) backbone = r.value;
    if (top1(r, protocol, Feature::Sem, Split::Test)) sem_test[*r.tau_d] = r.value;
  }
  for (const auto& r : outcome.results) {
    if (top1(r, protocol, Feature::Sem, Split::Val) && r.value > best_val) {
      best_val = r.value;
      sem = sem_test[*r.tau_d];
    }
  }
  std::string line = fmt::format("probe top-1 ({}) backbone {:.2f}", protocol, backbone);
  if (sem >= 0) line += fmt::format(", sem {:.2f}", sem);
  return line;
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
  // Rounded to the unit shown first, so that 59.7 s of a minute reads as the next minute, not as "60s".
  const auto whole_seconds = static_cast<int64_t>(std::llround(std::max(seconds, 0.0)));
  if (whole_seconds < 60) return fmt::format("{}s", whole_seconds);
  if (whole_seconds < 3600) return fmt::format("{}m{:02}s", whole_seconds / 60, whole_seconds % 60);
  const int64_t whole_minutes = (whole_seconds + 30) / 60;
  return fmt::format("{}h{:02}m", whole_minutes / 60, whole_minutes % 60);
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

namespace {

using Clock = std::chrono::steady_clock;

// One dataset per (dataset, data_dir, and an image folder's crop side and classes) the runs name, on the device.
using Datasets = std::map<std::string, DeviceDataset>;

std::string dataset_key(const DataSpec& data) {
  return fmt::format("{}\n{}\n{}\n{}", data.dataset, data.data_dir, data.image_size, data.classes);
}

Datasets load_datasets(const Grid& grid, c10::Device device) {
  Datasets datasets;
  for (const auto& run : grid.runs) {
    const DataSpec data = RunSpec::parse(run).data;
    const std::string key = dataset_key(data);
    if (!datasets.count(key)) datasets.emplace(key, load_device_dataset(data, device));
  }
  return datasets;
}

// Runs the claimed runs of one worker's share of a grid, one at a time, and prints a line per epoch and per run.
class GridWorker {
 public:
  GridWorker(const Grid& whole_grid, const Grid& grid, Datasets datasets, Store& store, c10::Device device,
             std::ostream& log, const WorkerOptions& options)
      : whole_grid_(whole_grid),
        grid_(grid),
        datasets_(std::move(datasets)),
        store_(store),
        device_(device),
        log_(log),
        options_(options) {
    summary_.total = static_cast<int64_t>(grid.runs.size());
    for (size_t i = 0; i < grid.runs.size(); ++i) {
      const std::string run_id = grid.runs[i].run_id();
      index_of_[run_id] = options.task_index ? static_cast<size_t>(*options.task_index) : i;
      if (is_done_status(store.status(run_id))) {
        ++summary_.skipped;
        std::filesystem::remove(checkpoint_path(store.path(), run_id));  // left by a kill after the run was stored
      } else {
        run_ids_.push_back(run_id);
      }
    }
  }

  GridRunSummary run() {
    if (!options_.pool_member) print_header();
    const std::string worker = this_worker();
    // A task's shard database belongs to that task alone (Slurm runs one task per index): a running run in it
    // was left by an earlier, cancelled job of the same task, possibly on another node.
    const auto abandoned = [&](const RunRecord& run) {
      return options_.task_index.has_value() || is_abandoned(run, options_.stale_after_seconds);
    };
    Heartbeat heartbeat(store_.path(), options_.heartbeat_seconds);
    std::set<std::string> attempted;  // a run that failed here is left for the next `run`, not retried in a loop
    started_ = Clock::now();
    while (auto claimed = store_.claim_next(run_ids_, worker, abandoned, attempted)) {
      attempted.insert(*claimed);
      heartbeat.beat_for(*claimed);
      run_one(*claimed);
      heartbeat.beat_for("");
    }
    if (!options_.pool_member) print_footer();
    return summary_;
  }

 private:
  void print_header() const {
    log_ << fmt::format("grid '{}': {} runs, {} already done, {} to run on {} ({} threads, LibTorch {}), database {}\n",
                        grid_.name, summary_.total, summary_.skipped, run_ids_.size(), device_.str(),
                        torch::get_num_threads(), TORCH_VERSION, store_.path());
    if (run_ids_.empty())
      log_ << fmt::format("nothing to run: every run of grid '{}' is finished or diverged\n", grid_.name);
    else if (!device_.is_cuda())
      log_ << compute_backends_line() << "\n";
  }

  // Trains, probes and stores one run; a failure is stored as such and does not stop the grid.
  void run_one(const std::string& run_id) {
    const RunConfig& run = whole_grid_.runs[index_of_.at(run_id)];
    const RunSpec spec = RunSpec::parse(run);
    const std::string tag =
        fmt::format("[{:>{}}/{}] {}", index_of_.at(run_id) + 1, fmt::format("{}", whole_grid_.runs.size()).size(),
                    whole_grid_.runs.size(), run.label(whole_grid_.axes));
    reset_peak_memory(device_);
    auto provenance = run_provenance(device_);
    provenance.emplace_back("started_at", utc_now());
    store_.set_provenance(run_id, provenance);
    const CheckpointPolicy checkpoint{checkpoint_path(store_.path(), run_id), spec.pretrain.checkpoint_every};
    try {
      const auto outcome = execute_run(
          spec, datasets_.at(dataset_key(spec.data)), device_,
          [&](const EpochProgress& p) {
            log_ << fmt::format("{}  epoch {}/{}  loss {:.4f}  {}\n", tag, p.epoch, p.epochs, p.loss,
                                duration_text(p.seconds))
                 << std::flush;
          },
          checkpoint);
      save_run_artifacts(store_.path(), outcome);  // first: a finished run always has its stored features
      store_.finish_run(outcome);
      std::filesystem::remove(checkpoint.path);
      count(outcome);
      log_ << tag << "  " << outcome_line(outcome) << std::flush;
    } catch (const std::exception& e) {
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      store_.mark_failed(run_id, what);
      ++summary_.failed;
      log_ << fmt::format("{}  failed: {}\n", tag, what) << std::flush;
    }
    auto ending = peak_memory(device_);
    ending.emplace_back("finished_at", utc_now());
    store_.set_provenance(run_id, ending);
  }

  void count(const RunOutcome& outcome) {
    if (outcome.status == text(RunStatus::Finished)) {
      ++summary_.finished;
    } else {
      ++summary_.diverged;
    }
    if (outcome.resumed_from_epoch) ++summary_.resumed;
    ++completed_here_;
  }

  // "finished: probe top-1 ... (3 left, grid ETA 5m10s)", the ETA from this worker's pace over all workers.
  std::string outcome_line(const RunOutcome& outcome) const {
    int64_t left = 0;
    for (const auto& id : run_ids_) left += is_done_status(store_.status(id)) ? 0 : 1;
    const double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
    const double eta = elapsed / static_cast<double>(completed_here_) * static_cast<double>(left) /
                       static_cast<double>(std::max<int64_t>(1, options_.workers));
    const std::string resumed =
        outcome.resumed_from_epoch ? fmt::format(" (resumed from epoch {})", *outcome.resumed_from_epoch) : "";
    const bool finished = outcome.status == text(RunStatus::Finished);
    return fmt::format("{}{}: {}  ({} left, grid ETA {})\n", outcome.status, resumed,
                       finished ? headline(outcome) : outcome.error, left, duration_text(eta));
  }

  void print_footer() const {
    int64_t elsewhere = 0;
    for (const auto& id : run_ids_) elsewhere += store_.status(id) == text(RunStatus::Running) ? 1 : 0;
    if (elsewhere > 0)
      log_ << fmt::format("{} runs still in flight in other workers (semharness status shows them)\n", elsewhere);
    log_ << fmt::format(
        "grid '{}': {} finished, {} diverged, {} failed, {} skipped, {} resumed from a checkpoint in {}\n", grid_.name,
        summary_.finished, summary_.diverged, summary_.failed, summary_.skipped, summary_.resumed,
        duration_text(std::chrono::duration<double>(Clock::now() - started_).count()));
  }

  const Grid& whole_grid_;
  const Grid& grid_;
  Datasets datasets_;
  Store& store_;
  c10::Device device_;
  std::ostream& log_;
  const WorkerOptions& options_;
  GridRunSummary summary_;
  std::vector<std::string> run_ids_;        // this worker's share, not done yet when it started
  std::map<std::string, size_t> index_of_;  // run_id -> position in the whole grid, for progress lines
  Clock::time_point started_;
  int64_t completed_here_ = 0;
};

}  // namespace

GridRunSummary run_grid(const Grid& whole_grid, Store& store, c10::Device device, std::ostream& log,
                        const WorkerOptions& options) {
  const Grid grid = worker_share(whole_grid, options.task_index);
  Datasets datasets = load_datasets(grid, device);  // before the runs are registered: a bad data_dir stores nothing
  store.register_runs(grid);
  return GridWorker(whole_grid, grid, std::move(datasets), store, device, log, options).run();
}

}  // namespace semharness
