#pragma once
// Subcommands of build/semharness. Each takes the arguments after its name and returns the exit code:
// 0 success, 1 failure (a run failed, a check did not pass), 2 bad input.
#include <string>
#include <vector>

namespace semharness {

int run_command(const std::vector<std::string>& args);
int report_command(const std::vector<std::string>& args);
int merge_command(const std::vector<std::string>& args);
int slurm_command(const std::vector<std::string>& args);
int status_command(const std::vector<std::string>& args);
int export_command(const std::vector<std::string>& args);
int check_command(const std::vector<std::string>& args);
int bench_command(const std::vector<std::string>& args);

// The default database: results/semharness.db under the current directory.
inline const char* kDefaultDatabase = "results/semharness.db";

}  // namespace semharness
