#include "harness/executors/local_pool.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <stdexcept>

namespace semharness {

int run_worker_processes(const std::vector<WorkerProcess>& workers, std::ostream& log) {
  log.flush();
  const pid_t parent = ::getpid();
  std::vector<pid_t> children;
  for (const auto& worker : workers) {
    // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
    std::vector<std::string> argv_storage{"semharness"};
    argv_storage.insert(argv_storage.end(), worker.args.begin(), worker.args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string text = *entry;
      bool replaced = false;
      for (const auto& [name, value] : worker.environment) replaced = replaced || text.rfind(name + "=", 0) == 0;
      if (!replaced) env_storage.push_back(text);
    }
    for (const auto& [name, value] : worker.environment) env_storage.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& entry : env_storage) envp.push_back(entry.data());
    envp.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) {
      for (pid_t child : children) ::kill(child, SIGTERM);
      throw std::runtime_error(std::string("run --jobs: cannot start a worker process (") + std::strerror(errno) + ")");
    }
    if (pid == 0) {
      // A worker must not outlive the `run` that started it (its runs would look alive to nobody).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::execve("/proc/self/exe", argv.data(), envp.data());
      ::_exit(127);
    }
    children.push_back(pid);
  }
  int failures = 0;
  for (pid_t child : children) {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  return failures;
}

}  // namespace semharness
