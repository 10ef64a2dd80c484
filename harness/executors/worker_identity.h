#pragma once
// Who runs a run, and when a run marked running has been abandoned by its worker. A worker is "host:pid".
// A run is abandoned when its heartbeat is older than the stale timeout, or at once when its worker ran on
// this host and that process is gone (killed, crashed): the next `run` picks it up without waiting.
// Torch-free.
#include <string>

#include "harness/store/records.h"

namespace semharness {

std::string host_name();
// "host:pid" of this process.
std::string this_worker();
// Seconds since a UTC time stamp written by the store ("%Y-%m-%dT%H:%M:%SZ"); a huge number when empty or
// unreadable, so such a run counts as stale.
double seconds_since(const std::string& utc_stamp);
bool is_abandoned(const RunRecord& run, double stale_after_seconds);

}  // namespace semharness
