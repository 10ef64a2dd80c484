#include "harness/config/grid.h"

#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <system_error>

#include "harness/config/errors.h"

namespace semharness {
namespace {

namespace po = boost::program_options;

const std::string kOverrideSource = "--set";
const std::string kSeedsKey = "seeds";

// The raw text a key was given and where it came from (the file's path or "--set").
struct Setting {
  std::string raw;
  std::string source;
};

std::string trim(const std::string& text) {
  const char* spaces = " \t\r\n";
  auto first = text.find_first_not_of(spaces);
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(spaces) - first + 1);
}

void require_known_key(const std::string& key, const std::string& source) {
  if (key != kSeedsKey && find_key(key) == nullptr) {
    throw InputError(source + ": unknown key '" + key + "' (see README 'Grid keys')");
  }
}

std::map<std::string, Setting> read_grid_file(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) throw InputError(path + ": cannot open grid file");
  std::ifstream stream(path);
  if (!stream) throw InputError(path + ": cannot open grid file");

  // Nothing is registered: every key arrives unregistered and is checked against config_keys() here, so
  // the error names the file and points at the README.
  po::options_description no_registered_keys;
  std::vector<po::option> options;
  try {
    options = po::parse_config_file(stream, no_registered_keys, /*allow_unregistered=*/true).options;
  } catch (const po::error& e) {
    throw InputError(path + ": " + e.what());
  }

  std::map<std::string, Setting> settings;
  for (const po::option& option : options) {
    require_known_key(option.string_key, path);
    std::string raw = option.value.empty() ? "" : option.value.front();
    if (!settings.emplace(option.string_key, Setting{raw, path}).second) {
      throw InputError(path + ": key '" + option.string_key + "' is given twice");
    }
  }
  return settings;
}

void apply_overrides(const std::vector<std::string>& overrides, std::map<std::string, Setting>& settings) {
  std::set<std::string> overridden;
  for (const std::string& assignment : overrides) {
    auto equals = assignment.find('=');
    std::string key = trim(assignment.substr(0, equals));
    if (equals == std::string::npos || key.empty()) {
      throw InputError(kOverrideSource + ": expected key=value, got '" + assignment + "'");
    }
    require_known_key(key, kOverrideSource);
    if (!overridden.insert(key).second) {
      throw InputError(kOverrideSource + ": key '" + key + "' is given twice");
    }
    settings[key] = Setting{trim(assignment.substr(equals + 1)), kOverrideSource};
  }
}

// The canonical values of one key: one item, or several for an axis. A run_list key is one item.
std::vector<std::string> key_values(const KeySpec& spec, const Setting& setting) {
  if (spec.run_list) return {canonical_value(spec, setting.raw, setting.source)};
  std::vector<std::string> items = split_list(setting.raw);
  // name and data_dir are not part of a run's identity, so an axis over them would repeat run ids.
  if (items.size() > 1 && !spec.identity) {
    throw InputError(setting.source + ": key '" + spec.name + "': expected a single value, got '" +
                     trim(setting.raw) + "'");
  }
  std::vector<std::string> values;
  std::set<std::string> seen;
  for (const std::string& item : items) {
    std::string canonical = canonical_value(spec, item, setting.source);
    if (!seen.insert(canonical).second) {
      throw InputError(setting.source + ": key '" + spec.name + "': value '" + canonical + "' is listed twice");
    }
    values.push_back(canonical);
  }
  return values;
}

KeySpec seeds_spec() {
  KeySpec spec{};
  spec.name = kSeedsKey;
  spec.type = KeyType::Int;
  spec.default_value = "0";
  spec.help = "seeds of the runs of every cell";
  spec.min = 0;
  spec.run_list = true;
  return spec;
}

std::vector<int64_t> read_seeds(const std::map<std::string, Setting>& settings) {
  KeySpec spec = seeds_spec();
  auto it = settings.find(kSeedsKey);
  std::string canonical =
      it == settings.end() ? spec.default_value : canonical_value(spec, it->second.raw, it->second.source);
  std::vector<int64_t> seeds;
  for (const std::string& item : split_list(canonical)) seeds.push_back(std::stoll(item));
  return seeds;
}

std::string source_of(const std::map<std::string, Setting>& settings, const std::string& key,
                      const std::string& path) {
  auto it = settings.find(key);
  return it == settings.end() ? path : it->second.source;
}

void check_cross_key_rules(const RunConfig& cell, const std::map<std::string, Setting>& settings,
                           const std::string& path) {
  // The BYOL target momentum anneals from ema_base up to ema_final; the reverse is a swapped pair.
  if (cell.f("byol.ema_base") > cell.f("byol.ema_final")) {
    std::string source = source_of(settings, "byol.ema_base", path) == kOverrideSource ||
                                 source_of(settings, "byol.ema_final", path) == kOverrideSource
                             ? kOverrideSource
                             : path;
    throw InputError(source + ": keys 'byol.ema_base' and 'byol.ema_final': byol.ema_base must not exceed " +
                     "byol.ema_final, got " + cell.str("byol.ema_base") + " > " + cell.str("byol.ema_final"));
  }
}

}  // namespace

Grid load_grid(const std::string& path, const std::vector<std::string>& overrides) {
  std::map<std::string, Setting> settings = read_grid_file(path);
  apply_overrides(overrides, settings);

  Grid grid;
  grid.file = path;
  grid.seeds = read_seeds(settings);

  std::vector<std::pair<std::string, std::vector<std::string>>> axis_values;
  RunConfig base;
  for (const KeySpec& spec : config_keys()) {
    auto it = settings.find(spec.name);
    std::vector<std::string> values =
        it == settings.end() ? std::vector<std::string>{spec.default_value} : key_values(spec, it->second);
    base.values[spec.name] = values.front();
    if (values.size() > 1) {
      grid.axes.push_back(spec.name);
      axis_values.emplace_back(spec.name, std::move(values));
    }
  }
  grid.name = base.values["name"].empty() ? std::filesystem::path(path).stem().string() : base.values["name"];
  base.values["name"] = grid.name;

  // Each axis multiplies the cells built so far, so the first axis varies slowest.
  std::vector<RunConfig> cells{base};
  for (const auto& [key, values] : axis_values) {
    std::vector<RunConfig> expanded;
    expanded.reserve(cells.size() * values.size());
    for (const RunConfig& cell : cells) {
      for (const std::string& value : values) {
        RunConfig next = cell;
        next.values[key] = value;
        expanded.push_back(std::move(next));
      }
    }
    cells = std::move(expanded);
  }

  grid.runs.reserve(cells.size() * grid.seeds.size());
  for (const RunConfig& cell : cells) {
    check_cross_key_rules(cell, settings, path);
    for (int64_t seed : grid.seeds) {
      RunConfig run = cell;
      run.seed = seed;
      grid.runs.push_back(std::move(run));
    }
  }
  return grid;
}

}  // namespace semharness
