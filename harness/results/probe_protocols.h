#pragma once
// The linear-probe protocols a run can store, under the names the results table carries. Each accuracy says
// which protocol produced it (SPEC §2). Torch-free: the store, the run and the reports share these names.
#include <string>
#include <string_view>
#include <vector>

#include "harness/results/vocabulary.h"

namespace semharness {

// The stored names of the linear probes (kSgdProbe, kLbfgsProbe, kLbfgsRawProbe) and of their metrics
// (kProbeL2Metric, ...) are in harness/results/vocabulary.h, with every other stored text.

// The values of the grid key probe.protocols.
inline constexpr std::string_view kSgdProtocolKey = "sgd";
inline constexpr std::string_view kLbfgsProtocolKey = "lbfgs";
inline constexpr std::string_view kSgdAugmentedProtocolKey = "sgd_augmented";

// The stored protocol of a probe.protocols item ("sgd", "lbfgs") under probe.standardize; throws
// std::invalid_argument for another item.
std::string stored_probe_protocol(std::string_view item, bool standardize);

// Every stored linear-probe protocol, in the order reports show them: the converged probe first.
const std::vector<std::string>& linear_probe_protocols();
bool is_linear_probe_protocol(std::string_view stored);
bool is_lbfgs_protocol(std::string_view stored);
// The SGD probes: on fixed features or on augmented batches.
bool is_sgd_protocol(std::string_view stored);

// One sentence on what the protocol is, for report notes ("" for an unknown name).
std::string_view probe_protocol_description(std::string_view stored);

}  // namespace semharness
