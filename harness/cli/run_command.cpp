#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <torch/torch.h>

#include "harness/cli/command_line.h"
#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/config/grid.h"
#include "harness/executors/local_pool.h"
#include "harness/store/store.h"
#include "harness/train/device.h"
#include "harness/train/grid_runner.h"
#include "reports/comparison_table.h"

namespace semharness {
namespace po = boost::program_options;

namespace {

int cores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

struct RunArguments {
  std::string db, device_name, grid_path;
  std::vector<std::string> overrides;
  int jobs = 1, threads = 0;
  int64_t task_index = -1;
  double stale_after = 300;
  bool pool_member = false;
  int pool_size = 1;
};

// `run --jobs N`: N worker processes on the same database, one GPU each when there are GPUs, the cores
// split between them otherwise.
int run_pool(const RunArguments& a, const Grid& grid, Store& store, c10::Device device) {
  const int gpus = device.is_cuda() ? static_cast<int>(torch::cuda::device_count()) : 0;
  const int threads = a.threads > 0 ? a.threads : std::max(1, cores() / a.jobs);
  store.register_runs(grid);
  int64_t done = 0;
  for (const auto& run : store.runs(grid.name)) done += is_done_status(run.status) ? 1 : 0;
  std::cout << fmt::format("grid '{}': {} runs, {} already done, {} workers on {} ({}), database {}\n", grid.name,
                           grid.runs.size(), done, a.jobs, device.is_cuda() ? "cuda" : "cpu",
                           gpus > 0 ? fmt::format("{} GPUs", gpus) : fmt::format("{} threads each", threads), a.db);
  std::vector<WorkerProcess> workers;
  for (int w = 0; w < a.jobs; ++w) {
    WorkerProcess worker;
    worker.args = {"run",           a.grid_path,
                   "--db",          a.db,
                   "--device",      device.is_cuda() ? "cuda" : "cpu",
                   "--threads",     std::to_string(threads),
                   "--stale-after", fmt::format("{}", a.stale_after),
                   "--pool-member", std::to_string(a.jobs)};
    for (const auto& o : a.overrides) worker.args.insert(worker.args.end(), {"--set", o});
    if (gpus > 0) worker.environment.emplace_back("CUDA_VISIBLE_DEVICES", std::to_string(w % gpus));
    workers.push_back(std::move(worker));
  }
  const auto started = std::chrono::steady_clock::now();
  const int crashed = run_worker_processes(workers, std::cout);
  std::map<std::string, int64_t> counts;
  for (const auto& run : store.runs(grid.name)) ++counts[run.status];
  std::cout << fmt::format(
      "grid '{}': {} finished, {} diverged, {} failed, {} still pending or running by {} workers in {}\n", grid.name,
      counts["finished"], counts["diverged"], counts["failed"], counts["pending"] + counts["running"], a.jobs,
      duration_text(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()));
  if (crashed > 0)
    std::cout << fmt::format("{} of {} workers exited with an error (see their lines above)\n", crashed, a.jobs);
  return counts["failed"] > 0 ? 1 : 0;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  CommandLine cli("semharness run GRID.ini [options]");
  RunArguments a;
  cli.database(&a.db, "SQLite database to store results in");
  cli.options()("device", po::value(&a.device_name)->default_value("auto"), "auto (CUDA when present), cpu or cuda")(
      "set", po::value(&a.overrides)->composing(),
      "override a grid key: --set key=value (repeatable; a list makes an axis)")(
      "jobs,j", po::value(&a.jobs)->default_value(1),
      "runs at once: worker processes on this machine (one GPU each when there are GPUs)")(
      "threads", po::value(&a.threads)->default_value(0),
      "intra-op threads per worker; 0: the cores divided by --jobs")(
      "task-index", po::value(&a.task_index),
      "run only run I (0-based, in grid order) of the grid: a Slurm array task")(
      "stale-after", po::value(&a.stale_after)->default_value(300),
      "seconds without a heartbeat after which another worker's running run is taken over");
  cli.hidden()("pool-member", po::value(&a.pool_size), "started by run --jobs N as one of N workers");
  cli.positional("grid", po::value(&a.grid_path), 1);
  if (!cli.parse(args,
                 "Runs every run of the grid not yet finished in the database, then prints the table. Any number of\n"
                 "`run`s may share a database: each claims runs atomically. A killed run goes on from its last\n"
                 "checkpoint (DATABASE.checkpoints/) when the grid is run again.\n")) {
    return 0;
  }
  if (a.grid_path.empty()) throw InputError("run: missing grid file (usage: semharness run GRID.ini)");
  if (a.jobs < 1) throw InputError(fmt::format("--jobs {}: expected 1 or more", a.jobs));
  if (a.threads < 0) throw InputError(fmt::format("--threads {}: expected 0 (automatic) or more", a.threads));
  if (!(a.stale_after > 0))
    throw InputError(fmt::format("--stale-after {}: expected a positive number of seconds", a.stale_after));
  a.pool_member = cli.given("pool-member");
  if (cli.given("task-index") && a.jobs > 1) throw InputError("--task-index runs one run: it takes no --jobs");

  const Grid grid = load_grid(a.grid_path, a.overrides);
  const c10::Device device = resolve_device(a.device_name);
  Store store(a.db);
  if (a.jobs > 1) return run_pool(a, grid, store, device);

  // LibTorch may start with fewer intra-op threads than cores (1.13 took half); training wants them all.
  torch::set_num_threads(a.threads > 0 ? a.threads : cores());
  WorkerOptions worker;
  worker.stale_after_seconds = a.stale_after;
  worker.heartbeat_seconds = std::min(10.0, a.stale_after / 4);
  if (cli.given("task-index")) worker.task_index = a.task_index;
  worker.pool_member = a.pool_member;
  worker.workers = a.pool_member ? a.pool_size : 1;
  const auto summary = run_grid(grid, store, device, std::cout, worker);
  if (!a.pool_member) std::cout << "\n" << format_comparison(comparison_table(store.runs(grid.name), store.results()));
  return summary.failed > 0 ? 1 : 0;
}

}  // namespace semharness
