#include <iostream>
#include <thread>

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/config/grid.h"
#include "harness/store/store.h"
#include "harness/train/grid_runner.h"
#include "reports/comparison_table.h"

namespace semharness {
namespace po = boost::program_options;

namespace {

c10::Device resolve_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name == "cuda") {
    if (!torch::cuda::is_available()) throw InputError("--device cuda: no CUDA device is available (use auto or cpu)");
    return c10::Device(c10::kCUDA, 0);
  }
  if (name == "auto") return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  throw InputError(fmt::format("--device: expected auto, cpu or cuda, got '{}'", name));
}

// LibTorch may start with fewer intra-op threads than cores (1.13 took half); training wants them all.
void use_every_core() {
  const unsigned cores = std::thread::hardware_concurrency();
  if (cores > 0 && torch::get_num_threads() < static_cast<int>(cores)) torch::set_num_threads(static_cast<int>(cores));
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  po::options_description options("semharness run GRID.ini [options]");
  std::string db, device_name, grid_path;
  std::vector<std::string> overrides;
  options.add_options()
      ("help,h", "this help")
      ("db", po::value(&db)->default_value(kDefaultDatabase), "SQLite database to store results in")
      ("device", po::value(&device_name)->default_value("auto"), "auto (CUDA when present), cpu or cuda")
      ("set", po::value(&overrides)->composing(), "override a grid key: --set key=value (repeatable; a list makes an axis)");
  po::options_description hidden;
  hidden.add_options()("grid", po::value(&grid_path), "grid file");
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("grid", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << options << "\nRuns every run of the grid not yet finished in the database, then prints the table.\n";
    return 0;
  }
  if (grid_path.empty()) throw InputError("run: missing grid file (usage: semharness run GRID.ini)");

  const Grid grid = load_grid(grid_path, overrides);
  const c10::Device device = resolve_device(device_name);
  Store store(db);
  use_every_core();
  const auto summary = run_grid(grid, store, device, std::cout);
  std::cout << "\n" << format_comparison(comparison_table(store.runs(grid.name), store.results()));
  return summary.failed > 0 ? 1 : 0;
}

}  // namespace semharness
