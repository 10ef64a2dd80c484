#include "harness/bench/python_race.h"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>

#include <fmt/format.h>
#include <torch/torch.h>

#include "harness/bench/step_workload.h"
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
  return {{"backbone", c.backbone}, {"method", "simclr"}, {"sem", "on"}, {"sem.L", std::to_string(c.L)},
          {"sem.V", std::to_string(c.V)}, {"batch_size", std::to_string(c.batch)}};
}

// images/s of `steps` semharness training steps after `warmup` untimed ones (median step time).
double time_semharness(StepWorkload& workload, const RaceOptions& options) {
  const c10::Device cpu(c10::kCPU);
  for (int i = 0; i < options.warmup; ++i) workload.step();
  std::vector<double> seconds;
  for (int i = 0; i < options.steps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    workload.step();
    synchronize(cpu);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return static_cast<double>(workload.batch()) / median(seconds);
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

// One run of the Python reference: its images/s, or the reason it has none.
std::pair<std::optional<double>, std::string> time_python(const RaceCase& c, const std::string& mode,
                                                          const RaceOptions& options) {
  const ImageShape shape = benchmark_image_shape(c.backbone);
  const std::vector<std::string> words = {
      options.python, options.script, "--backbone", c.backbone, "--method", "simclr", "--sem", "on",
      "--L", std::to_string(c.L), "--V", std::to_string(c.V), "--batch", std::to_string(c.batch),
      "--image", fmt::format("{}x{}x{}", shape.channels, shape.height, shape.width),
      "--steps", std::to_string(options.steps), "--warmup", std::to_string(options.warmup),
      "--threads", std::to_string(options.threads), "--mode", mode, "--json"};
  const CommandOutput result = capture(shell_join(words));
  static const std::regex rate(R"("images_per_second"\s*:\s*([0-9.eE+-]+))");
  std::smatch match;
  if (result.status == 0 && std::regex_search(result.text, match, rate)) return {std::stod(match[1]), ""};
  std::string last_line = result.text;
  while (!last_line.empty() && last_line.back() == '\n') last_line.pop_back();
  last_line = last_line.substr(last_line.rfind('\n') == std::string::npos ? 0 : last_line.rfind('\n') + 1);
  return {std::nullopt, fmt::format("exit {}: {}", result.status, last_line)};
}

}  // namespace

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

std::vector<RaceEntry> run_python_race(const std::vector<RaceCase>& cases, const RaceOptions& options, std::ostream& out) {
  if (!std::filesystem::exists(options.python)) {
    throw InputError(fmt::format("--python {}: no such interpreter (scripts/setup.sh makes .venv)", options.python));
  }
  if (!std::filesystem::exists(options.script)) {
    throw InputError(fmt::format("{}: the Python reference is missing (run bench from the repository root)", options.script));
  }
  torch::set_num_threads(options.threads);
  std::vector<std::string> impls = {"semharness", "python-eager"};
  if (options.compile) impls.push_back("python-compile");
  std::vector<RaceEntry> entries;
  for (const RaceCase& c : cases) {
    StepWorkload workload(race_settings(c), c10::Device(c10::kCPU));
    std::map<std::string, RaceEntry> by_impl;
    for (const auto& impl : impls) by_impl[impl] = {c.name, impl, {}, ""};
    for (int rep = 0; rep < options.repetitions; ++rep) {
      for (const auto& impl : impls) {
        RaceEntry& entry = by_impl[impl];
        if (!entry.error.empty()) continue;  // a contestant that failed once (e.g. no compiler) is not retried
        out << fmt::format("race {}: repetition {}/{}: {} ...", c.name, rep + 1, options.repetitions, impl) << std::flush;
        if (impl == "semharness") {
          entry.images_per_second.push_back(time_semharness(workload, options));
        } else {
          auto [rate, error] = time_python(c, impl == "python-eager" ? "eager" : "compile", options);
          if (rate) entry.images_per_second.push_back(*rate);
          entry.error = error;
        }
        out << (entry.error.empty() ? fmt::format(" {:.1f} images/s\n", entry.images_per_second.back())
                                    : fmt::format(" failed ({})\n", entry.error));
      }
    }
    for (const auto& impl : impls) entries.push_back(by_impl[impl]);
  }

  out << fmt::format("\nrace: SimCLR training step (forward of two views, loss, backward, LARS/SGD step, online "
                     "classifier), CPU, {} threads; median of {} repetitions x {} steps\n",
                     options.threads, options.repetitions, options.steps);
  std::vector<std::vector<std::string>> rows = {{"case", "batch", "semharness", "python eager", "python compile",
                                                 "vs eager", "vs compile"}};
  for (const RaceCase& c : cases) {
    std::map<std::string, double> rate;
    for (const auto& e : entries) {
      if (e.case_name == c.name && e.error.empty() && !e.images_per_second.empty()) rate[e.impl] = median(e.images_per_second);
    }
    const auto cell = [&](const std::string& impl) { return rate.count(impl) ? fmt::format("{:.1f}", rate[impl]) : "-"; };
    const auto ratio = [&](const std::string& impl) {
      return rate.count(impl) && rate.count("semharness") ? fmt::format("{:.2f}x", rate["semharness"] / rate[impl]) : "-";
    };
    rows.push_back({c.name, std::to_string(c.batch), cell("semharness"), cell("python-eager"), cell("python-compile"),
                    ratio("python-eager"), ratio("python-compile")});
  }
  size_t widths[7] = {};
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line = fmt::format("{:<{}}", row[0], widths[0]);
    for (size_t i = 1; i < row.size(); ++i) line += fmt::format("  {:>{}}", row[i], widths[i]);
    out << line << "\n";
  }
  out << "images/s; ratios = semharness / Python (above 1: semharness is faster)\n";
  for (const auto& e : entries) {
    if (!e.error.empty()) out << fmt::format("{} {}: {}\n", e.case_name, e.impl, e.error);
  }
  return entries;
}

std::vector<BenchmarkRow> race_rows(const std::vector<RaceEntry>& entries, const std::vector<RaceCase>& cases) {
  std::vector<BenchmarkRow> rows;
  for (const auto& e : entries) {
    if (!e.error.empty() || e.images_per_second.empty()) continue;
    const auto c = std::find_if(cases.begin(), cases.end(), [&](const RaceCase& rc) { return rc.name == e.case_name; });
    const double rate = median(e.images_per_second);
    BenchmarkRow row;
    row.name = "race/" + e.impl;
    row.params = fmt::format("{} B={}", e.case_name, c->batch);
    row.device = "cpu";
    row.count = 1;
    row.total_ms = static_cast<double>(c->batch) / rate * 1000.0;
    row.items_per_second = rate;
    rows.push_back(row);
  }
  return rows;
}

}  // namespace semharness
