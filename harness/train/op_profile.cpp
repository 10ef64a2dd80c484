#include "harness/train/op_profile.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include <torch/csrc/autograd/profiler_kineto.h>

namespace semharness {
namespace {

namespace kineto = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

ProfilerConfig recording_shapes() {
  return ProfilerConfig(ProfilerState::KINETO, /*report_input_shapes=*/true, /*profile_memory=*/false,
                        /*with_stack=*/false, /*with_flops=*/false, /*with_modules=*/false);
}

std::set<ActivityType> activities(bool cuda) {
  std::set<ActivityType> out{ActivityType::CPU};
  if (cuda) out.insert(ActivityType::CUDA);
  return out;
}

std::string shapes_text(const kineto::KinetoEvent& event) {
  if (!event.hasShapes()) return "";
  std::string out = "[";
  bool first_input = true;
  for (const auto& shape : event.shapes()) {
    out += first_input ? "[" : ", [";
    first_input = false;
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    out += "]";
  }
  return out + "]";
}

}  // namespace

std::vector<OpProfileRow> aggregate_ops(std::vector<OpInterval> intervals) {
  // Per thread in start order, the longer of two that start together first: each interval's parent is the
  // innermost open interval that has not ended when it starts.
  std::sort(intervals.begin(), intervals.end(), [](const OpInterval& a, const OpInterval& b) {
    return std::make_tuple(a.kernel, a.thread, a.start_ns, b.end_ns) <
           std::make_tuple(b.kernel, b.thread, b.start_ns, a.end_ns);
  });
  std::vector<uint64_t> nested_ns(intervals.size(), 0);
  std::vector<size_t> open;
  for (size_t i = 0; i < intervals.size(); ++i) {
    const OpInterval& current = intervals[i];
    while (!open.empty() &&
           (intervals[open.back()].thread != current.thread || intervals[open.back()].kernel != current.kernel ||
            intervals[open.back()].end_ns <= current.start_ns)) {
      open.pop_back();
    }
    if (!open.empty()) {
      const OpInterval& parent = intervals[open.back()];
      nested_ns[open.back()] += std::min(current.end_ns, parent.end_ns) - current.start_ns;
    }
    open.push_back(i);
  }
  std::map<std::tuple<bool, std::string, std::string>, OpProfileRow> rows;
  for (size_t i = 0; i < intervals.size(); ++i) {
    const OpInterval& interval = intervals[i];
    OpProfileRow& row = rows[{interval.kernel, interval.name, interval.shapes}];
    row.kernel = interval.kernel;
    row.name = interval.name;
    row.shapes = interval.shapes;
    const uint64_t duration = interval.end_ns - interval.start_ns;
    row.calls += 1;
    row.total_us += static_cast<double>(duration) / 1e3;
    row.self_us += static_cast<double>(duration - std::min(duration, nested_ns[i])) / 1e3;
  }
  std::vector<OpProfileRow> out;
  out.reserve(rows.size());
  for (auto& [key, row] : rows) out.push_back(std::move(row));
  std::stable_sort(out.begin(), out.end(),
                   [](const OpProfileRow& a, const OpProfileRow& b) { return a.self_us > b.self_us; });
  return out;
}

OpProfiler::OpProfiler() = default;

OpProfiler::~OpProfiler() {
  if (running_) kineto::disableProfiler();
}

void OpProfiler::start(bool cuda) {
  if (running_) throw std::logic_error("OpProfiler::start: already recording");
  const ProfilerConfig config = recording_shapes();
  const std::set<ActivityType> recorded = activities(cuda);
  kineto::prepareProfiler(config, recorded);
  kineto::enableProfiler(config, recorded);
  running_ = true;
}

std::vector<OpInterval> OpProfiler::stop(const std::string& trace_path) {
  if (!running_) throw std::logic_error("OpProfiler::stop: not recording");
  running_ = false;
  auto result = kineto::disableProfiler();
  std::vector<OpInterval> out;
  out.reserve(result->events().size());
  for (const auto& event : result->events()) {
    if (event.endNs() < event.startNs()) continue;
    const bool kernel = event.deviceType() != c10::DeviceType::CPU;
    out.push_back({kernel ? static_cast<uint64_t>(event.deviceResourceId()) : event.startThreadId(), kernel,
                   event.startNs(), event.endNs(), event.name(), shapes_text(event)});
  }
  if (!trace_path.empty()) result->save(trace_path);
  return out;
}

}  // namespace semharness
