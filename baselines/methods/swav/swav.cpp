#include "baselines/methods/swav/swav.h"

#include <algorithm>

#include <torch/torch.h>

namespace semharness {

std::shared_ptr<SSLMethodImpl> SwAVOptions::make(const MethodOptions& options) {
  return std::make_shared<SwAVImpl>(options);
}

namespace F = torch::nn::functional;

torch::Tensor sinkhorn_knopp(const torch::Tensor& scores, int64_t iterations, double epsilon) {
  TORCH_CHECK(scores.dim() == 2, "sinkhorn_knopp: expected scores [N, K], got ", scores.sizes());
  torch::NoGradGuard no_grad;
  // exp(x / epsilon) overflows half precision (and float for large scores); subtracting the global maximum
  // only rescales Q, which the first normalization undoes.
  const auto s = scores.detach().to(torch::promote_types(scores.scalar_type(), torch::kFloat));
  auto q = torch::exp((s - s.max()) / epsilon).t();
  const int64_t k = q.size(0), n = q.size(1);
  q = q / q.sum();
  for (int64_t i = 0; i < iterations; ++i) {
    q = q / (q.sum(1, /*keepdim=*/true) * static_cast<double>(k));
    q = q / (q.sum(0, /*keepdim=*/true) * static_cast<double>(n));
  }
  return (q * static_cast<double>(n)).t();
}

torch::Tensor swav_loss(const torch::Tensor& p1, const torch::Tensor& p2, const torch::Tensor& q1,
                        const torch::Tensor& q2, double temperature) {
  const auto cross_entropy = [temperature](const torch::Tensor& q, const torch::Tensor& p) {
    return -(q * torch::log_softmax(p / temperature, /*dim=*/1)).sum(1).mean();
  };
  return 0.5 * (cross_entropy(q1, p2) + cross_entropy(q2, p1));
}

SwAVImpl::SwAVImpl(const MethodOptions& options_) : SSLMethodImpl(options_) {
  const auto& swav = options.get<SwAVOptions>();
  TORCH_CHECK(swav.prototypes() >= 1, "SwAV needs at least one prototype");
  TORCH_CHECK(swav.queue_size() >= 0, "SwAV queue_size must be >= 0");
  const int64_t out = options.encoder().projector().out_features();
  prototypes =
      register_module("prototypes", torch::nn::Linear(torch::nn::LinearOptions(out, swav.prototypes()).bias(false)));
  if (swav.prototype_norm() == "weight_norm") {
    // As torch.nn.utils.weight_norm starts: the effective weight equals the initial one.
    prototype_gain = register_parameter("prototype_gain", prototypes->weight.detach().norm(2, {1}, true).clone());
  }
  normalize_prototypes();
  if (swav.queue_size() > 0) queue = register_buffer("queue", torch::zeros({2, swav.queue_size(), out}));
}

void SwAVImpl::normalize_prototypes() {
  if (prototype_gain.defined()) return;
  torch::NoGradGuard no_grad;
  prototypes->weight.copy_(F::normalize(prototypes->weight, F::NormalizeFuncOptions().dim(1)));
}

torch::Tensor SwAVImpl::prototype_scores(const torch::Tensor& z) const {
  if (!prototype_gain.defined()) return torch::nn::functional::linear(z, prototypes->weight);
  const auto& v = prototypes->weight;
  return torch::nn::functional::linear(z, prototype_gain * v / v.norm(2, {1}, true));
}

void SwAVImpl::on_epoch_start(int64_t epoch, int64_t /*epochs*/) { epoch_ = epoch; }

void SwAVImpl::before_optimizer_step() {
  if (epoch_ >= options.get<SwAVOptions>().freeze_prototypes_epochs()) return;
  // An undefined gradient (not a zero one) makes the optimizer skip the prototypes entirely, weight decay
  // and momentum included, as the reference's `grad = None` does.
  for (auto& p : prototypes->parameters()) p.mutable_grad().reset();
  if (prototype_gain.defined()) prototype_gain.mutable_grad().reset();
}

torch::Tensor SwAVImpl::assignments(const torch::Tensor& scores, int64_t view) {
  torch::NoGradGuard no_grad;
  auto all_scores = scores.detach();
  if (queue.defined() && epoch_ >= options.get<SwAVOptions>().queue_start_epoch()) {
    all_scores = torch::cat({all_scores, prototype_scores(queue[view]).to(all_scores.scalar_type())});
  }
  const auto q = sinkhorn_knopp(all_scores, options.get<SwAVOptions>().sinkhorn_iterations(),
                                options.get<SwAVOptions>().epsilon());
  return q.narrow(0, 0, scores.size(0));
}

void SwAVImpl::push_to_queue(const torch::Tensor& z1, const torch::Tensor& z2) {
  torch::NoGradGuard no_grad;
  const int64_t size = queue.size(1);
  const int64_t fresh = std::min(z1.size(0), size);
  const int64_t kept = size - fresh;
  if (kept > 0) queue.narrow(1, fresh, kept).copy_(queue.narrow(1, 0, kept).clone());
  queue.narrow(1, 0, fresh).copy_(torch::stack({z1.narrow(0, 0, fresh), z2.narrow(0, 0, fresh)}));
}

StepOutput SwAVImpl::training_step(const torch::Tensor& view1, const torch::Tensor& view2) {
  normalize_prototypes();
  const auto out1 = online->forward(view1, tau_online());
  const auto out2 = online->forward(view2, tau_target());
  const auto normalize = F::NormalizeFuncOptions().dim(1);
  const auto z1 = F::normalize(out1.z, normalize);
  const auto z2 = F::normalize(out2.z, normalize);
  const auto p1 = prototype_scores(z1);
  const auto p2 = prototype_scores(z2);
  const auto q1 = assignments(p1, 0);
  const auto q2 = assignments(p2, 1);
  const auto loss = swav_loss(p1, p2, q1, q2, options.get<SwAVOptions>().temperature());
  if (queue.defined()) push_to_queue(z1, z2);
  return {loss, out1.h, out2.h};
}

}  // namespace semharness
