#pragma once
// Between an options struct that describes itself (baselines/methods/option_fields.h) and the grid: its
// keys with its defaults, and its values from a run's configuration. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

#include "baselines/methods/option_fields.h"
#include "harness/config/run_config.h"

namespace semharness {

// The key spec of one option; the default is made canonical (InputError when the struct's default is
// outside its own bounds or choices).
KeySpec option_key(const std::string& name, KeyType type, const std::string& raw_default, const Bounds& bounds,
                   const std::vector<std::string>& choices, const std::string& help);
// An option's grid key: "prefix.name", or "name" when prefix is empty.
inline std::string option_key_name(const std::string& prefix, const char* name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// Collects the grid keys of an options struct: "prefix.key", or "key" when prefix is empty.
struct OptionKeys {
  std::string prefix;
  std::vector<KeySpec> keys;
  std::vector<KeyOrder> orders;

  std::string key(const char* name) const { return option_key_name(prefix, name); }
  void operator()(const int64_t& value, const char* name, const Bounds& bounds, const char* help) {
    keys.push_back(option_key(key(name), KeyType::Int, std::to_string(value), bounds, {}, help));
  }
  void operator()(const double& value, const char* name, const Bounds& bounds, const char* help) {
    keys.push_back(option_key(key(name), KeyType::Float, format_float(value), bounds, {}, help));
  }
  void operator()(const std::string& value, const char* name, const std::vector<std::string>& choices,
                  const char* help) {
    keys.push_back(option_key(key(name), KeyType::Choice, value, {}, choices, help));
  }
  void operator()(const bool& value, const char* name, const char* help) {
    keys.push_back(option_key(key(name), KeyType::Choice, value ? "on" : "off", {}, {"on", "off"}, help));
  }
  void ordered(const char* lower, const char* upper) { orders.push_back({key(lower), key(upper)}); }
  void added_later(const char* name) {
    for (KeySpec& spec : keys) {
      if (spec.name == key(name)) spec.identity_at_default = false;
    }
  }
};

// Writes each option of an options struct from the run's value of its key.
struct OptionsFromConfig {
  const RunConfig& config;
  std::string prefix;

  std::string key(const char* name) const { return option_key_name(prefix, name); }
  void operator()(int64_t& value, const char* name, const Bounds&, const char*) { value = config.i(key(name)); }
  void operator()(double& value, const char* name, const Bounds&, const char*) { value = config.f(key(name)); }
  void operator()(std::string& value, const char* name, const std::vector<std::string>&, const char*) {
    value = config.str(key(name));
  }
  void operator()(bool& value, const char* name, const char*) { value = config.str(key(name)) == "on"; }
  void ordered(const char*, const char*) {}
  void added_later(const char*) {}
};

// The keys of `defaults` (an options struct), in the order its fields() lists them.
template <typename Options>
OptionKeys option_keys(Options defaults, const std::string& prefix) {
  OptionKeys collect{prefix, {}, {}};
  defaults.fields(collect);
  return collect;
}

// `options` with every option read from the run's configuration.
template <typename Options>
void read_options(Options& options, const RunConfig& config, const std::string& prefix) {
  OptionsFromConfig from_config{config, prefix};
  options.fields(from_config);
}

}  // namespace semharness
