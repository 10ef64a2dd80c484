#include "harness/config/run_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "harness/config/errors.h"

namespace semharness {
namespace {

// KeySpec's min/max defaults (+-1e300) mean "no bound".
constexpr double kUnboundedMagnitude = 1e299;

std::string_view trim(std::string_view text) {
  const char* spaces = " \t\r\n";
  auto first = text.find_first_not_of(spaces);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(spaces);
  return text.substr(first, last - first + 1);
}

// from_chars rejects a leading '+', which users may reasonably write.
std::string_view strip_plus(std::string_view text) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  return text;
}

std::optional<int64_t> parse_int(std::string_view text) {
  text = strip_plus(trim(text));
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Locale-independent, unlike strtod; rejects inf, nan and values that overflow or underflow.
std::optional<double> parse_float(std::string_view text) {
  text = strip_plus(trim(text));
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value == 0 ? 0.0 : value;  // -0 and 0 are one value
}

std::string format_general(double value, int precision) {
  char buffer[64];
  auto end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, precision).ptr;
  return std::string(buffer, end);
}

}  // namespace

std::string format_float(double value) {
  int precision = 1;
  std::string text = format_general(value, precision);
  for (; precision < 17; text = format_general(value, ++precision)) {
    double read_back = 0;
    std::from_chars(text.data(), text.data() + text.size(), read_back);
    if (read_back == value) break;
  }
  auto exponent_at = text.find("e+");
  if (exponent_at == std::string::npos) return text;
  int exponent = std::stoi(text.substr(exponent_at + 2));
  return exponent <= 15 ? format_general(value, std::max(precision, exponent + 1)) : text;
}

namespace {

bool has_min(const KeySpec& spec) { return spec.min > -kUnboundedMagnitude; }
bool has_max(const KeySpec& spec) { return spec.max < kUnboundedMagnitude; }

bool in_range(const KeySpec& spec, double value) {
  if (has_min(spec) && (spec.min_exclusive ? value <= spec.min : value < spec.min)) return false;
  if (has_max(spec) && (spec.max_exclusive ? value >= spec.max : value > spec.max)) return false;
  return true;
}

// " >= 1", " in (0, 1)", or "" when unbounded.
std::string range_text(const KeySpec& spec) {
  if (has_min(spec) && has_max(spec)) {
    return std::string(" in ") + (spec.min_exclusive ? "(" : "[") + format_float(spec.min) + ", " +
           format_float(spec.max) + (spec.max_exclusive ? ")" : "]");
  }
  if (has_min(spec)) return (spec.min_exclusive ? " > " : " >= ") + format_float(spec.min);
  if (has_max(spec)) return (spec.max_exclusive ? " < " : " <= ") + format_float(spec.max);
  return "";
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string joined;
  for (size_t index = 0; index < items.size(); ++index) {
    if (index > 0) joined += separator;
    joined += items[index];
  }
  return joined;
}

}  // namespace

std::string value_description(const KeySpec& spec) {
  std::string single;
  switch (spec.type) {
    case KeyType::Int: single = (spec.run_list ? "integers" : "integer") + range_text(spec); break;
    case KeyType::Float: single = (spec.run_list ? "numbers" : "number") + range_text(spec); break;
    case KeyType::Choice: return (spec.run_list ? "list of " : "one of ") + join(spec.choices, ", ");
    case KeyType::String: single = "text"; break;
  }
  return spec.run_list ? "list of " + single : single;
}

