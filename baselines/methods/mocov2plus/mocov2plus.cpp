#include "baselines/methods/mocov2plus/mocov2plus.h"

#include <algorithm>

#include <torch/torch.h>

namespace semharness {
namespace {

torch::Tensor unit_rows(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  return F::normalize(x, F::NormalizeFuncOptions().dim(1));
}

}  // namespace

torch::Tensor moco_infonce_loss(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& queue,
                                double temperature) {
  const auto qn = unit_rows(q);
  const auto kn = unit_rows(k.detach());
  const auto positive = (qn * kn).sum(1, /*keepdim=*/true);
  const auto negatives = torch::mm(qn, queue.detach().to(qn.scalar_type()));
  const auto logits = torch::cat({positive, negatives}, 1) / temperature;
  const auto targets = torch::zeros({q.size(0)}, torch::TensorOptions().dtype(torch::kLong).device(q.device()));
  return torch::nn::functional::cross_entropy(logits, targets);
}

std::shared_ptr<SSLMethodImpl> MoCoV2PlusOptions::make(const MethodOptions& options) {
  return std::make_shared<MoCoV2PlusImpl>(options);
}

MoCoV2PlusImpl::MoCoV2PlusImpl(const MethodOptions& options_)
    : MomentumMethodImpl(options_, options_.get<MoCoV2PlusOptions>().ema_base(),
                         options_.get<MoCoV2PlusOptions>().ema_final()) {
  TORCH_CHECK(options.get<MoCoV2PlusOptions>().queue_size() >= 1, "MoCo v2+: queue_size must be at least 1");
  const bool own_embedder = options.get<MoCoV2PlusOptions>().target_embedder() == "own";
  target = register_target("target", Encoder(options.encoder()), online,
                           own_embedder ? std::vector<std::string>{"sem"} : std::vector<std::string>{});
  const int64_t dim = options.encoder().projector().out_features();
  queue = register_buffer(
      "queue", torch::nn::functional::normalize(torch::randn({2, dim, options.get<MoCoV2PlusOptions>().queue_size()}),
                                                torch::nn::functional::NormalizeFuncOptions().dim(1)));
  queue_ptr = register_buffer("queue_ptr", torch::zeros({1}, torch::kLong));
}

StepOutput MoCoV2PlusImpl::training_step(const torch::Tensor& view1, const torch::Tensor& view2) {
  const auto out1 = online->forward(view1, tau_online());
  const auto q1 = unit_rows(out1.z);
  const auto out2 = online->forward(view2, tau_online());
  const auto q2 = unit_rows(out2.z);
  torch::Tensor k1, k2;
  {
    torch::NoGradGuard no_grad;
    k1 = unit_rows(target->forward(view1, tau_target()).z);
    k2 = unit_rows(target->forward(view2, tau_target()).z);
  }
  const double temperature = options.get<MoCoV2PlusOptions>().temperature();
  const auto loss =
      (moco_infonce_loss(q1, k2, queue[1], temperature) + moco_infonce_loss(q2, k1, queue[0], temperature)) / 2.0;
  pending_keys_ = torch::stack({k1, k2});
  return {loss, out1.h, out2.h};
}

void MoCoV2PlusImpl::after_momentum_update() {
  if (pending_keys_.defined()) {
    enqueue(pending_keys_);
    pending_keys_ = torch::Tensor();
  }
}

void MoCoV2PlusImpl::enqueue(const torch::Tensor& keys) {
  torch::NoGradGuard no_grad;
  const int64_t batch = keys.size(1);
  const int64_t size = queue.size(2);
  const int64_t kept = std::min(batch, size);
  // Columns are computed on the device from the device-side pointer: no host synchronisation.
  const auto columns = (torch::arange(kept, queue_ptr.options()) + queue_ptr + (batch - kept)).remainder_(size);
  queue.index_copy_(2, columns, keys.slice(1, batch - kept, batch).permute({0, 2, 1}).to(queue.scalar_type()));
  queue_ptr.add_(batch).remainder_(size);
}

}  // namespace semharness
