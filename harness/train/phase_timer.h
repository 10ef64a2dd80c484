#pragma once
// Time per phase of the training step (data, augment, forward, backward, optimizer, ...). On the CPU a phase is
// its wall time. On CUDA a phase is its device time, measured by events recorded on the current stream before
// and after it: no host synchronisation; an event pair is read once the device has passed it (at the next
// step's start when it has, or when the rows are asked for). Host-side waits (time_host) are wall time on
// either device. Each phase is also a profiler scope, "phase:<name>" (harness/train/op_profile.h): the time a
// phase spends outside any operator (autograd's engine between its backward nodes, host code) is that
// scope's own.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/record_function.h>
#include <c10/core/Device.h>

#include "harness/store/records.h"

namespace c10 {
struct Event;
}

namespace semharness {

class PhaseTimer {
 public:
  explicit PhaseTimer(c10::Device device);
  ~PhaseTimer();
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

  // Marks the start of a training step; reads the event pairs the device has passed.
  void begin_step();
  // Times fn() as phase `name`: device time on CUDA, wall time on the CPU.
  template <typename Fn>
  auto time(const std::string& name, Fn&& fn) -> decltype(fn()) {
    at::RecordFunction scope(at::RecordScope::USER_SCOPE);
    if (scope.isActive()) scope.before(profiler_scope_name(name));
    struct Stop {
      PhaseTimer* timer;
      const std::string& name;
      Mark mark;
      ~Stop() { timer->stop(name, mark); }
    } stop{this, name, start()};
    return fn();
  }
  // Times fn() as phase `name` by the host's clock: for waits on the host (a prefetched batch).
  template <typename Fn>
  auto time_host(const std::string& name, Fn&& fn) -> decltype(fn()) {
    at::RecordFunction scope(at::RecordScope::USER_SCOPE);
    if (scope.isActive()) scope.before(profiler_scope_name(name));
    struct Stop {
      PhaseTimer* timer;
      const std::string& name;
      std::chrono::steady_clock::time_point start;
      ~Stop() { timer->add(name, start); }
    } stop{this, name, std::chrono::steady_clock::now()};
    return fn();
  }
  // Adds a measurement taken outside time() (e.g. a whole probe).
  void add_ms(const std::string& name, double ms);
  // Every phase's count and total; on CUDA waits for the event pairs still in flight.
  std::vector<TimingRow> rows();

 private:
  // Where a phase started: the clock (CPU) or an event recorded on the stream (CUDA).
  struct Mark {
    std::chrono::steady_clock::time_point clock;
    std::shared_ptr<c10::Event> event;
  };
  struct Pending {
    std::string name;
    std::shared_ptr<c10::Event> start, stop;
  };
  Mark start();
  void stop(const std::string& name, const Mark& mark);
  void add(const std::string& name, std::chrono::steady_clock::time_point start);
  std::shared_ptr<c10::Event> recorded_event();
  // Reads the pending pairs in order while the device has passed them (all of them when wait).
  void read_events(bool wait);
  // "phase:<name>", kept for the life of the process (the profiler may keep the pointer until it stops).
  static const char* profiler_scope_name(const std::string& name);

  c10::Device device_;
  std::deque<Pending> pending_;
  std::vector<std::shared_ptr<c10::Event>> spare_events_;
  std::map<std::string, std::pair<int64_t, double>> totals_;  // name -> (count, total ms)
};

}  // namespace semharness
