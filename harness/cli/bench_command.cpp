#include <unistd.h>

#include <iostream>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <torch/torch.h>

#include "harness/bench/bench_context.h"
#include "harness/bench/benchmark_results.h"
#include "harness/bench/python_race.h"
#include "harness/cli/command_line.h"
#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/config/run_config.h"
#include "harness/store/store.h"
#include "harness/train/device.h"
#include "harness/train/provenance.h"
#include "reports/benchmark_tables.h"
#include "reports/text_table.h"
#include "reports/writers/writers.h"

namespace semharness {
namespace po = boost::program_options;

namespace {

// The CI smoke run: the tiny size every suite registers, each timed briefly.
constexpr const char* kSmokeFilter = "/(B:8|MB:1|N:64)(/|$)";

struct BenchArguments {
  std::string db, filter, device_name, json;
  double min_time = 0.5;
  int repetitions = 1, threads = 0;
  bool smoke = false, list = false, vs_python = false;
  RaceOptions race;
  std::string race_backbones = "convnet,resnet18";
  int64_t race_batch = 256;
};

// Google Benchmark reads its settings from flags; these are the ones bench passes on.
std::vector<std::string> benchmark_flags(const BenchArguments& a) {
  std::vector<std::string> flags = {"semharness-bench"};
  if (!a.filter.empty()) flags.push_back("--benchmark_filter=" + a.filter);
  flags.push_back(fmt::format("--benchmark_min_time={}", a.min_time));
  flags.push_back(fmt::format("--benchmark_repetitions={}", a.repetitions));
  if (a.repetitions > 1) flags.push_back("--benchmark_report_aggregates_only=false");
  if (!a.json.empty()) flags.insert(flags.end(), {"--benchmark_out=" + a.json, "--benchmark_out_format=json"});
  if (a.list) flags.push_back("--benchmark_list_tests=true");
  return flags;
}

// The race's table (images/s, semharness / Python ratios), its failures and the FLOP rates.
std::string format_race(const RaceResult& race, const std::vector<RaceCase>& cases, const RaceOptions& options) {
  std::string out = fmt::format(
      "\nrace: SimCLR training step (forward of two views, loss, backward, LARS/SGD step, "
      "online classifier), CPU, {} threads; median of {} repetitions x {} steps\n",
      options.threads, options.repetitions, options.steps);
  const std::vector<std::pair<std::string, std::string>> python = {{"python-eager", "eager"},
                                                                   {"python-eager-tcmalloc", "eager+tcmalloc"},
                                                                   {"python-compile", "compile"},
                                                                   {"python-compile-tcmalloc", "compile+tcmalloc"}};
  std::vector<std::string> header = {"case", "batch", "semharness"};
  for (const auto& [impl, title] : python) header.push_back(title);
  header.insert(header.end(), {"best Python", "vs best"});
  std::vector<std::vector<std::string>> rows = {header};
  for (const RaceCase& c : cases) {
    std::map<std::string, double> rate;
    for (const auto& e : race.entries) {
      if (e.case_name == c.name && e.error.empty() && !e.images_per_second.empty())
        rate[e.impl] = e.median_images_per_second();
    }
    const auto cell = [&](const std::string& impl) {
      return rate.count(impl) ? fmt::format("{:.1f}", rate[impl]) : "-";
    };
    std::vector<std::string> row = {c.name, std::to_string(c.batch), cell("semharness")};
    std::string best;
    for (const auto& [impl, title] : python) {
      row.push_back(cell(impl));
      if (rate.count(impl) && (best.empty() || rate[impl] > rate[best])) best = impl;
    }
    const auto title_of = [&](const std::string& impl) {
      for (const auto& [name, title] : python)
        if (name == impl) return title;
      return impl;
    };
    row.push_back(best.empty() ? "-" : title_of(best));
    row.push_back(!best.empty() && rate.count("semharness") ? fmt::format("{:.2f}x", rate["semharness"] / rate[best])
                                                            : "-");
    rows.push_back(row);
  }
  out += format_aligned(rows);
  out +=
      "images/s (median); vs best = semharness / the fastest Python contestant (above 1: semharness is faster); "
      "+tcmalloc: Python with the harness's allocator preloaded (LD_PRELOAD)\n";
  for (const auto& e : race.entries) {
    if (!e.error.empty()) out += fmt::format("{} {}: {}\n", e.case_name, e.impl, e.error);
  }
  for (const RaceFlops& f : race.flops) {
    out += fmt::format(
        "{}: {:.1f} GFLOP per step ({:.1f} in the backbone; torch.utils.flop_counter on the Python model). semharness: "
        "step {:.1f} GFLOP/s = {:.0f}% of the matmul peak, backbone forward+backward alone {:.1f} GFLOP/s = {:.0f}%; "
        "peak {:.1f} GFLOP/s (float32 2048x2048, LibTorch's BLAS, this run)\n",
        f.case_name, f.step_flops / 1e9, f.backbone_flops / 1e9, f.step_flops / f.step_seconds / 1e9,
        100 * f.step_flops / f.step_seconds / f.matmul_peak, f.backbone_flops / f.backbone_seconds / 1e9,
        100 * f.backbone_flops / f.backbone_seconds / f.matmul_peak, f.matmul_peak / 1e9);
  }
  return out;
}

int run_race(const BenchArguments& a, Store& store, const std::string& session) {
  const auto cases = race_cases(split_list(a.race_backbones), a.race_batch);
  const RaceResult race = run_python_race(cases, a.race, std::cout);
  std::cout << format_race(race, cases, a.race);
  const auto rows = race_rows(race, cases);
  store.add_benchmark_rows(session, rows);
  std::cout << fmt::format("stored {} race rows in {} (session {})\n", rows.size(), store.path(), session);
  for (const auto& e : race.entries) {
    if (e.impl.rfind("python-compile", 0) != 0 && !e.error.empty())
      return 1;  // torch.compile may lack a compiler; the rest may not fail
  }
  return 0;
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
  CommandLine cli("semharness bench [options]");
  BenchArguments a;
  cli.database(&a.db, "SQLite database to store the results in (timings, run_id NULL)");
  cli.options()("filter", po::value(&a.filter),
                "regular expression: only benchmarks whose name matches (e.g. 'sem/|memory/')")(
      "min-time", po::value(&a.min_time)->default_value(0.5, "0.5"), "seconds each benchmark runs at least")(
      "repetitions", po::value(&a.repetitions)->default_value(1), "repetitions of each benchmark (each stored)")(
      "device", po::value(&a.device_name)->default_value("cpu"), "cpu, cuda or auto")(
      "threads", po::value(&a.threads)->default_value(0), "LibTorch intra-op threads; 0: every core")(
      "smoke", po::bool_switch(&a.smoke),
      "every suite at its tiny size, briefly (CI): a check that they run, not a timing")(
      "list", po::bool_switch(&a.list), "list the benchmarks (after --filter) and exit")(
      "json", po::value(&a.json), "also write Google Benchmark's JSON to this file")(
      "vs-python", po::bool_switch(&a.vs_python),
      "race the SimCLR+SEM training step against tests/bench/python_reference.py (eager and torch.compile) instead")(
      "race-repetitions", po::value(&a.race.repetitions)->default_value(3),
      "--vs-python: repetitions of each contestant")("race-steps", po::value(&a.race.steps)->default_value(10),
                                                     "--vs-python: timed steps per repetition")(
      "race-backbones", po::value(&a.race_backbones)->default_value(a.race_backbones),
      "--vs-python: comma list of convnet, resnet18")("race-batch", po::value(&a.race_batch)->default_value(256),
                                                      "--vs-python: batch size")(
      "no-compile", "--vs-python: leave torch.compile out")(
      "python", po::value(&a.race.python)->default_value(a.race.python), "--vs-python: the Python with torch")(
      "script", po::value(&a.race.script)->default_value(a.race.script), "--vs-python: the Python reference");
  if (!cli.parse(args,
                 "Runs the Google Benchmark suites (tests/bench/): the SEM softmax fused and unfused against the\n"
                 "memory floor (memory/copy), the augmentation pipeline, one training step of each backbone x\n"
                 "method with and without SEM, the linear probe epoch. Every result is stored in the database's\n"
                 "timings table (run_id NULL, with its parameters and this invocation's session) and shows in\n"
                 "`semharness report`. Exit 1 when a benchmark reports an error.\n")) {
    return 0;
  }
  if (a.min_time <= 0)
    throw InputError(fmt::format("--min-time {}: expected a positive number of seconds", a.min_time));
  if (a.repetitions < 1) throw InputError(fmt::format("--repetitions {}: expected 1 or more", a.repetitions));
  if (a.threads < 0) throw InputError(fmt::format("--threads {}: expected 0 (every core) or more", a.threads));
  if (a.race.repetitions < 1 || a.race.steps < 1 || a.race_batch < 2) {
    throw InputError("--race-repetitions, --race-steps: expected 1 or more; --race-batch: 2 or more");
  }
  if (a.smoke) {
    if (a.filter.empty())
      a.filter = kSmokeFilter;
    else
      a.filter = "(" + a.filter + ").*(" + kSmokeFilter + ")";
    a.min_time = 0.01;
  }
  const int threads = a.threads > 0 ? a.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  a.race.threads = threads;
  a.race.compile = !cli.given("no-compile");
  const c10::Device device = resolve_device(a.device_name);
  bench_context().device = device;

  const std::string session = utc_now();
  if (!a.list) {
    std::cout << compute_backends_line() << "\n";
    if (device.is_cuda()) std::cout << fmt::format("device {}\n", device.str());
  }
  if (a.vs_python) {
    Store store(a.db);
    return run_race(a, store, session);
  }

  std::vector<std::string> flags = benchmark_flags(a);
  std::vector<char*> argv;
  for (auto& flag : flags) argv.push_back(flag.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  if (benchmark::ReportUnrecognizedArguments(argc, argv.data())) return 2;
  CollectingReporter reporter(device.str(), ::isatty(STDOUT_FILENO) != 0);
  const size_t matched = benchmark::RunSpecifiedBenchmarks(&reporter);
  if (a.list) return 0;
  if (matched == 0)
    throw InputError(fmt::format("--filter '{}': matches no benchmark (bench --list shows them)", a.filter));

  std::vector<BenchmarkRow> rows;
  for (const auto& result : reporter.results()) rows.push_back(result.row);
  Store store(a.db);
  store.add_benchmark_rows(session, rows);
  if (auto floor = memory_floor_table(rows)) std::cout << "\n" << render_text_table(*floor);
  std::cout << fmt::format("\nstored {} benchmark rows in {} (session {})\n", rows.size(), store.path(), session);
  if (reporter.errors() > 0) {
    std::cerr << fmt::format("semharness bench: {} benchmarks reported an error (see above)\n", reporter.errors());
    return 1;
  }
  return 0;
}

}  // namespace semharness
