#pragma once
// The configuration of one run: every key of config_keys() with a canonical string value, plus the seed.
// Torch-free on purpose: grid parsing, run identity and the store build without LibTorch.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace semharness {

enum class KeyType { Int, Float, String, Choice };

// One key a grid file may set. Keys in a [section] of the INI file are named "section.key".
struct KeySpec {
  std::string name;  // e.g. "sem.L"
  KeyType type;
  std::string default_value;  // canonical text
  std::string help;
  std::vector<std::string> choices;  // for Choice
  double min = -1e300;               // for Int/Float
  double max = 1e300;
  bool min_exclusive = false;  // true: value must be > min (e.g. tau > 0)
  bool max_exclusive = false;  // true: value must be < max (probe.val_fraction < 1)
  bool run_list = false;       // a comma list that one run uses whole (probe.tau_d), not a grid axis
  bool identity = true;        // part of cell_id (false for name, data_dir)
  // false for a key added after runs were stored: it is part of the identity only when it differs from its
  // default, so that the runs stored before it keep their ids (and resume) while it sits at the default.
  bool identity_at_default = true;
};

// The table of every key, in the order the README documents them.
const std::vector<KeySpec>& config_keys();
// Pairs of keys whose values must be ordered, lower <= upper (declared by the methods' options structs,
// e.g. an EMA momentum's base and final value).
struct KeyOrder {
  std::string lower, upper;
};
const std::vector<KeyOrder>& ordered_keys();
// nullptr when the key is unknown.
const KeySpec* find_key(const std::string& name);
// Column name in the SQLite runs table for a key: "sem.L" -> "sem_L".
std::string column_name(const std::string& key);

class RunConfig {
 public:
  std::map<std::string, std::string> values;  // every key of config_keys(), canonical text
  int64_t seed = 0;

  const std::string& str(const std::string& key) const;  // throws std::out_of_range naming the key
  int64_t i(const std::string& key) const;
  double f(const std::string& key) const;
  std::vector<double> floats(const std::string& key) const;  // a run_list key, parsed

  // Every key at its default, then `settings` (key -> raw value) checked and made canonical; throws
  // InputError naming `where` and the key for an unknown key or a bad value.
  static RunConfig defaults(const std::map<std::string, std::string>& settings = {},
                            const std::string& where = "settings");

  // Sorted "key=value" lines of the identity keys, without the seed.
  std::string canonical() const;
  std::string cell_id() const;  // 16 hex digits: 64-bit FNV-1a of canonical()
  std::string run_id() const;   // 16 hex digits: FNV-1a of canonical() + "seed=<seed>\n"
  // Short human label of the axes that vary, e.g. "method=byol sem=on seed=1".
  std::string label(const std::vector<std::string>& axes) const;
};

// The shortest %g-style text that reads back as the same double: 0.1 -> "0.1", 1e-5 -> "1e-05"; values from 1
// up to 1e16 are written without an exponent ("10", not "1e+01"). The canonical text of a number key.
std::string format_float(double value);

// Splits a comma list and trims each item; "" gives one empty item.
std::vector<std::string> split_list(const std::string& raw);

// The values a key takes, for its documentation: "integer >= 1", "number in [0, 1]", "one of on, off",
// "list of numbers > 0", "text".
std::string value_description(const KeySpec& spec);

// Canonical text of a value for a key, or throws InputError("<where>: key '<k>': expected ..., got '<v>'").
std::string canonical_value(const KeySpec& spec, const std::string& raw, const std::string& where);

}  // namespace semharness
