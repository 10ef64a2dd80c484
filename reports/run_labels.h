#pragma once
// Short labels of stored runs: the config keys that tell a grid's runs apart, and the seed
// ("method=byol sem=on seed=1"), as `run` prints them. Torch-free.
#include <map>
#include <string>
#include <vector>

#include "harness/config/run_spec.h"
#include "harness/store/store.h"

namespace semharness {

// The identity keys whose values differ between the runs, in the documented key order, without the keys
// whose value follows from the method alone (set per method in [method:NAME] sections: they would only
// repeat the method; dataset, backbone and epochs are kept). With method_first, "method" leads the list whether or not
// it varies.
std::vector<std::string> distinguishing_keys(const std::vector<const RunRecord*>& runs, bool method_first = false);

// run_id -> label, for every run given; keys are those distinguishing the runs of each run's own grid.
std::map<std::string, std::string> run_labels(const std::vector<RunRecord>& runs);

// A stored run's typed settings. A key the database has no value for (a column added after the run was stored)
// takes its default. Throws InputError when a stored value does not parse.
RunSpec stored_run_spec(const RunRecord& run);

// A stored run's value of a key; its default where the database has none (the key was added after the run
// was stored), so that such runs and newer ones at the default read alike.
std::string stored_value(const RunRecord& run, const std::string& key);

// A stored run's sem mode and whether it is the untrained-backbone floor (epochs = 0): the two settings the
// reports group runs by, read without parsing the rest.
EmbedderMode stored_sem_mode(const RunRecord& run);
bool is_untrained(const RunRecord& run);

// "byol backbone=resnet18": the value of the first key, then key=value for the others (rows of a table whose
// first key is the method).
std::string row_label(const RunRecord& run, const std::vector<std::string>& keys);

}  // namespace semharness
