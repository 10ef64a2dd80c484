// semharness keys: the grid keys (harness/config/key_docs.h) as a terminal table, as Markdown, or rewritten
// into README.md's generated key and method tables.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "harness/cli/command_line.h"
#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/config/key_docs.h"
#include "reports/text_table.h"

namespace semharness {
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// Replaces the generated blocks "keys" and "methods" of the file at `path`. The new text goes to a temporary
// file in the same folder that is renamed over the old one: a failure leaves the file as it was.
void rewrite_readme(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read ({})", path.string(), std::strerror(errno)));
  const std::string old_text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const std::string keys = key_table_markdown(), methods = method_table_markdown();
  const std::string text = replace_generated_block(replace_generated_block(old_text, "keys", keys, path.string()),
                                                   "methods", methods, path.string());
  const auto rows = [](const std::string& table) { return std::count(table.begin(), table.end(), '\n') - 2; };
  if (text == old_text) {
    std::cout << fmt::format("{}: the key table ({} keys) and the method table ({} methods) are up to date\n",
                             path.string(), rows(keys), rows(methods));
    return;
  }
  const fs::path target = fs::is_symlink(path) ? fs::canonical(path) : path;  // rewrite what a link points to
  const fs::path temporary = target.string() + ".tmp";
  try {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error(fmt::format("{}: cannot write ({})", temporary.string(), std::strerror(errno)));
    fs::permissions(temporary, fs::status(target).permissions());
    fs::rename(temporary, target);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
  std::cout << fmt::format("{}: rewrote the key table ({} keys) and the method table ({} methods)\n", path.string(),
                           rows(keys), rows(methods));
}

}  // namespace

int keys_command(const std::vector<std::string>& args) {
  CommandLine cli("semharness keys [options]");
  bool markdown = false;
  std::string readme;
  cli.options()("markdown", po::bool_switch(&markdown),
                "print the key table, a blank line and the method table as Markdown")(
      "readme", po::value(&readme)->value_name("PATH"),
      "rewrite the key and method tables of this file (README.md) in place");
  if (!cli.parse(args,
                 "Prints every grid key (what a grid file and --set accept) with its values, default and meaning.\n"
                 "--markdown prints the key table and the method table as README.md has them; --readme PATH\n"
                 "rewrites them in PATH, between the lines '<!-- generated: keys -->' and\n"
                 "'<!-- end generated: keys -->' and the same for 'methods' (exit 2, the file unchanged, when\n"
                 "they are missing).\n")) {
    return 0;
  }
  if (markdown && !readme.empty())
    throw InputError("keys: --markdown prints the tables, --readme writes them: give one");
  if (!readme.empty()) {
    rewrite_readme(readme);
  } else if (markdown) {
    std::cout << key_table_markdown() << "\n" << method_table_markdown();
  } else {
    const auto rows = key_table_rows();
    std::cout << format_aligned(rows, rows.front().size());  // every column left-aligned
  }
  return 0;
}

}  // namespace semharness