namespace {

// What a value of the key must look like, as it reads after "expected ".
std::string expectation(const KeySpec& spec) {
  std::string single;
  switch (spec.type) {
    case KeyType::Int: single = (spec.run_list ? "integers" : "an integer") + range_text(spec); break;
    case KeyType::Float: single = (spec.run_list ? "numbers" : "a number") + range_text(spec); break;
    case KeyType::Choice: single = "one of " + join(spec.choices, ", "); break;
    case KeyType::String: single = "text"; break;
  }
  return spec.run_list ? "a comma-separated list of " + single : single;
}

std::optional<std::string> canonical_item(const KeySpec& spec, std::string_view raw) {
  std::string_view text = trim(raw);
  switch (spec.type) {
    case KeyType::Int: {
      auto value = parse_int(text);
      if (!value || !in_range(spec, static_cast<double>(*value))) return std::nullopt;
      return std::to_string(*value);
    }
    case KeyType::Float: {
      auto value = parse_float(text);
      if (!value || !in_range(spec, *value)) return std::nullopt;
      return format_float(*value);
    }
    case KeyType::Choice:
      for (const std::string& choice : spec.choices) {
        if (choice == text) return choice;
      }
      return std::nullopt;
    case KeyType::String: return std::string(text);
  }
  return std::nullopt;
}

std::string hex16(uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

uint64_t fnv1a64(const std::string& text) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char byte : text) {
    hash ^= byte;
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace

std::vector<std::string> split_list(const std::string& raw) {
  std::vector<std::string> items;
  std::string_view rest = raw;
  while (true) {
    auto comma = rest.find(',');
    items.emplace_back(trim(rest.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return items;
}

std::string canonical_value(const KeySpec& spec, const std::string& raw, const std::string& where) {
  auto fail = [&]() {
    return InputError(where + ": key '" + spec.name + "': expected " + expectation(spec) + ", got '" +
                      std::string(trim(raw)) + "'");
  };
  if (!spec.run_list) {
    auto canonical = canonical_item(spec, raw);
    if (!canonical) throw fail();
    return *canonical;
  }
  std::vector<std::string> items;
  std::set<std::string> seen;
  for (const std::string& item : split_list(raw)) {
    auto canonical = canonical_item(spec, item);
    if (!canonical) throw fail();
    if (!seen.insert(*canonical).second) {
      throw InputError(where + ": key '" + spec.name + "': value '" + *canonical + "' is listed twice");
    }
    items.push_back(*canonical);
  }
  return join(items, ",");
}

const std::string& RunConfig::str(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) throw std::out_of_range("run config has no key '" + key + "'");
  return it->second;
}

int64_t RunConfig::i(const std::string& key) const {
  const std::string& text = str(key);
  auto value = parse_int(text);
  if (!value) throw std::invalid_argument("key '" + key + "': '" + text + "' is not an integer");
  return *value;
}

double RunConfig::f(const std::string& key) const {
  const std::string& text = str(key);
  auto value = parse_float(text);
  if (!value) throw std::invalid_argument("key '" + key + "': '" + text + "' is not a number");
  return *value;
}

std::vector<double> RunConfig::floats(const std::string& key) const {
  std::vector<double> parsed;
  for (const std::string& item : split_list(str(key))) {
    auto value = parse_float(item);
    if (!value) throw std::invalid_argument("key '" + key + "': '" + item + "' is not a number");
    parsed.push_back(*value);
  }
  return parsed;
}

std::string RunConfig::canonical() const {
  std::vector<std::string> lines;
  for (const auto& [key, value] : values) {
    const KeySpec* spec = find_key(key);
    if (!spec || !spec->identity) continue;
    if (!spec->identity_at_default && value == spec->default_value) continue;
    lines.push_back(key + "=" + value + "\n");
  }
  std::sort(lines.begin(), lines.end());
  std::string text;
  for (const std::string& line : lines) text += line;
  return text;
}

std::string RunConfig::cell_id() const { return hex16(fnv1a64(canonical())); }

std::string RunConfig::run_id() const { return hex16(fnv1a64(canonical() + "seed=" + std::to_string(seed) + "\n")); }

RunConfig RunConfig::defaults(const std::map<std::string, std::string>& settings, const std::string& where) {
  RunConfig config;
  for (const KeySpec& spec : config_keys()) config.values[spec.name] = spec.default_value;
  for (const auto& [key, raw] : settings) {
    const KeySpec* spec = find_key(key);
    if (spec == nullptr) throw InputError(where + ": unknown key '" + key + "'");
    config.values[key] = canonical_value(*spec, raw, where);
  }
  return config;
}

std::string RunConfig::label(const std::vector<std::string>& axes) const {
  std::string text;
  for (const std::string& axis : axes) text += axis + "=" + str(axis) + " ";
  return text + "seed=" + std::to_string(seed);
}

}  // namespace semharness
