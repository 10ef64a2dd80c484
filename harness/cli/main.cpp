// build/semharness: run SEM/SSL grids, store them in SQLite, report them.
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options/errors.hpp>
#include <fmt/format.h>

#include "harness/cli/commands.h"
#include "harness/config/errors.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << semharness::usage_text();
    return args.empty() ? 2 : 0;
  }
  const std::string name = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    const semharness::Command* command = semharness::find_command(name);
    if (command == nullptr) {
      std::cerr << fmt::format("semharness: unknown command '{}' (expected {}; see semharness --help)\n", name,
                               semharness::command_names());
      return 2;
    }
    return command->run(rest);
  } catch (const semharness::InputError& e) {
    std::cerr << "semharness: " << e.what() << "\n";
    return 2;
  } catch (const boost::program_options::error& e) {
    std::cerr << fmt::format("semharness {}: {}\n", name, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::cerr << "semharness: error: " << what.substr(0, what.find('\n')) << "\n";
    return 1;
  }
}
