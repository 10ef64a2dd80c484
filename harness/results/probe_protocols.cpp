#include "harness/results/probe_protocols.h"

#include <stdexcept>

namespace semharness {

std::string stored_probe_protocol(std::string_view item, bool standardize) {
  if (item == kSgdProtocolKey) return std::string(kSgdProbe);
  if (item == kSgdAugmentedProtocolKey) return std::string(kSgdAugmentedProbe);
  if (item == kLbfgsProtocolKey) return std::string(standardize ? kLbfgsProbe : kLbfgsRawProbe);
  throw std::invalid_argument("unknown probe protocol '" + std::string(item) + "'");
}

const std::vector<std::string>& linear_probe_protocols() {
  static const std::vector<std::string> protocols{std::string(kLbfgsProbe), std::string(kLbfgsRawProbe),
                                                  std::string(kSgdProbe), std::string(kSgdAugmentedProbe)};
  return protocols;
}

bool is_linear_probe_protocol(std::string_view stored) { return is_sgd_protocol(stored) || is_lbfgs_protocol(stored); }

bool is_sgd_protocol(std::string_view stored) { return stored == kSgdProbe || stored == kSgdAugmentedProbe; }

bool is_lbfgs_protocol(std::string_view stored) { return stored == kLbfgsProbe || stored == kLbfgsRawProbe; }

std::string_view probe_protocol_description(std::string_view stored) {
  if (stored == kSgdProbe) {
    return "the authors' probe (SPEC §2): SGD with momentum on raw frozen features, step decay, (lr, wd1) "
           "selected on a 10% validation split of the training set";
  }
  if (stored == kSgdAugmentedProbe) {
    return "the authors' probe as their code runs it (SPEC §7): the SGD probe of linear_probe, each batch's "
           "features recomputed by the frozen encoder from augmented training images (random resized crop, flip); "
           "validation and test on un-augmented images";
  }
  if (stored == kLbfgsProbe) {
    return "a converged probe: full-batch L-BFGS on the L2-penalised multinomial logistic loss of features "
           "standardised with training-split statistics, the penalty selected on a 10% validation split of the "
           "training set";
  }
  if (stored == kLbfgsRawProbe) {
    return "full-batch L-BFGS on the L2-penalised multinomial logistic loss of raw (unstandardised) features, "
           "the penalty selected on a 10% validation split of the training set";
  }
  return "";
}

}  // namespace semharness
