#include "baselines/methods/dino/dino.h"

#include <cmath>

#include <torch/torch.h>

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

std::shared_ptr<SSLMethodImpl> DINOOptions::make(const MethodOptions& options) {
  return std::make_shared<DINOImpl>(options);
}

DINOImpl::DINOImpl(const MethodOptions& options_)
    : MomentumMethodImpl(options_, options_.get<DINOOptions>().ema_base(), options_.get<DINOOptions>().ema_final()),
      teacher_temperature_(dino_teacher_temperature(options_.get<DINOOptions>(), 0)) {
  const int64_t bottleneck = options.encoder().projector().out_features();
  const int64_t prototypes = options.get<DINOOptions>().prototypes();
  last_layer = register_module("last_layer", DINOLastLayer(bottleneck, prototypes));
  teacher = register_target("teacher", Encoder(options.encoder()), online);
  teacher_last_layer = register_target("teacher_last_layer", DINOLastLayer(bottleneck, prototypes), last_layer);
  center = register_buffer("center", torch::zeros({1, prototypes}));
}

StepOutput DINOImpl::training_step(const torch::Tensor& view1, const torch::Tensor& view2) {
  const auto out1 = online->forward(view1, tau_online());
  const auto out2 = online->forward(view2, tau_online());
  const auto student = torch::cat({last_layer->forward(out1.z), last_layer->forward(out2.z)});
  torch::Tensor teacher_logits;
  {
    torch::NoGradGuard no_grad;
    teacher_logits = torch::cat({teacher_last_layer->forward(teacher->forward(view1, tau_target()).z),
                                 teacher_last_layer->forward(teacher->forward(view2, tau_target()).z)});
    pending_teacher_mean_ = teacher_logits.mean(0, /*keepdim=*/true);
  }
  const double student_temperature = options.get<DINOOptions>().student_temperature();
  const auto loss = dino_loss(student, teacher_logits, center, student_temperature, teacher_temperature_);
  {
    torch::NoGradGuard no_grad;
    const auto entropy = [](const torch::Tensor& p) { return -(p * p.clamp_min(1e-30).log()).sum(-1); };
    const auto t = torch::softmax((teacher_logits - center).to(torch::kFloat) / teacher_temperature_, -1);
    const auto s = torch::softmax(student.detach().to(torch::kFloat) / student_temperature, -1);
    const auto sums = torch::stack({entropy(t).mean(), entropy(s).mean(), entropy(t.mean(0))});
    entropy_sums_ = entropy_sums_.defined() ? entropy_sums_ + sums : sums;
    ++entropy_steps_;
  }
  return {loss, out1.h, out2.h};
}

void DINOImpl::on_epoch_start(int64_t epoch, int64_t /*epochs*/) {
  epoch_ = epoch;
  teacher_temperature_ = dino_teacher_temperature(options.get<DINOOptions>(), epoch);
  entropy_sums_ = torch::Tensor();
  entropy_steps_ = 0;
}

std::vector<std::pair<std::string, double>> DINOImpl::epoch_diagnostics() {
  if (entropy_steps_ == 0) return {};
  const auto mean = (entropy_sums_ / static_cast<double>(entropy_steps_)).to(torch::kCPU, torch::kDouble);
  const auto* m = mean.data_ptr<double>();
  return {{"dino_teacher_entropy", m[0]}, {"dino_student_entropy", m[1]}, {"dino_teacher_marginal_entropy", m[2]}};
}

void DINOImpl::before_optimizer_step() {
  if (epoch_ < options.get<DINOOptions>().freeze_last_layer_epochs()) last_layer->weight.mutable_grad().reset();
}

void DINOImpl::after_momentum_update() {
  if (pending_teacher_mean_.defined()) {
    torch::NoGradGuard no_grad;
    const double m = options.get<DINOOptions>().center_momentum();
    center.mul_(m).add_(pending_teacher_mean_.to(center.scalar_type()), 1.0 - m);
    pending_teacher_mean_ = torch::Tensor();
  }
}

}  // namespace semharness
