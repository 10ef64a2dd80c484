#include "harness/config/key_docs.h"

#include <vector>

#include <fmt/format.h>

#include "baselines/methods/method_list.h"
#include "harness/config/errors.h"
#include "harness/config/run_config.h"

namespace semharness {
namespace {

std::string meaning(const KeySpec& spec) {
  std::string text = spec.help;
  if (spec.run_list) text += " (one run uses them all)";
  if (!spec.identity) text += " (not part of a run's identity)";
  return text;
}

struct Markers {
  size_t body_begin, body_end;
};

Markers find_markers(const std::string& text, const std::string& name, const std::string& where) {
  const std::string open = "<!-- generated: " + name + " -->\n", close = "<!-- end generated: " + name + " -->";
  const size_t begin = text.find(open);
  const size_t end = begin == std::string::npos ? std::string::npos : text.find(close, begin);
  if (end == std::string::npos) {
    throw InputError(fmt::format("{}: expected the lines '{}' and '{}' around the generated {} table", where,
                                 open.substr(0, open.size() - 1), close, name));
  }
  return {begin + open.size(), end};
}

}  // namespace

std::string key_table_markdown() {
  std::string out = "| key | value | default | meaning |\n|---|---|---|---|\n";
  for (const KeySpec& spec : config_keys()) {
    out += fmt::format("| `{}` | {} | `{}` | {} |\n", spec.name, value_description(spec), spec.default_value,
                       meaning(spec));
  }
  return out;
}

std::string method_table_markdown() {
  std::string out = "| `method` | heads and loss | SEM temperatures (SPEC §1) |\n|---|---|---|\n";
  for_each_method([&](const auto& method) {
    out += fmt::format("| `{}` | {} | {} |\n", method.kName, method.kHeads, method.kSemTemperatures);
  });
  return out;
}

std::vector<std::vector<std::string>> key_table_rows() {
  std::vector<std::vector<std::string>> rows = {{"key", "value", "default", "meaning"}};
  for (const KeySpec& spec : config_keys()) {
    rows.push_back({spec.name, value_description(spec), spec.default_value.empty() ? "(empty)" : spec.default_value,
                    meaning(spec)});
  }
  return rows;
}

std::string replace_generated_block(const std::string& text, const std::string& name, const std::string& body,
                                    const std::string& where) {
  const Markers at = find_markers(text, name, where);
  return text.substr(0, at.body_begin) + body + text.substr(at.body_end);
}

std::string generated_block(const std::string& text, const std::string& name, const std::string& where) {
  const Markers at = find_markers(text, name, where);
  return text.substr(at.body_begin, at.body_end - at.body_begin);
}

}  // namespace semharness
