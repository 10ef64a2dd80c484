#include "harness/config/grid.h"

#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <system_error>
#include <tuple>

#include "harness/config/errors.h"

namespace semharness {
namespace {

namespace po = boost::program_options;

const std::string kOverrideSource = "--set";
const std::string kSeedsKey = "seeds";
const std::string kExtendsKey = "extends";
const std::string kAblatePrefix = "ablate.";

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

// Settings that apply only to the cells where a choice key has one value: a section [method:byol] (or
// --set method:byol.lr=1) holds values for the cells with method = byol.
struct Condition {
  std::string key, value;
  bool operator<(const Condition& other) const { return std::tie(key, value) < std::tie(other.key, other.value); }
};
using ConditionalSettings = std::map<Condition, std::map<std::string, Setting>>;

// Everything a grid file and its overrides set: plain keys, [KEY:VALUE] sections and the [ablate] section.
struct GridSettings {
  std::map<std::string, Setting> plain;
  ConditionalSettings conditional;
  std::map<std::string, Setting> ablated;
};

// Splits "method:byol.lr" into ({method, byol}, "lr"); returns false for a plain key.
bool split_conditional(const std::string& full_key, const std::string& source, Condition& condition, std::string& key) {
  const auto colon = full_key.find(':');
  if (colon == std::string::npos) return false;
  const auto dot = full_key.find('.', colon);
  condition.key = full_key.substr(0, colon);
  condition.value = dot == std::string::npos ? full_key.substr(colon + 1) : full_key.substr(colon + 1, dot - colon - 1);
  key = dot == std::string::npos ? "" : full_key.substr(dot + 1);
  const KeySpec* spec = find_key(condition.key);
  if (spec == nullptr || spec->type != KeyType::Choice) {
    throw InputError(source + ": section '" + condition.key + ":" + condition.value +
                     "': expected [KEY:VALUE] with KEY a choice key such as method");
  }
  condition.value = canonical_value(*spec, condition.value, source);
  if (key.empty()) throw InputError(source + ": '" + full_key + "': expected a key after the section name");
  require_known_key(key, source);
  if (key == kSeedsKey || key == "name" || key == "data_dir" || key == condition.key) {
    throw InputError(source + ": key '" + key + "' cannot depend on " + condition.key);
  }
  return true;
}

// An [ablate] key varies on its own around every other cell, so it has to be one a cell is made of: part of
// a run's identity, one value per run.
void require_ablatable_key(const std::string& key, const std::string& source) {
  require_known_key(key, source);
  const KeySpec* spec = find_key(key);
  if (key == kSeedsKey || !spec->identity || spec->run_list) {
    throw InputError(source + ": [ablate] key '" + key +
                     "': expected a key that is part of a run's identity and takes one value per run");
  }
}

void add_setting(const std::string& full_key, Setting setting, GridSettings& settings, bool replace) {
  Condition condition;
  std::string key;
  std::map<std::string, Setting>* target = &settings.plain;
  if (full_key.rfind(kAblatePrefix, 0) == 0) {
    key = full_key.substr(kAblatePrefix.size());
    require_ablatable_key(key, setting.source);
    target = &settings.ablated;
  } else if (split_conditional(full_key, setting.source, condition, key)) {
    target = &settings.conditional[condition];
  } else {
    require_known_key(full_key, setting.source);
    key = full_key;
  }
  const std::string source = setting.source;
  if (replace) {
    (*target)[key] = std::move(setting);
  } else if (!target->emplace(key, std::move(setting)).second) {
    throw InputError(source + ": key '" + full_key + "' is given twice");
  }
}

// A file's settings replace those of the file it extends, key by key (a [KEY:VALUE] section's keys one by one).
void merge_settings(GridSettings from, GridSettings& into) {
  for (auto& [key, setting] : from.plain) into.plain[key] = std::move(setting);
  for (auto& [key, setting] : from.ablated) into.ablated[key] = std::move(setting);
  for (auto& [condition, settings] : from.conditional) {
    for (auto& [key, setting] : settings) into.conditional[condition][key] = std::move(setting);
  }
}

// Reads path into settings; `extends = FILE` (relative to path's folder) reads FILE first and path's keys
// replace its keys. The name is not inherited: a grid that extends another is a grid of its own. `chain` holds
// the files being read, for a cycle.
void read_grid_file(const std::string& path, GridSettings& settings, std::vector<std::string>& chain) {
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

  GridSettings own;
  std::string extends;
  for (const po::option& option : options) {
    std::string value = option.value.empty() ? "" : trim(option.value.front());
    if (option.string_key == kExtendsKey) {
      if (!extends.empty()) throw InputError(path + ": key 'extends' is given twice");
      if (value.empty()) throw InputError(path + ": key 'extends': expected the path of a grid file");
      extends = value;
      continue;
    }
    add_setting(option.string_key, Setting{std::move(value), path}, own, /*replace=*/false);
  }

  if (!extends.empty()) {
    const std::filesystem::path base = std::filesystem::path(path).parent_path() / extends;
    const std::string canonical = std::filesystem::weakly_canonical(base, error).string();
    if (std::find(chain.begin(), chain.end(), canonical) != chain.end()) {
      throw InputError(path + ": key 'extends': '" + extends + "' extends this file again (a cycle)");
    }
    if (!std::filesystem::is_regular_file(base, error)) {
      throw InputError(path + ": key 'extends': cannot open grid file '" + base.string() + "'");
    }
    chain.push_back(canonical);
    read_grid_file(base.string(), settings, chain);
    chain.pop_back();
    settings.plain.erase("name");
  }
  merge_settings(std::move(own), settings);
}

void apply_overrides(const std::vector<std::string>& overrides, GridSettings& settings) {
  std::set<std::string> overridden;
  for (const std::string& assignment : overrides) {
    auto equals = assignment.find('=');
    std::string key = trim(assignment.substr(0, equals));
    if (equals == std::string::npos || key.empty()) {
      throw InputError(kOverrideSource + ": expected key=value, got '" + assignment + "'");
    }
    if (!overridden.insert(key).second) {
      throw InputError(kOverrideSource + ": key '" + key + "' is given twice");
    }
    if (key == kExtendsKey) throw InputError(kOverrideSource + ": key 'extends' belongs in a grid file");
    add_setting(key, Setting{trim(assignment.substr(equals + 1)), kOverrideSource}, settings, /*replace=*/true);
  }
}

// The canonical values of one key: one item, or several for an axis. A run_list key is one item.
std::vector<std::string> key_values(const KeySpec& spec, const Setting& setting) {
  if (spec.run_list) return {canonical_value(spec, setting.raw, setting.source)};
  std::vector<std::string> items = split_list(setting.raw);
  // name and data_dir are not part of a run's identity, so an axis over them would repeat run ids.
  if (items.size() > 1 && !spec.identity) {
    throw InputError(setting.source + ": key '" + spec.name + "': expected a single value, got '" + trim(setting.raw) +
                     "'");
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

std::string source_of(const std::map<std::string, Setting>& settings, const std::string& key, const std::string& path) {
  auto it = settings.find(key);
  return it == settings.end() ? path : it->second.source;
}

void check_cross_key_rules(const RunConfig& cell, const std::map<std::string, Setting>& settings,
                           const std::string& path) {
  // E.g. EMA target momenta anneal from ema_base up to ema_final; the reverse is a swapped pair.
  for (const KeyOrder& order : ordered_keys()) {
    const std::string& lower = order.lower;
    const std::string& upper = order.upper;
    if (cell.f(lower) > cell.f(upper)) {
      std::string source =
          source_of(settings, lower, path) == kOverrideSource || source_of(settings, upper, path) == kOverrideSource
              ? kOverrideSource
              : path;
      throw InputError(source + ": keys '" + lower + "' and '" + upper + "': " + lower + " must not exceed " + upper +
                       ", got " + cell.str(lower) + " > " + cell.str(upper));
    }
  }
}

// The canonical value of every [KEY:VALUE] setting, checked once whether or not a cell matches it.
using ConditionalValues =
    std::map<Condition, std::map<std::string, std::pair<std::string, std::string>>>;  // key -> (value, source)

ConditionalValues conditional_values(const ConditionalSettings& conditional) {
  ConditionalValues out;
  for (const auto& [condition, settings] : conditional) {
    for (const auto& [key, setting] : settings) {
      const auto values = key_values(*find_key(key), setting);
      if (values.size() != 1) {
        throw InputError(setting.source + ": key '" + condition.key + ":" + condition.value + "." + key +
                         "': expected a single value, got '" + trim(setting.raw) + "'");
      }
      out[condition][key] = {values.front(), setting.source};
    }
  }
  return out;
}

// Applies the [KEY:VALUE] settings to a cell whose KEY has that VALUE. Two conditions that both match and
// set the same key are ambiguous.
void apply_conditional(RunConfig& cell, const ConditionalValues& conditional) {
  std::map<std::string, std::string> set_by;
  for (const auto& [condition, settings] : conditional) {
    if (cell.str(condition.key) != condition.value) continue;
    const std::string section = condition.key + ":" + condition.value;
    for (const auto& [key, value_source] : settings) {
      if (!set_by.emplace(key, section).second) {
        throw InputError(value_source.second + ": key '" + key + "' is set by both [" + set_by[key] + "] and [" +
                         section + "]");
      }
      cell.values[key] = value_source.first;
    }
  }
}

// The cells of the [ablate] section around one centre: the centre, then for each ablated key (in key-table
// order) a cell per listed value with every other key as the centre has it. A listed value equal to the
// centre's is the centre itself.
std::vector<RunConfig> ablation_cells(const RunConfig& centre,
                                      const std::vector<std::pair<std::string, std::vector<std::string>>>& ablated) {
  std::vector<RunConfig> cells{centre};
  for (const auto& [key, values] : ablated) {
    for (const std::string& value : values) {
      if (value == centre.values.at(key)) continue;
      RunConfig next = centre;
      next.values[key] = value;
      cells.push_back(std::move(next));
    }
  }
  return cells;
}

}  // namespace

Grid load_grid(const std::string& path, const std::vector<std::string>& overrides) {
  GridSettings settings;
  std::vector<std::string> chain{std::filesystem::weakly_canonical(path).string()};
  read_grid_file(path, settings, chain);
  apply_overrides(overrides, settings);

  Grid grid;
  grid.file = path;
  grid.seeds = read_seeds(settings.plain);

  std::vector<std::pair<std::string, std::vector<std::string>>> axis_values, ablated_values;
  RunConfig base;
  for (const KeySpec& spec : config_keys()) {
    auto it = settings.plain.find(spec.name);
    std::vector<std::string> values =
        it == settings.plain.end() ? std::vector<std::string>{spec.default_value} : key_values(spec, it->second);
    base.values[spec.name] = values.front();
    auto ablated = settings.ablated.find(spec.name);
    if (ablated != settings.ablated.end()) {
      if (values.size() > 1) {
        throw InputError(ablated->second.source + ": [ablate] key '" + spec.name +
                         "': expected a key that is not also an axis (it has the values '" + trim(it->second.raw) +
                         "')");
      }
      ablated_values.emplace_back(spec.name, key_values(spec, ablated->second));
      grid.axes.push_back(spec.name);
    } else if (values.size() > 1) {
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
  if (!ablated_values.empty()) {
    std::vector<RunConfig> expanded;
    for (const RunConfig& centre : cells) {
      for (RunConfig& cell : ablation_cells(centre, ablated_values)) expanded.push_back(std::move(cell));
    }
    cells = std::move(expanded);
  }

  grid.runs.reserve(cells.size() * grid.seeds.size());
  std::set<std::string> cell_ids;
  const ConditionalValues conditional_by_cell = conditional_values(settings.conditional);
  for (RunConfig& cell : cells) {
    apply_conditional(cell, conditional_by_cell);
    if (!cell_ids.insert(cell.cell_id()).second) {
      throw InputError(path + ": two cells have the same configuration once the [KEY:VALUE] sections apply (" +
                       cell.label(grid.axes) + "): an axis or [ablate] key is overridden by a section");
    }
    check_cross_key_rules(cell, settings.plain, path);
    for (int64_t seed : grid.seeds) {
      RunConfig run = cell;
      run.seed = seed;
      grid.runs.push_back(std::move(run));
    }
  }
  return grid;
}

}  // namespace semharness
