#include "harness/train/op_profile.h"

#include <algorithm>
#include <map>
#include <set>
#include <cstdlib>
#include <stdexcept>
#include <tuple>
#include <utility>

#include <ATen/record_function.h>
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

constexpr size_t kNone = static_cast<size_t>(-1);

// Indices per thread (kernels in a space of their own) in start order, the longer of two that start together
// first: a parent comes before the intervals nested in it.
std::vector<size_t> nesting_order(const std::vector<OpInterval>& intervals) {
  std::vector<size_t> order(intervals.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) {
    const OpInterval& a = intervals[i];
    const OpInterval& b = intervals[j];
    return std::make_tuple(a.kernel, a.thread, a.start_ns, b.end_ns) <
           std::make_tuple(b.kernel, b.thread, b.start_ns, a.end_ns);
  });
  return order;
}

// Each interval's parent: the innermost interval of its thread that is open (has not ended) when it starts;
// kNone for none.
std::vector<size_t> parents(const std::vector<OpInterval>& intervals, const std::vector<size_t>& order) {
  std::vector<size_t> parent(intervals.size(), kNone);
  std::vector<size_t> open;
  for (const size_t i : order) {
    const OpInterval& current = intervals[i];
    while (!open.empty() &&
           (intervals[open.back()].thread != current.thread || intervals[open.back()].kernel != current.kernel ||
            intervals[open.back()].end_ns <= current.start_ns)) {
      open.pop_back();
    }
    if (!open.empty()) parent[i] = open.back();
    open.push_back(i);
  }
  return parent;
}

}  // namespace

std::vector<OpProfileRow> aggregate_ops(std::vector<OpInterval> intervals) {
  const std::vector<size_t> order = nesting_order(intervals);
  const std::vector<size_t> parent = parents(intervals, order);
  std::vector<uint64_t> nested_ns(intervals.size(), 0);
  for (size_t i = 0; i < intervals.size(); ++i) {
    if (parent[i] == kNone) continue;
    const OpInterval& current = intervals[i];
    nested_ns[parent[i]] += std::min(current.end_ns, intervals[parent[i]].end_ns) - current.start_ns;
  }
  std::map<std::tuple<bool, bool, std::string, std::string>, OpProfileRow> rows;
  for (size_t i = 0; i < intervals.size(); ++i) {
    const OpInterval& interval = intervals[i];
    OpProfileRow& row = rows[{interval.kernel, interval.in_part, interval.name, interval.shapes}];
    row.kernel = interval.kernel;
    row.in_part = interval.in_part;
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

void mark_part(std::vector<OpInterval>& intervals, const std::string& scope_prefix) {
  const std::vector<size_t> order = nesting_order(intervals);
  const std::vector<size_t> parent = parents(intervals, order);
  // In nesting order a parent comes before its children, so one pass carries a mark down the tree.
  const auto inherit = [&] {
    for (const size_t i : order) {
      if (parent[i] != kNone && intervals[parent[i]].in_part) intervals[i].in_part = true;
    }
  };
  for (auto& interval : intervals) {
    interval.in_part = !interval.kernel && interval.name.compare(0, scope_prefix.size(), scope_prefix) == 0;
  }
  inherit();
  std::set<std::pair<uint64_t, int64_t>> forward_ops;  // (thread, sequence number)
  for (const auto& interval : intervals) {
    if (interval.in_part && !interval.kernel && !interval.backward && interval.sequence >= 0) {
      forward_ops.insert({interval.thread, interval.sequence});
    }
  }
  for (auto& interval : intervals) {
    if (interval.backward && interval.sequence >= 0 &&
        forward_ops.count({interval.forward_thread, interval.sequence}) > 0) {
      interval.in_part = true;
    }
  }
  inherit();
  std::set<uint64_t> part_correlations;
  for (const auto& interval : intervals) {
    if (interval.in_part && !interval.kernel && interval.correlation != 0)
      part_correlations.insert(interval.correlation);
  }
  for (auto& interval : intervals) {
    if (interval.kernel && part_correlations.count(interval.linked_correlation) > 0) interval.in_part = true;
  }
}

std::vector<ProfileRow> profile_rows(std::vector<OpInterval> intervals, int64_t steps, double wall_ms,
                                     const std::string& device) {
  std::vector<ProfileRow> out;
  double cpu_self_ms = 0;
  for (const OpProfileRow& row : aggregate_ops(std::move(intervals))) {
    const double self_ms = row.self_us / 1e3;
    if (!row.kernel) cpu_self_ms += self_ms;
    out.push_back({"", device, row.kernel ? kProfileKernel : kProfileOperator,
                   row.in_part ? kProfileSemPart : kProfileRestPart, row.name, row.shapes, steps, row.calls, self_ms,
                   row.total_us / 1e3, wall_ms > 0 ? self_ms / wall_ms : 0});
  }
  const double outside_ms = std::max(0.0, wall_ms - cpu_self_ms);
  out.push_back({"", device, kProfileOperator, kProfileRestPart, kOutsideOperators, "", steps, 0, outside_ms,
                 outside_ms, wall_ms > 0 ? outside_ms / wall_ms : 0});
  return out;
}

OpProfiler::OpProfiler() = default;

OpProfiler::~OpProfiler() {
  if (running_) kineto::disableProfiler();
}

void OpProfiler::start(bool cuda) {
  if (running_) throw std::logic_error("OpProfiler::start: already recording");
  // Kineto logs every start and stop (and, without a GPU, a failed device count) to stderr, between the
  // progress lines; its log level is read when it first starts. A user's own KINETO_LOG_LEVEL wins.
  setenv("KINETO_LOG_LEVEL", "6", /*overwrite=*/0);
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
    OpInterval interval{kernel ? static_cast<uint64_t>(event.deviceResourceId()) : event.startThreadId(),
                        kernel,
                        event.startNs(),
                        event.endNs(),
                        event.name(),
                        shapes_text(event)};
    interval.sequence = event.sequenceNr();
    interval.backward = event.scope() == static_cast<uint8_t>(at::RecordScope::BACKWARD_FUNCTION);
    interval.forward_thread = event.fwdThreadId();
    if (kernel) {
      interval.linked_correlation = event.linkedCorrelationId();
    } else {
      interval.correlation = event.correlationId();
    }
    out.push_back(std::move(interval));
  }
  if (!trace_path.empty()) result->save(trace_path);
  return out;
}

}  // namespace semharness
