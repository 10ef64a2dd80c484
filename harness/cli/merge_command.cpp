#include <iostream>

#include <fmt/format.h>

#include "harness/cli/command_line.h"
#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/store/merge.h"
#include "harness/store/store.h"
#include "reports/text_table.h"

namespace semharness {
namespace po = boost::program_options;

int merge_command(const std::vector<std::string>& args) {
  CommandLine cli("semharness merge SHARD.db... [options]");
  std::string db;
  std::vector<std::string> shards;
  cli.database(&db, "main SQLite database to fold the shards into");
  cli.positional("shard", po::value(&shards)->composing(), -1);
  if (!cli.parse(args,
                 "Copies every run a shard database finished (e.g. one Slurm array task's) into the main database,\n"
                 "with its curves, results and timings, unless the main database has finished it already.\n"
                 "Runs a shard has not finished are registered as pending. Merging twice changes nothing.\n")) {
    return 0;
  }
  if (shards.empty())
    throw InputError("merge: no shard databases given (usage: semharness merge SHARD.db... --db MAIN)");

  // Every shard is checked before the main database is opened or changed: bad input changes nothing.
  for (const std::string& shard : shards) check_shard(shard, db);
  Store main(db);

  std::vector<std::vector<std::string>> rows;
  auto row = [](const std::string& name, const MergeCounts& counts) {
    return std::vector<std::string>{
        name, fmt::format("{} merged", counts.merged), fmt::format("{} already present", counts.already_present),
        fmt::format("{} unfinished", counts.unfinished), fmt::format("{} with stored features", counts.artifacts)};
  };
  MergeCounts total;
  for (const std::string& shard : shards) {
    const MergeCounts counts = merge_shard(main, shard);
    rows.push_back(row(shard, counts));
    total += counts;
  }
  rows.push_back(row(fmt::format("total ({} shards)", shards.size()), total));
  std::cout << format_aligned(rows);
  return 0;
}

}  // namespace semharness
