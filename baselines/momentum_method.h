#pragma once
// What BYOL, MoCo v2+ and DINO share (solo-learn's BaseMomentumMethod): momentum targets. Each target is a
// copy of an online module, registered under its own name, its weights copied and its gradients off; after
// every optimizer step each target moves toward its online module by an EMA whose momentum follows a cosine
// from ema_base (step 0) to ema_final (the last step). A method adds its pairs and its hook after the update.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "baselines/ssl_method.h"

namespace semharness {

class MomentumMethodImpl : public SSLMethodImpl {
 public:
  MomentumMethodImpl(const MethodOptions& options, double ema_base, double ema_final);

  // The EMA step of every pair, in the order they were registered, then after_momentum_update.
  void after_optimizer_step(int64_t step, int64_t total_steps) final;

 protected:
  // Registers `target` under `name` as the momentum copy of `online`: online's weights and buffers copied
  // into it (except those of the submodules named in `own_init`, which keep the target's own random
  // initialisation), its parameters frozen. Returns the target.
  template <typename Holder>
  Holder register_target(const std::string& name, Holder target, const Holder& online,
                         const std::vector<std::string>& own_init = {}) {
    target = register_module(name, std::move(target));
    add_pair(target.ptr(), online.ptr(), own_init);
    return target;
  }
  // What the method does after its targets moved (MoCo's queue, DINO's centre).
  virtual void after_momentum_update() {}

 private:
  void add_pair(std::shared_ptr<torch::nn::Module> target, std::shared_ptr<torch::nn::Module> online,
                const std::vector<std::string>& own_init);

  double ema_base_, ema_final_;
  std::vector<std::pair<std::shared_ptr<torch::nn::Module>, std::shared_ptr<torch::nn::Module>>> pairs_;
};

}  // namespace semharness
