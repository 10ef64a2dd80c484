#pragma once
// The linear-probe protocols a run can store, under the names the results table carries. Each accuracy says
// which protocol produced it (SPEC §2). Torch-free: the store, the run and the reports share these names.
#include <string>
#include <string_view>
#include <vector>

namespace semharness {

// The authors' probe (SPEC §2): SGD with momentum on raw frozen features, (lr, wd1) selected on validation.
inline constexpr std::string_view kSgdProbe = "linear_probe";
// The converged probe: full-batch L-BFGS on the L2-penalised multinomial logistic loss, the penalty selected
// on validation, on features standardised with training-split statistics (folded into the stored weights).
inline constexpr std::string_view kLbfgsProbe = "lbfgs_probe";
// The same L-BFGS probe on raw features (probe.standardize = off).
inline constexpr std::string_view kLbfgsRawProbe = "lbfgs_probe_raw";

// The values of the grid key probe.protocols.
inline constexpr std::string_view kSgdProtocolKey = "sgd";
inline constexpr std::string_view kLbfgsProtocolKey = "lbfgs";

// The stored protocol of a probe.protocols item ("sgd", "lbfgs") under probe.standardize; throws
// std::invalid_argument for another item.
std::string stored_probe_protocol(std::string_view item, bool standardize);

// Every stored linear-probe protocol, in the order reports show them: the converged probe first.
const std::vector<std::string>& linear_probe_protocols();
bool is_linear_probe_protocol(std::string_view stored);
bool is_lbfgs_protocol(std::string_view stored);

// One sentence on what the protocol is, for report notes ("" for an unknown name).
std::string_view probe_protocol_description(std::string_view stored);

// Metrics a probe stores on the train split besides top1 and loss: the selected hyper-parameters
// (probe_lr, probe_wd1 for SGD; probe_l2 for L-BFGS), weight_l1 (sum |W| of the stored weight) and, for
// L-BFGS, its convergence: probe_iterations, probe_grad_norm (the largest |gradient| entry of the penalised
// objective at the end) and probe_converged (1 when probe_grad_norm <= probe.tolerance, else 0).
inline constexpr std::string_view kProbeConvergedMetric = "probe_converged";
inline constexpr std::string_view kProbeGradNormMetric = "probe_grad_norm";
inline constexpr std::string_view kProbeIterationsMetric = "probe_iterations";
inline constexpr std::string_view kProbeL2Metric = "probe_l2";

}  // namespace semharness
