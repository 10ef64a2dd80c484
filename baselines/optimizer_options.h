#pragma once
// The pretraining optimizer's options, torch-free, described once: their grid keys, defaults, bounds and help
// (see baselines/methods/option_fields.h). The momentum is fixed at SGD's usual 0.9 and is not a key.
#include <string>
#include <vector>

#include "baselines/methods/option_fields.h"

namespace semharness {

struct OptimizerOptions {
  SEMHARNESS_ARG(std::string, name) = "sgd";  // "sgd" or "lars"
  SEMHARNESS_ARG(double, lr) = 0.3;
  SEMHARNESS_ARG(double, momentum) = 0.9;
  SEMHARNESS_ARG(double, weight_decay) = 1e-5;
  SEMHARNESS_ARG(double, lars_eta) = 0.02;
  SEMHARNESS_ARG(bool, lars_clip) = true;

 public:
  // Keys are written whole: the optimizer's keys have no common prefix.
  template <typename Visitor>
  void fields(Visitor& v) {
    v(name_, "optimizer", std::vector<std::string>{"sgd", "lars"}, "pretraining optimizer");
    v(lr_, "lr", positive(), "pretraining base learning rate");
    v(weight_decay_, "wd", nonnegative(), "pretraining weight decay");
    v(lars_eta_, "lars.eta", nonnegative(), "LARS trust coefficient");
    v(lars_clip_, "lars.clip", "clip the LARS rate to the base learning rate");
  }
};

}  // namespace semharness
