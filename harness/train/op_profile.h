#pragma once
// Where a training step's time goes, by operator: LibTorch's profiler (Kineto) records the operators that
// run between start() and stop() (CPU operators and autograd's backward nodes; on CUDA also the kernels),
// and aggregate_ops() sums them per (operator, input shapes) into calls, total and self time. Self time is
// an operator's own duration less that of the operators nested directly in it on the same thread, so that
// the self times of one thread add up to the time it spent inside any operator. mark_part() tells which calls
// belong to a part of the model (the SEM block): those inside a scope whose name starts with a prefix, the
// backward nodes of the forward operators among them, and the device kernels they launched. Torch-free header.
#include <cstdint>
#include <string>
#include <vector>

#include "harness/store/records.h"

namespace semharness {

// One recorded operator call (or device kernel): the thread (or stream) it started on, its interval, its name
// and input shapes.
struct OpInterval {
  uint64_t thread = 0;
  bool kernel = false;  // a device kernel: its thread is the stream, a space of its own
  uint64_t start_ns = 0, end_ns = 0;
  std::string name;
  std::string shapes;  // e.g. "[[128, 256], [256, 1024]]"; empty when not recorded
  // Autograd's link from a backward node to the forward operators that made it: a forward operator's sequence
  // number on its thread; a backward node's (backward true) sequence number and the thread of its forward.
  int64_t sequence = -1;
  bool backward = false;
  uint64_t forward_thread = 0;
  // A CPU operator's correlation id; a kernel's linked_correlation is that of the operator that launched it.
  uint64_t correlation = 0, linked_correlation = 0;
  bool in_part = false;  // set by mark_part()
};

struct OpProfileRow {
  std::string name, shapes;
  bool kernel = false;
  bool in_part = false;
  int64_t calls = 0;
  double self_us = 0, total_us = 0;
};

// Per (kernel, in_part, name, shapes): calls, total and self time; sorted by self time, largest first.
// Intervals that overlap without nesting (on the same thread) are taken as nested in the earlier one as far as
// they overlap.
std::vector<OpProfileRow> aggregate_ops(std::vector<OpInterval> intervals);

// Sets in_part on the calls of a part of the model: every call inside (or being) a CPU scope whose name starts
// with scope_prefix; every backward node whose forward operator is one of those, and the calls inside it;
// every kernel launched by a call of the part.
void mark_part(std::vector<OpInterval>& intervals, const std::string& scope_prefix);

// The stored lines of a recording of `steps` training steps that took wall_ms on `device`, its calls marked by
// mark_part (the part: kProfileSemPart): one per (kind, part, name, shapes), largest self time first, and one
// kOutsideOperators line after them with the wall time the CPU operators' self times leave (at least 0).
std::vector<ProfileRow> profile_rows(std::vector<OpInterval> intervals, int64_t steps, double wall_ms,
                                     const std::string& device);

// Records operators from start() to stop(); one at a time per process (LibTorch's profiler is global).
class OpProfiler {
 public:
  OpProfiler();
  ~OpProfiler();
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;

  void start(bool cuda);
  // Ends the recording; writes the Chrome trace (Perfetto, chrome://tracing) to trace_path unless it is empty.
  std::vector<OpInterval> stop(const std::string& trace_path = "");
  bool running() const { return running_; }

 private:
  bool running_ = false;
};

}  // namespace semharness
