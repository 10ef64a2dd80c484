#include "harness/train/phase_timer.h"

#include <mutex>
#include <set>

#include "harness/train/device.h"

namespace semharness {

PhaseTimer::PhaseTimer(c10::Device device, int64_t cuda_sample_every)
    : device_(device), sample_every_(device.is_cuda() ? std::max<int64_t>(1, cuda_sample_every) : 1) {}

void PhaseTimer::begin_step() {
  ++step_;
  sampled_ = step_ % sample_every_ == 0;
}

void PhaseTimer::synchronize() const { semharness::synchronize(device_); }

const char* PhaseTimer::profiler_scope_name(const std::string& name) {
  static std::mutex mutex;
  static std::set<std::string> names;
  std::lock_guard<std::mutex> lock(mutex);
  return names.insert("phase:" + name).first->c_str();
}

void PhaseTimer::add(const std::string& name, std::chrono::steady_clock::time_point start) {
  add_ms(name, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}

void PhaseTimer::add_ms(const std::string& name, double ms) {
  auto& total = totals_[name];
  total.first += 1;
  total.second += ms;
}

std::vector<TimingRow> PhaseTimer::rows() const {
  std::vector<TimingRow> out;
  for (const auto& [name, total] : totals_) out.push_back({name, device_.str(), total.first, total.second});
  return out;
}

}  // namespace semharness
