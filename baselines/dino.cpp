#include "baselines/dino.h"

#include <cmath>

#include <torch/torch.h>

#include "baselines/ema.h"

namespace semharness {

namespace F = torch::nn::functional;

DINOLastLayerImpl::DINOLastLayerImpl(int64_t in_features, int64_t prototypes) {
  weight = register_parameter("weight", torch::empty({prototypes, in_features}));
  // nn.Linear's default initialisation (the layer solo-learn wraps in weight_norm).
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
}

torch::Tensor DINOLastLayerImpl::forward(const torch::Tensor& z) {
  const auto rows = F::NormalizeFuncOptions().dim(1);
  return F::linear(F::normalize(z, rows), F::normalize(weight, rows));
}

torch::Tensor dino_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                        const torch::Tensor& center, double student_temperature, double teacher_temperature) {
  const auto student = torch::log_softmax(student_logits / student_temperature, -1).chunk(2);
  const auto teacher = torch::softmax((teacher_logits.detach() - center) / teacher_temperature, -1).chunk(2);
  const auto cross_entropy = [](const torch::Tensor& t, const torch::Tensor& log_s) {
    return -(t * log_s).sum(-1).mean();
  };
  return (cross_entropy(teacher[0], student[1]) + cross_entropy(teacher[1], student[0])) / 2.0;
}

double dino_teacher_temperature(const DINOOptions& options, int64_t epoch) {
  const int64_t warmup = options.warmup_teacher_temperature_epochs();
  if (epoch >= warmup) return options.teacher_temperature();
  if (warmup == 1) return options.warmup_teacher_temperature();
  const double progress = static_cast<double>(epoch) / static_cast<double>(warmup - 1);
  return options.warmup_teacher_temperature() +
         (options.teacher_temperature() - options.warmup_teacher_temperature()) * progress;
}

DINOImpl::DINOImpl(const MethodOptions& options_)
    : SSLMethodImpl(options_), teacher_temperature_(dino_teacher_temperature(options_.dino(), 0)) {
  const int64_t bottleneck = options.encoder().projector().out_features();
  TORCH_CHECK(options.dino().bottleneck() == bottleneck, "DINO: dino.bottleneck (", options.dino().bottleneck(),
              ") must equal the projector's out_features (", bottleneck, ")");
  const int64_t prototypes = options.dino().prototypes();
  last_layer = register_module("last_layer", DINOLastLayer(bottleneck, prototypes));
  teacher = register_module("teacher", Encoder(options.encoder()));
  teacher_last_layer = register_module("teacher_last_layer", DINOLastLayer(bottleneck, prototypes));
  copy_weights(*teacher, *online);
  copy_weights(*teacher_last_layer, *last_layer);
  for (auto& p : teacher->parameters()) p.set_requires_grad(false);
  for (auto& p : teacher_last_layer->parameters()) p.set_requires_grad(false);
  center = register_buffer("center", torch::zeros({1, prototypes}));
}

StepOutput DINOImpl::training_step(const torch::Tensor& view1, const torch::Tensor& view2) {
  const auto out1 = online->forward(view1, tau_online());
  const auto student = torch::cat({last_layer->forward(out1.z), last_layer->forward(online->forward(view2, tau_online()).z)});
  torch::Tensor teacher_logits;
  {
    torch::NoGradGuard no_grad;
    teacher_logits = torch::cat({teacher_last_layer->forward(teacher->forward(view1, tau_target()).z),
                                 teacher_last_layer->forward(teacher->forward(view2, tau_target()).z)});
    pending_teacher_mean_ = teacher_logits.mean(0, /*keepdim=*/true);
  }
  const auto loss = dino_loss(student, teacher_logits, center, options.dino().student_temperature(), teacher_temperature_);
  return {loss, out1.h};
}

void DINOImpl::on_epoch_start(int64_t epoch, int64_t /*epochs*/) {
  epoch_ = epoch;
  teacher_temperature_ = dino_teacher_temperature(options.dino(), epoch);
}

void DINOImpl::before_optimizer_step() {
  if (epoch_ < options.dino().freeze_last_layer_epochs()) last_layer->weight.mutable_grad().reset();
}

void DINOImpl::after_optimizer_step(int64_t step, int64_t total_steps) {
  const double momentum = cosine_momentum(options.dino().ema_base(), options.dino().ema_final(), step, total_steps);
  ema_update(*teacher, *online, momentum);
  ema_update(*teacher_last_layer, *last_layer, momentum);
  if (pending_teacher_mean_.defined()) {
    torch::NoGradGuard no_grad;
    const double m = options.dino().center_momentum();
    center.mul_(m).add_(pending_teacher_mean_.to(center.scalar_type()), 1.0 - m);
    pending_teacher_mean_ = torch::Tensor();
  }
}

}  // namespace semharness
