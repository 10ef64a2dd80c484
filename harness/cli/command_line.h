#pragma once
// The Boost.Program_options set-up every subcommand shares: a titled option list that starts with --help
// (and --db when the command reads a database), hidden positional arguments, parsing, and --help answered
// before notify(), so that a missing required option or a bad value never hides the help.
//
//   CommandLine cli("semharness status [options]");
//   cli.database(&db, "SQLite database to read");
//   cli.options()("stale-after", po::value(&stale_after)->default_value(300), "...");
//   if (!cli.parse(args, "Prints the runs per state ...\n")) return 0;  // --help was answered
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace semharness {

class CommandLine {
 public:
  // `title` heads the option list --help prints ("semharness run GRID.ini [options]").
  explicit CommandLine(const std::string& title);

  // Adds --db: the SQLite database, default kDefaultDatabase, stored into *db.
  CommandLine& database(std::string* db, const std::string& help);
  // The command's own options, listed by --help after --help and --db.
  boost::program_options::options_description_easy_init options();
  // Options --help does not list (those one semharness process passes another).
  boost::program_options::options_description_easy_init hidden();
  // A positional argument, hidden from the option list: the next `count` words that are not options (-1: all
  // the rest) are values of option `name`.
  CommandLine& positional(const char* name, const boost::program_options::value_semantic* value, int count);

  // Parses args. With --help: prints the option list, a blank line and `details` to stdout and returns false
  // (the command then returns 0), before notify(), so a missing required option or a bad value does not hide
  // the help. Otherwise notifies (throws boost::program_options::error on bad input) and returns true.
  [[nodiscard]] bool parse(const std::vector<std::string>& args, const std::string& details);

  // Whether an option was given (or has a default).
  bool given(const std::string& name) const { return values_.count(name) > 0; }

 private:
  boost::program_options::options_description visible_, hidden_;
  boost::program_options::positional_options_description positional_;
  boost::program_options::variables_map values_;
};

}  // namespace semharness
