// semharness export: copies the stored features and probe weights of finished runs (harness/train/artifacts.h)
// into one folder per run with an index.csv, for Python users (np.load).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "harness/cli/command_line.h"
#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/store/store.h"
#include "harness/train/artifacts.h"
#include "reports/run_labels.h"
#include "reports/writers/writers.h"

namespace semharness {
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// A label as a folder name: "method=byol sem=on seed=1" -> "method=byol_sem=on_seed=1".
std::string folder_name(const std::string& label) {
  std::string name;
  for (char c : label) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '=' || c == '-' || c == '_';
    name += keep ? c : '_';
  }
  return name;
}

}  // namespace

int export_command(const std::vector<std::string>& args) {
  CommandLine cli("semharness export [options] --out DIR");
  std::string db, grid, out;
  cli.database(&db, "SQLite database to read");
  cli.options()("grid", po::value(&grid)->default_value(""), "only this grid (default: every grid in the database)")(
      "out", po::value(&out), "folder to write DIR/<grid>/<run label>/*.npy and DIR/index.csv into");
  if (!cli.parse(args,
                 "Copies the stored features and probe weights of finished runs (saved by `run` next to the\n"
                 "database, analysis.samples images per split) into one folder per run, and writes index.csv\n"
                 "(run_id, grid, method, sem, seed, L, V, dir, files). Load them in Python with np.load.\n")) {
    return 0;
  }
  if (out.empty()) throw InputError("export: --out DIR is required");
  if (!fs::exists(db)) throw InputError(fmt::format("{}: no such database (run a grid first)", db));
  Store store(db);
  const auto runs = store.runs(grid);
  if (runs.empty())
    throw InputError(grid.empty() ? db + ": holds no runs" : fmt::format("{}: no runs of grid '{}'", db, grid));
  const auto labels = run_labels(runs);

  std::error_code error;
  fs::create_directories(out, error);
  if (error || !fs::is_directory(out)) throw InputError(fmt::format("{}: cannot create the output folder", out));

  std::string index = csv_record({"run_id", "grid", "method", "sem", "seed", "L", "V", "dir", "files"}, "\n");
  int64_t exported = 0, without = 0, unfinished = 0;
  std::set<std::string> used_dirs;
  for (const RunRecord& run : runs) {
    if (run.status != "finished") {
      ++unfinished;
      continue;
    }
    const auto source = stored_artifacts(db, run.run_id);
    if (!source) {
      ++without;
      continue;
    }
    std::string relative = (fs::path(folder_name(run.grid)) / folder_name(labels.at(run.run_id))).generic_string();
    if (!used_dirs.insert(relative).second) {  // two runs with one label: the run id tells them apart
      relative += "_" + run.run_id;
      used_dirs.insert(relative);
    }
    const fs::path target = fs::path(out) / relative;
    fs::create_directories(target);
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(*source)) {
      if (entry.is_regular_file()) files.push_back(entry.path().filename().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      fs::copy_file(*source / file, target / file, fs::copy_options::overwrite_existing);
    }
    std::string file_list;
    for (const auto& file : files) file_list += (file_list.empty() ? "" : ";") + file;
    const bool has_embedding = run.config.at("sem") != "off";
    index += csv_record(
        {run.run_id, run.grid, run.config.at("method"), run.config.at("sem"), std::to_string(run.seed),
         has_embedding ? run.config.at("sem.L") : "", has_embedding ? run.config.at("sem.V") : "", relative, file_list},
        "\n");
    ++exported;
  }
  const fs::path index_path = fs::path(out) / "index.csv";
  {
    std::ofstream file(index_path.string() + ".tmp", std::ios::trunc);
    file << index;
    file.flush();
    if (!file) throw std::runtime_error(fmt::format("{}: cannot write", index_path.string()));
  }
  fs::rename(index_path.string() + ".tmp", index_path);

  std::cout << fmt::format("exported the stored features of {} finished runs to {} (index: {})\n", exported, out,
                           index_path.string());
  if (without > 0) {
    std::cout << fmt::format(
        "{} finished runs have no stored features (analysis.samples = 0, or stored before "
        "features were saved)\n",
        without);
  }
  if (unfinished > 0) std::cout << fmt::format("{} runs are not finished and were skipped\n", unfinished);
  return exported > 0 ? 0 : 1;
}

}  // namespace semharness
