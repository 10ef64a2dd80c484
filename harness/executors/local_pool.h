#pragma once
// The local executor behind `run --jobs N`: N copies of this executable, each a worker that claims runs
// from the shared database until none is left. Torch-free.
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace semharness {

struct WorkerProcess {
  std::vector<std::string> args;                                 // arguments after the program name
  std::vector<std::pair<std::string, std::string>> environment;  // added to this process's environment
};

// Starts every worker (this executable, from /proc/self/exe), each killed if this process dies, and waits
// for all of them. Returns how many did not exit with status 0.
int run_worker_processes(const std::vector<WorkerProcess>& workers, std::ostream& log);

}  // namespace semharness
