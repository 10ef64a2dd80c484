#include <sys/wait.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "harness/cli/command_line.h"
#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/config/grid.h"
#include "harness/config/slurm_script.h"
#include "harness/store/store.h"

namespace semharness {
namespace po = boost::program_options;

namespace {

namespace fs = std::filesystem;

// Values that go onto #SBATCH lines: partition names, times like 1-12:00:00, GPU counts like a100:2.
void require_sbatch_value(const std::string& option, const std::string& value) {
  bool ok = !value.empty();
  for (char c : value) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string("_.,:+=-").find(c) == std::string::npos) ok = false;
  }
  if (!ok) throw InputError(fmt::format("{}: expected letters, digits and _.,:+=- only, got '{}'", option, value));
}

void require_path(const std::string& option, const fs::path& path, bool in_output_pattern) {
  const std::string text = path.string();
  if (text.find('\n') != std::string::npos || (in_output_pattern && text.find('\\') != std::string::npos)) {
    throw InputError(fmt::format("{}: '{}' cannot go into an sbatch script ({})", option, text,
                                 in_output_pattern ? "no newline or backslash" : "no newline"));
  }
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write ({})", path.string(), std::strerror(errno)));
  fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
}

// Runs `sbatch --parsable ARGS...` and returns the job id it prints ("123", or "123;cluster").
std::string sbatch(const std::vector<std::string>& args) {
  std::string command = "sbatch --parsable";
  for (const std::string& arg : args) command += " " + shell_quote(arg);
  std::cout << std::flush;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error(fmt::format("cannot run sbatch ({})", std::strerror(errno)));
  std::string output;
  char buffer[256];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 127) throw std::runtime_error("sbatch: command not found (submit from a Slurm login node)");
  if (code != 0) throw std::runtime_error(fmt::format("{} failed (exit {})", command, code));
  const std::string id = output.substr(0, output.find_first_of(";\n"));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    throw std::runtime_error(fmt::format("{} printed '{}', not a job id", command, output));
  }
  return id;
}

}  // namespace

int slurm_command(const std::vector<std::string>& args) {
  CommandLine cli("semharness slurm GRID.ini [options]");
  std::string db, shards, grid_path;
  std::vector<std::string> overrides;
  SlurmJob job;
  int cpus_per_task = 0;
  cli.database(&db, "main SQLite database the merge job folds the shards into");
  cli.options()("set", po::value(&overrides)->composing(),
                "override a grid key: --set key=value (repeatable; a list makes an axis)")(
      "shards", po::value(&shards),
      "folder for the shard databases, logs and scripts (default: <db>.shards/<grid name>)")(
      "partition", po::value(&job.partition), "#SBATCH --partition")("gpus-per-task", po::value(&job.gpus_per_task),
                                                                     "#SBATCH --gpus-per-task, e.g. 1 or a100:1")(
      "cpus-per-task", po::value(&cpus_per_task), "#SBATCH --cpus-per-task")(
      "time", po::value(&job.time), "#SBATCH --time of one task, e.g. 12:00:00")(
      "max-parallel", po::value(&job.max_parallel), "at most this many tasks at once (--array=...%K)")(
      "submit", "submit both scripts with sbatch (default: print the commands)");
  cli.positional("grid", po::value(&grid_path), 1);
  if (!cli.parse(args,
                 "Writes a Slurm job array with one task per run of the grid not finished in the database (task I\n"
                 "runs 'semharness run GRID --task-index I' into its own shard database) and a merge job that runs\n"
                 "after it: 'semharness merge' of the shards into the database, then 'semharness report'.\n"
                 "Run it again after a cancelled or failed task: only the unfinished runs are submitted.\n")) {
    return 0;
  }
  if (grid_path.empty()) throw InputError("slurm: missing grid file (usage: semharness slurm GRID.ini)");
  if (cli.given("partition")) require_sbatch_value("--partition", job.partition);
  if (cli.given("gpus-per-task")) require_sbatch_value("--gpus-per-task", job.gpus_per_task);
  if (cli.given("time")) require_sbatch_value("--time", job.time);
  if (cli.given("cpus-per-task")) {
    if (cpus_per_task < 1)
      throw InputError(fmt::format("--cpus-per-task: expected an integer >= 1, got '{}'", cpus_per_task));
    job.cpus_per_task = std::to_string(cpus_per_task);
  }
  if (cli.given("max-parallel") && job.max_parallel < 1) {
    throw InputError(fmt::format("--max-parallel: expected an integer >= 1, got '{}'", job.max_parallel));
  }

  const Grid grid = load_grid(grid_path, overrides);
  const fs::path main_db = fs::absolute(db).lexically_normal();
  const fs::path shards_dir =
      (shards.empty() ? fs::path(main_db.string() + ".shards") / grid.name : fs::absolute(shards)).lexically_normal();
  require_path("--db", main_db, false);
  require_path("--shards", shards_dir, true);
  require_path("grid", fs::absolute(grid_path), false);
  if (grid.name.find('/') != std::string::npos) {
    throw InputError(fmt::format("{}: grid name '{}' names the script files: no '/' in it", grid_path, grid.name));
  }
  std::error_code error;
  fs::create_directories(shards_dir, error);
  if (error) throw InputError(fmt::format("--shards: cannot create '{}' ({})", shards_dir.string(), error.message()));

  Store store(main_db.string());
  store.register_runs(grid);
  for (size_t i = 0; i < grid.runs.size(); ++i) {
    const std::string status = store.status(grid.runs[i].run_id());
    if (status != "finished" && status != "diverged") job.indices.push_back(i);
  }
  if (job.indices.empty()) {
    std::cout << fmt::format("grid '{}': all {} runs are finished in {}; nothing to submit\n", grid.name,
                             grid.runs.size(), main_db.string());
    return 0;
  }

  job.grid_name = grid.name;
  job.binary = fs::read_symlink("/proc/self/exe").string();
  job.grid_file = fs::absolute(grid_path).lexically_normal().string();
  job.overrides = overrides;
  job.main_db = main_db.string();
  job.shards_dir = shards_dir.string();
  job.workdir = fs::current_path().string();
  write_file(job.array_script_path(), array_script(job));
  write_file(job.merge_script_path(), merge_script(job));

  std::cout << fmt::format("grid '{}': {} of {} runs not finished in {}: array {}\n", grid.name, job.indices.size(),
                           grid.runs.size(), job.main_db, job.array());
  std::cout << fmt::format("wrote {}\nwrote {}\n", job.array_script_path(), job.merge_script_path());
  if (!cli.given("submit")) {
    std::cout << "submit with:\n"
              << "  JOBID=$(sbatch --parsable " << shell_quote(job.array_script_path()) << ")\n"
              << "  sbatch --dependency=afterany:$JOBID " << shell_quote(job.merge_script_path()) << "\n";
    return 0;
  }
  const std::string array_job = sbatch({job.array_script_path()});
  std::cout << fmt::format("submitted array job {} ({} tasks), logs in {}\n", array_job, job.indices.size(),
                           job.shards_dir);
  std::string merge_job;
  try {
    merge_job = sbatch({"--dependency=afterany:" + array_job, job.merge_script_path()});
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("array job {} is submitted, its merge job is not: {}", array_job, e.what()));
  }
  std::cout << fmt::format("submitted merge job {} (after {}): merges into {}, then reports\n", merge_job, array_job,
                           job.main_db);
  return 0;
}

}  // namespace semharness
