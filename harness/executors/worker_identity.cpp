#include "harness/executors/worker_identity.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <fstream>
#include <limits>

namespace semharness {
namespace {

// Whether pid is a live semharness process on this host (a recycled pid of another program is not).
bool semharness_process_alive(long pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
  std::string first;
  std::getline(cmdline, first, '\0');
  if (!cmdline && first.empty()) return true;  // cannot look (another user's process): assume alive
  return first.find("semharness") != std::string::npos;
}

}  // namespace

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::string this_worker() { return host_name() + ":" + std::to_string(::getpid()); }

double seconds_since(const std::string& utc_stamp) {
  std::tm utc{};
  if (utc_stamp.empty() || ::strptime(utc_stamp.c_str(), "%Y-%m-%dT%H:%M:%SZ", &utc) == nullptr) {
    return std::numeric_limits<double>::infinity();
  }
  return std::difftime(std::time(nullptr), ::timegm(&utc));
}

bool is_abandoned(const RunRecord& run, double stale_after_seconds) {
  if (seconds_since(run.heartbeat_at) > stale_after_seconds) return true;
  const auto colon = run.worker.rfind(':');
  if (colon == std::string::npos) return true;
  if (run.worker.substr(0, colon) != host_name()) return false;
  long pid = 0;
  try {
    pid = std::stol(run.worker.substr(colon + 1));
  } catch (const std::exception&) {
    return true;
  }
  return !semharness_process_alive(pid);
}

}  // namespace semharness
