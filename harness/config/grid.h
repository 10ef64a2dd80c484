#pragma once
// A grid file (INI): each key holds one value or a comma-separated list. A list on an ordinary key is an
// axis; the grid is the cartesian product of its axes, times the values of `seeds`. Keys marked run_list
// (probe.tau_d, probe.lr, probe.wd1) are used whole by every run. A key of the [ablate] section varies alone:
// every cell of the product (a centre) is followed by one cell per listed value of each [ablate] key, the
// other keys as the centre has them. `extends = FILE` reads FILE (relative to the grid's folder) first; the
// grid's keys replace FILE's, its name is its own.
#include <string>
#include <vector>

#include "harness/config/run_config.h"

namespace semharness {

struct Grid {
  std::string name;               // key `name`, or the file's stem when absent
  std::string file;               // the path it was read from
  std::vector<std::string> axes;  // keys that vary across cells (axes and [ablate] keys), in config_keys() order
  std::vector<int64_t> seeds;
  std::vector<RunConfig> runs;  // axes product x seeds, the seed varying fastest
};

// Reads path, applies overrides ("key=value", as given to --set: same syntax as in the file, a list makes an
// axis), validates every key and value and the cross-key rules, and expands. Throws InputError naming the
// file (or "--set") and the key on any problem: unknown key, malformed number, value out of range, unknown
// choice, missing file.
Grid load_grid(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace semharness
