#pragma once
// Wall time per phase of the training step (data, augment, forward, backward, optimizer, ...). On CUDA the
// clock is only meaningful after a device synchronisation, so there the device is synchronised around a
// phase only on sampled steps (one in `cuda_sample_every`); other steps run without any host sync. Each phase
// is also a profiler scope, "phase:<name>" (harness/train/op_profile.h): the time a phase spends outside any
// operator (autograd's engine between its backward nodes, host code) is that scope's own.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <ATen/record_function.h>
#include <c10/core/Device.h>

#include "harness/store/records.h"

namespace semharness {

class PhaseTimer {
 public:
  explicit PhaseTimer(c10::Device device, int64_t cuda_sample_every = 50);

  // Marks the start of a training step; decides whether this step is timed.
  void begin_step();
  template <typename Fn>
  auto time(const std::string& name, Fn&& fn) -> decltype(fn()) {
    at::RecordFunction scope(at::RecordScope::USER_SCOPE);
    if (scope.isActive()) scope.before(profiler_scope_name(name));
    if (!sampled_) return fn();
    synchronize();
    const auto start = std::chrono::steady_clock::now();
    struct Stop {
      PhaseTimer* timer;
      const std::string& name;
      std::chrono::steady_clock::time_point start;
      ~Stop() {
        timer->synchronize();
        timer->add(name, start);
      }
    } stop{this, name, start};
    return fn();
  }
  // Adds a measurement taken outside time() (e.g. a whole probe).
  void add_ms(const std::string& name, double ms);
  std::vector<TimingRow> rows() const;

 private:
  void add(const std::string& name, std::chrono::steady_clock::time_point start);
  // "phase:<name>", kept for the life of the process (the profiler may keep the pointer until it stops).
  static const char* profiler_scope_name(const std::string& name);
  void synchronize() const;

  c10::Device device_;
  int64_t sample_every_;
  int64_t step_ = -1;
  bool sampled_ = true;
  std::map<std::string, std::pair<int64_t, double>> totals_;  // name -> (count, total ms)
};

}  // namespace semharness
