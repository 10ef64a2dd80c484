#include "harness/cli/commands.h"

#include "reports/text_table.h"

namespace semharness {
namespace {

constexpr size_t kSummaryIndent = 17;
constexpr size_t kUsageWidth = 110;  // characters a summary line may reach, indent included

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"run", "run GRID.ini [--db PATH] [--device auto|cpu|cuda] [--set key=value ...] [--jobs N] [--task-index I]",
       "train and probe every run of a grid not yet finished in the database", run_command},
      {"report", "report [--db PATH] [--grid NAME] [--out DIR] [--format md,csv,tex,html] [--sections S,...]",
       "comparison (methods x {baseline, +SEM}, mean ± std, CI, published reference), training curves, "
       "ablations, bound check, semantic coherence, timings and benchmarks; text, or files in DIR",
       report_command},
      {"slurm", "slurm GRID.ini [--db PATH] [--set key=value ...] [--max-parallel K] [--submit]",
       "a Slurm job array of the runs not finished, one shard database per task, and a merge job", slurm_command},
      {"merge", "merge SHARD.db... [--db PATH]", "fold shard databases (Slurm array tasks) into the database",
       merge_command},
      {"status", "status [--db PATH] [--stale-after SECONDS]",
       "runs per state and grid, runs in flight (stale ones marked), failed runs", status_command},
      {"export", "export --out DIR [--db PATH] [--grid NAME]",
       "copy the stored features and probe weights of finished runs (.npy) and an index.csv to DIR", export_command},
      {"check", "check --baseline PATH [--db PATH] [--metric M ...] [--alpha A] [--tolerance T] [--cpu-margin M]",
       "the regression gate: exit 1 when a cell is worse than the baseline beyond seed noise", check_command},
      {"bench", "bench [--db PATH] [--filter RE] [--smoke] [--vs-python]",
       "benchmark suites (SEM kernel vs memory floor, augmentation, training steps, probe) into the database; "
       "--vs-python races the training step against PyTorch in Python",
       bench_command},
      {"keys", "keys [--markdown] [--readme PATH]",
       "the grid keys with their values, defaults and meaning; --readme rewrites README.md's key and method tables",
       keys_command},
  };
  return table;
}

const Command* find_command(const std::string& name) {
  for (const Command& command : commands()) {
    if (name == command.name) return &command;
  }
  return nullptr;
}

std::string usage_text() {
  std::string out = "usage: semharness <command> [options]\n\ncommands:\n";
  const std::string indent(kSummaryIndent, ' ');
  for (const Command& command : commands()) {
    out += "  " + std::string(command.synopsis) + "\n";
    out += wrap_text(command.summary, kUsageWidth, indent, indent);
  }
  return out + "\n'semharness <command> --help' describes a command's options.\n";
}

std::string command_names() {
  const auto& table = commands();
  std::string names;
  for (size_t i = 0; i < table.size(); ++i) {
    names += i == 0 ? "" : i + 1 == table.size() ? " or " : ", ";
    names += table[i].name;
  }
  return names;
}

}  // namespace semharness
