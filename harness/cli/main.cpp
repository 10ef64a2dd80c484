// build/semharness: run SEM/SSL grids, store them in SQLite, report them.
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options/errors.hpp>
#include <fmt/format.h>

#include "harness/cli/commands.h"
#include "harness/config/errors.h"

namespace {

constexpr const char* kUsage =
    "usage: semharness <command> [options]\n"
    "\n"
    "commands:\n"
    "  run GRID.ini [--db PATH] [--device auto|cpu|cuda] [--set key=value ...] [--jobs N] [--task-index I]\n"
    "                 train and probe every run of a grid not yet finished in the database\n"
    "  report [--db PATH] [--grid NAME] [--out DIR] [--format md,csv,tex,html]\n"
    "                 comparison (methods x {baseline, +SEM}, mean ± std, CI, published reference), ablations,\n"
    "                 bound check, semantic coherence, timings and benchmarks; text, or files in DIR\n"
    "  slurm GRID.ini [--db PATH] [--set key=value ...] [--max-parallel K] [--submit]\n"
    "                 a Slurm job array of the runs not finished, one shard database per task, and a merge job\n"
    "  merge SHARD.db... [--db PATH]\n"
    "                 fold shard databases (Slurm array tasks) into the database\n"
    "  status [--db PATH] [--stale-after SECONDS]\n"
    "                 runs per state and grid, runs in flight (stale ones marked), failed runs\n"
    "  export --out DIR [--db PATH] [--grid NAME]\n"
    "                 copy the stored features and probe weights of finished runs (.npy) and an index.csv to DIR\n"
    "  check --baseline PATH [--db PATH] [--metric M ...] [--alpha A] [--tolerance T]\n"
    "                 the regression gate: exit 1 when a cell is worse than the baseline beyond seed noise\n"
    "  bench [--db PATH] [--filter RE] [--smoke] [--vs-python]\n"
    "                 benchmark suites (SEM kernel vs memory floor, augmentation, training steps, probe) into the\n"
    "                 database; --vs-python races the training step against PyTorch in Python\n"
    "\n"
    "'semharness <command> --help' describes a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "run") return semharness::run_command(rest);
    if (command == "report") return semharness::report_command(rest);
    if (command == "slurm") return semharness::slurm_command(rest);
    if (command == "merge") return semharness::merge_command(rest);
    if (command == "status") return semharness::status_command(rest);
    if (command == "export") return semharness::export_command(rest);
    if (command == "check") return semharness::check_command(rest);
    if (command == "bench") return semharness::bench_command(rest);
    std::cerr << fmt::format("semharness: unknown command '{}' (expected run, report, status, check, export, bench, slurm or merge; see semharness --help)\n", command);
    return 2;
  } catch (const semharness::InputError& e) {
    std::cerr << "semharness: " << e.what() << "\n";
    return 2;
  } catch (const boost::program_options::error& e) {
    std::cerr << fmt::format("semharness {}: {}\n", command, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::cerr << "semharness: error: " << what.substr(0, what.find('\n')) << "\n";
    return 1;
  }
}
