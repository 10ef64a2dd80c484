#include "harness/config/slurm_script.h"

#include "harness/config/shell_words.h"

#include <cctype>

namespace semharness {

namespace {

bool plain(const std::string& text, const std::string& extra) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && extra.find(c) == std::string::npos) return false;
  }
  return true;
}

// A value on an #SBATCH line. sbatch splits those lines itself: quotes group, a backslash escapes the next
// character (inside quotes too), an unquoted '#' starts a comment.
std::string sbatch_quote(const std::string& text) {
  if (plain(text, "/._-+=:,@%")) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// A literal path inside an --output pattern, where '%' introduces a replacement symbol.
std::string pattern_literal(const std::string& path) {
  std::string escaped;
  for (char c : path) {
    if (c == '%') escaped += '%';
    escaped += c;
  }
  return escaped;
}

std::string sbatch_line(const std::string& option, const std::string& value) {
  return "#SBATCH --" + option + "=" + sbatch_quote(value) + "\n";
}

std::string shard_file(const SlurmJob& job, const std::string& index_shell_word) {
  return shell_quote(job.shards_dir + "/task-") + index_shell_word + ".db";
}

}  // namespace

std::string array_spec(const std::vector<size_t>& indices) {
  std::string spec;
  for (size_t i = 0; i < indices.size();) {
    size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (!spec.empty()) spec += ",";
    spec += std::to_string(indices[i]);
    if (j > i) spec += "-" + std::to_string(indices[j]);
    i = j + 1;
  }
  return spec;
}

std::string SlurmJob::array() const {
  return array_spec(indices) + (max_parallel > 0 ? "%" + std::to_string(max_parallel) : "");
}
std::string SlurmJob::array_script_path() const { return shards_dir + "/" + grid_name + ".sbatch"; }
std::string SlurmJob::merge_script_path() const { return shards_dir + "/" + grid_name + ".merge.sbatch"; }

std::string array_script(const SlurmJob& job) {
  std::string text = "#!/bin/bash\n";
  text += "# Written by 'semharness slurm': one task per run of grid '" + job.grid_name + "' not finished in\n";
  text += "# " + job.main_db + " (task I runs run number I of the grid into its own shard database).\n";
  text += sbatch_line("job-name", "semharness-" + job.grid_name);
  text += sbatch_line("array", job.array());
  text += sbatch_line("output", pattern_literal(job.shards_dir) + "/task-%a.log");
  text += sbatch_line("open-mode", "append");  // a resubmitted task keeps the log of its earlier attempts
  text += sbatch_line("chdir", job.workdir);
  if (!job.partition.empty()) text += sbatch_line("partition", job.partition);
  if (!job.gpus_per_task.empty()) text += sbatch_line("gpus-per-task", job.gpus_per_task);
  if (!job.cpus_per_task.empty()) text += sbatch_line("cpus-per-task", job.cpus_per_task);
  if (!job.time.empty()) text += sbatch_line("time", job.time);
  text += "set -euo pipefail\n";
  text += "exec " + shell_quote(job.binary) + " run " + shell_quote(job.grid_file);
  for (const std::string& value : job.overrides) text += " --set " + shell_quote(value);
  text += " --db " + shard_file(job, "\"$SLURM_ARRAY_TASK_ID\"") + " --task-index \"$SLURM_ARRAY_TASK_ID\"";
  // Without it LibTorch takes every core of the node, not the ones Slurm gave the task.
  if (!job.cpus_per_task.empty()) text += " --threads " + job.cpus_per_task;
  text += "\n";
  return text;
}

std::string merge_script(const SlurmJob& job) {
  std::string text = "#!/bin/bash\n";
  text += "# Written by 'semharness slurm': folds the shard databases of grid '" + job.grid_name + "' into\n";
  text += "# " + job.main_db + ", then prints its report.\n";
  text += sbatch_line("job-name", "semharness-" + job.grid_name + "-merge");
  text += sbatch_line("output", pattern_literal(job.shards_dir) + "/merge.log");
  text += sbatch_line("open-mode", "append");
  text += sbatch_line("chdir", job.workdir);
  if (!job.partition.empty()) text += sbatch_line("partition", job.partition);
  text += "set -euo pipefail\n";
  text += "shopt -s nullglob\n";
  text += "shards=(" + shard_file(job, "*") + ")\n";
  text += "if [ ${#shards[@]} -eq 0 ]; then\n";
  text += "  echo \"no shard databases in \"" + shell_quote(job.shards_dir) + "\" (no task started)\" >&2\n";
  text += "  exit 1\n";
  text += "fi\n";
  text += shell_quote(job.binary) + " merge \"${shards[@]}\" --db " + shell_quote(job.main_db) + "\n";
  text += "exec " + shell_quote(job.binary) + " report --db " + shell_quote(job.main_db) + " --grid " +
          shell_quote(job.grid_name) + "\n";
  return text;
}

}  // namespace semharness
