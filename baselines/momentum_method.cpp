#include "baselines/momentum_method.h"

#include <torch/torch.h>

#include "baselines/ema.h"

namespace semharness {

MomentumMethodImpl::MomentumMethodImpl(const MethodOptions& options_, double ema_base, double ema_final)
    : SSLMethodImpl(options_), ema_base_(ema_base), ema_final_(ema_final) {}

void MomentumMethodImpl::add_pair(std::shared_ptr<torch::nn::Module> target, std::shared_ptr<torch::nn::Module> online,
                                  const std::vector<std::string>& own_init) {
  copy_weights(*target, *online, own_init);
  for (auto& p : target->parameters()) p.set_requires_grad(false);
  pairs_.emplace_back(std::move(target), std::move(online));
}

void MomentumMethodImpl::after_optimizer_step(int64_t step, int64_t total_steps) {
  const double momentum = cosine_momentum(ema_base_, ema_final_, step, total_steps);
  for (const auto& [target, online] : pairs_) ema_update(*target, *online, momentum);
  after_momentum_update();
}

}  // namespace semharness
