#include "harness/cli/command_line.h"

#include <iostream>

#include "harness/cli/commands.h"

namespace semharness {
namespace po = boost::program_options;

CommandLine::CommandLine(const std::string& title) : visible_(title) { visible_.add_options()("help,h", "this help"); }

CommandLine& CommandLine::database(std::string* db, const std::string& help) {
  visible_.add_options()("db", po::value(db)->default_value(kDefaultDatabase), help.c_str());
  return *this;
}

po::options_description_easy_init CommandLine::options() { return visible_.add_options(); }

po::options_description_easy_init CommandLine::hidden() { return hidden_.add_options(); }

CommandLine& CommandLine::positional(const char* name, const po::value_semantic* value, int count) {
  hidden_.add_options()(name, value);
  positional_.add(name, count);
  return *this;
}

bool CommandLine::parse(const std::vector<std::string>& args, const std::string& details) {
  po::options_description all;
  all.add(visible_).add(hidden_);
  po::command_line_parser parser(args);
  parser.options(all);
  // Only with a positional argument: without one, Boost ignores stray words, as the commands always have.
  if (positional_.max_total_count() > 0) parser.positional(positional_);
  po::store(parser.run(), values_);
  if (values_.count("help")) {
    std::cout << visible_ << "\n" << details;
    return false;
  }
  po::notify(values_);
  return true;
}

}  // namespace semharness
