#include "harness/train/phase_timer.h"

#include <mutex>
#include <set>

#include <c10/core/Event.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

namespace semharness {
namespace {

// Event pairs the device has not passed yet beyond this many: the host waits for the oldest, so that a host
// far ahead of the device does not pile up events.
constexpr size_t kMaxPendingEvents = 4096;

}  // namespace

PhaseTimer::PhaseTimer(c10::Device device) : device_(device) {}

PhaseTimer::~PhaseTimer() = default;

void PhaseTimer::begin_step() { read_events(/*wait=*/false); }

PhaseTimer::Mark PhaseTimer::start() {
  if (!device_.is_cuda()) return {std::chrono::steady_clock::now(), nullptr};
  return {{}, recorded_event()};
}

void PhaseTimer::stop(const std::string& name, const Mark& mark) {
  if (!mark.event) {
    add(name, mark.clock);
    return;
  }
  pending_.push_back({name, mark.event, recorded_event()});
  if (pending_.size() > kMaxPendingEvents) pending_.front().stop->synchronize();
}

std::shared_ptr<c10::Event> PhaseTimer::recorded_event() {
  std::shared_ptr<c10::Event> event;
  if (spare_events_.empty()) {
    // BACKEND_DEFAULT: an event that records its time (PyTorch's default event does not).
    event = std::make_shared<c10::Event>(device_.type(), c10::EventFlag::BACKEND_DEFAULT);
  } else {
    event = std::move(spare_events_.back());
    spare_events_.pop_back();
  }
  event->record(c10::impl::getDeviceGuardImpl(device_.type())->getStream(device_));
  return event;
}

void PhaseTimer::read_events(bool wait) {
  while (!pending_.empty()) {
    Pending& oldest = pending_.front();
    if (wait) {
      oldest.stop->synchronize();
    } else if (!oldest.stop->query()) {
      return;
    }
    add_ms(oldest.name, oldest.start->elapsedTime(*oldest.stop));
    spare_events_.push_back(std::move(oldest.start));
    spare_events_.push_back(std::move(oldest.stop));
    pending_.pop_front();
  }
}

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

std::vector<TimingRow> PhaseTimer::rows() {
  read_events(/*wait=*/true);
  std::vector<TimingRow> out;
  for (const auto& [name, total] : totals_) out.push_back({name, device_.str(), total.first, total.second});
  return out;
}

}  // namespace semharness
