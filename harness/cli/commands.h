#pragma once
// Subcommands of build/semharness, in one table: main() dispatches through it, and the usage text and the
// unknown-command message list it. Each command takes the arguments after its name and returns the exit code:
// 0 success, 1 failure (a run failed, a check did not pass), 2 bad input.
#include <string>
#include <vector>

namespace semharness {

struct Command {
  const char* name;      // "run"
  const char* synopsis;  // the usage line: name and options
  const char* summary;   // what it does, one sentence (the usage text wraps it)
  int (*run)(const std::vector<std::string>& args);
};

// Every command, in the order the usage text lists them.
const std::vector<Command>& commands();
// The command called `name`, or nullptr.
const Command* find_command(const std::string& name);
// `semharness --help`: each command's synopsis, then its summary indented and wrapped.
std::string usage_text();
// The names, for messages: "run, report, ..., bench or keys".
std::string command_names();

int run_command(const std::vector<std::string>& args);
int report_command(const std::vector<std::string>& args);
int merge_command(const std::vector<std::string>& args);
int slurm_command(const std::vector<std::string>& args);
int status_command(const std::vector<std::string>& args);
int export_command(const std::vector<std::string>& args);
int check_command(const std::vector<std::string>& args);
int bench_command(const std::vector<std::string>& args);
int keys_command(const std::vector<std::string>& args);

// The default database: results/semharness.db under the current directory.
inline const char* kDefaultDatabase = "results/semharness.db";

}  // namespace semharness
