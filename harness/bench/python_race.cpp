#include "harness/bench/python_race.h"

#include <dlfcn.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "harness/bench/step_workload.h"
#include "harness/config/run_config.h"
#include "harness/config/errors.h"
#include "harness/config/shell_words.h"
#include "harness/train/device.h"

namespace semharness {
namespace {

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

std::map<std::string, std::string> race_settings(const RaceCase& c) {
  return {{"backbone", c.backbone},       {"method", "simclr"},           {"sem", "on"},
          {"sem.L", std::to_string(c.L)}, {"sem.V", std::to_string(c.V)}, {"batch_size", std::to_string(c.batch)},
          {"optimizer", "lars"}};
}

// Median seconds of `steps` calls of fn after `warmup` untimed ones (CPU: nothing to synchronise).
template <typename Fn>
double median_seconds(int warmup, int steps, Fn&& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> seconds;
  for (int i = 0; i < steps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return median(seconds);
}

// FLOP/s of float32 2048 x 2048 products with LibTorch's BLAS, the best of a few.
double matmul_peak() {
  const int64_t n = 2048;
  const auto a = torch::randn({n, n}), b = torch::randn({n, n});
  auto c = torch::empty({n, n});
  double best = 0;
  for (int i = 0; i < 8; ++i) {
    const auto start = std::chrono::steady_clock::now();
    torch::mm_out(c, a, b);
    best = std::max(best,
                    2.0 * n * n * n / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// The result python_reference.py --json prints: the last line of its output that is a JSON object (stderr,
// mixed in, may hold anything else). An empty object when there is none.
nlohmann::json result_object(const std::string& output) {
  std::istringstream lines(output);
  nlohmann::json result = nlohmann::json::object();
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() != '{') continue;
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) result = std::move(parsed);
  }
  return result;
}

// result[key] when it is a number, else 0.
double number_at(const nlohmann::json& result, const std::string& key) {
  const auto found = result.find(key);
  return found != result.end() && found->is_number() ? found->get<double>() : 0.0;
}

struct CommandOutput {
  int status = -1;
  std::string text;  // stdout and stderr
};

CommandOutput capture(const std::string& command) {
  CommandOutput out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((command + " 2>&1").c_str(), "r"), ::pclose);
  if (!pipe) return out;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) out.text.append(buffer.data(), n);
  const int status = ::pclose(pipe.release());
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

struct PythonRun {
  std::optional<double> images_per_second;
  std::string error;      // why there is no number
  nlohmann::json result;  // the JSON line's object (empty when it printed none)
};

// One run of the Python reference on the configuration the workload trains.
PythonRun time_python(const RaceCase& c, const OptimizerOptions& optimizer, const std::string& mode,
                      const std::string& preload, bool count_flops, const RaceOptions& options) {
  const ImageShape shape = benchmark_image_shape(c.backbone);
  // The script's options as flag-value pairs, in the order the command line has always had them.
  const std::vector<std::pair<std::string, std::string>> flags = {
      {"--backbone", c.backbone},
      {"--method", "simclr"},
      {"--sem", "on"},
      {"--L", std::to_string(c.L)},
      {"--V", std::to_string(c.V)},
      {"--batch", std::to_string(c.batch)},
      {"--image", fmt::format("{}x{}x{}", shape.channels, shape.height, shape.width)},
      {"--steps", std::to_string(options.steps)},
      {"--warmup", std::to_string(options.warmup)},
      {"--threads", std::to_string(options.threads)},
      {"--mode", mode}};
  std::vector<std::string> words;
  if (!preload.empty()) words = {"env", "LD_PRELOAD=" + preload};
  words.insert(words.end(), {options.python, options.script});
  for (const auto& [flag, value] : flags) words.insert(words.end(), {flag, value});
  words.insert(words.end(), {"--json", "--optimizer", optimizer.name(), "--lr", format_float(optimizer.lr()), "--wd",
                             format_float(optimizer.weight_decay())});
  if (count_flops) words.push_back("--count-flops");
  const CommandOutput result = capture(shell_join(words));
  PythonRun run;
  run.result = result_object(result.text);
  const double rate = number_at(run.result, "images_per_second");
  if (result.status == 0 && rate > 0) {
    run.images_per_second = rate;
    return run;
  }
  std::string last_line = result.text;
  while (!last_line.empty() && last_line.back() == '\n') last_line.pop_back();
  last_line = last_line.substr(last_line.rfind('\n') == std::string::npos ? 0 : last_line.rfind('\n') + 1);
  run.error = fmt::format("exit {}: {}", result.status, last_line);
  return run;
}

}  // namespace

double RaceEntry::median_images_per_second() const { return median(images_per_second); }

std::string tcmalloc_library() {
  void* symbol = ::dlsym(RTLD_DEFAULT, "tc_malloc");
  Dl_info info{};
  if (symbol == nullptr || ::dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return "";
  const std::string path = info.dli_fname;
  // Linked statically, tcmalloc lives in the executable itself: nothing to preload.
  return path.find("tcmalloc") == std::string::npos ? "" : path;
}

std::vector<RaceCase> race_cases(const std::vector<std::string>& backbones, int64_t batch) {
  std::vector<RaceCase> cases;
  for (const auto& backbone : backbones) {
    if (backbone != "convnet" && backbone != "resnet18") {
      throw InputError(fmt::format("--race-backbones: expected convnet or resnet18, got '{}'", backbone));
    }
    cases.push_back({backbone + "+sem", backbone, 5000, 13, batch});
  }
  return cases;
}

RaceResult run_python_race(const std::vector<RaceCase>& cases, const RaceOptions& options, std::ostream& out) {
  if (!std::filesystem::exists(options.python)) {
    throw InputError(fmt::format("--python {}: no such interpreter (scripts/setup.sh makes .venv)", options.python));
  }
  if (!std::filesystem::exists(options.script)) {
    throw InputError(
        fmt::format("{}: the Python reference is missing (run bench from the repository root)", options.script));
  }
  torch::set_num_threads(options.threads);
  // Python's own allocator (glibc malloc) and the harness's, tcmalloc, preloaded: the allocator is the largest
  // single difference between the two processes (README "Benchmarks").
  const std::string tcmalloc = tcmalloc_library();
  std::vector<std::string> impls = {"semharness", "python-eager"};
  if (!tcmalloc.empty()) impls.push_back("python-eager-tcmalloc");
  if (options.compile) impls.push_back("python-compile");
  if (options.compile && !tcmalloc.empty()) impls.push_back("python-compile-tcmalloc");
  RaceResult race;
  std::vector<RaceEntry>& entries = race.entries;
  const double peak = matmul_peak();
  for (const RaceCase& c : cases) {
    StepWorkload workload(race_settings(c), c10::Device(c10::kCPU));
    RaceFlops flops;
    flops.case_name = c.name;
    flops.matmul_peak = peak;
    std::map<std::string, RaceEntry> by_impl;
    for (const auto& impl : impls) by_impl[impl] = {c.name, impl, {}, ""};
    for (int rep = 0; rep < options.repetitions; ++rep) {
      for (const auto& impl : impls) {
        RaceEntry& entry = by_impl[impl];
        if (!entry.error.empty()) continue;  // a contestant that failed once (e.g. no compiler) is not retried
        out << fmt::format("race {}: repetition {}/{}: {} ...", c.name, rep + 1, options.repetitions, impl)
            << std::flush;
        if (impl == "semharness") {
          const double seconds = median_seconds(options.warmup, options.steps, [&] { workload.step(); });
          entry.images_per_second.push_back(static_cast<double>(workload.batch()) / seconds);
        } else {
          const bool eager = impl.rfind("python-eager", 0) == 0;
          const bool preloaded = impl.size() > 9 && impl.compare(impl.size() - 9, 9, "-tcmalloc") == 0;
          const bool count = eager && flops.step_flops == 0;
          const PythonRun run = time_python(c, workload.spec().optimizer, eager ? "eager" : "compile",
                                            preloaded ? tcmalloc : "", count, options);
          if (run.images_per_second) entry.images_per_second.push_back(*run.images_per_second);
          entry.error = run.error;
          if (count && run.error.empty()) {
            flops.step_flops = number_at(run.result, "flops_per_step");
            flops.backbone_flops = number_at(run.result, "backbone_flops_per_step");
          }
        }
        out << (entry.error.empty() ? fmt::format(" {:.1f} images/s\n", entry.images_per_second.back())
                                    : fmt::format(" failed ({})\n", entry.error));
      }
    }
    for (const auto& impl : impls) entries.push_back(by_impl[impl]);
    if (flops.step_flops > 0) {
      flops.step_seconds = static_cast<double>(c.batch) / median(by_impl["semharness"].images_per_second);
      flops.backbone_seconds = median_seconds(1, options.steps, [&] { workload.backbone_step(); });
      race.flops.push_back(flops);
    }
  }

  return race;
}

std::vector<BenchmarkRow> race_rows(const RaceResult& race, const std::vector<RaceCase>& cases) {
  const std::vector<RaceEntry>& entries = race.entries;
  std::vector<BenchmarkRow> rows;
  for (const auto& e : entries) {
    if (!e.error.empty() || e.images_per_second.empty()) continue;
    const auto c = std::find_if(cases.begin(), cases.end(), [&](const RaceCase& rc) { return rc.name == e.case_name; });
    const double rate = e.median_images_per_second();
    BenchmarkRow row;
    row.name = "race/" + e.impl;
    row.params = fmt::format("{} B={}", e.case_name, c->batch);
    row.device = "cpu";
    row.count = 1;
    row.total_ms = static_cast<double>(c->batch) / rate * 1000.0;
    row.items_per_second = rate;
    rows.push_back(row);
  }
  for (const RaceFlops& f : race.flops) {
    const auto c = std::find_if(cases.begin(), cases.end(), [&](const RaceCase& rc) { return rc.name == f.case_name; });
    BenchmarkRow step{"race/flops/step",
                      fmt::format("{} B={}", f.case_name, c->batch),
                      "cpu",
                      1,
                      f.step_seconds * 1e3,
                      f.step_flops / f.step_seconds,
                      std::nullopt};
    BenchmarkRow backbone{
        "race/flops/backbone", step.params, "cpu", 1, f.backbone_seconds * 1e3, f.backbone_flops / f.backbone_seconds,
        std::nullopt};
    rows.push_back(step);
    rows.push_back(backbone);
  }
  return rows;
}

}  // namespace semharness
