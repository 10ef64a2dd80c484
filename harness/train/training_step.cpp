#include "harness/train/training_step.h"

#include <torch/torch.h>

#include "harness/train/method_factory.h"

namespace semharness {
namespace {

// Scales the gradients so that their global L2 norm is at most max_norm, on the device (LibTorch's
// clip_grad_norm_ returns the norm as a double, which would synchronise every step).
void clip_gradients(const std::vector<torch::Tensor>& parameters, double max_norm) {
  std::vector<torch::Tensor> squares;
  for (const auto& p : parameters) {
    if (p.grad().defined()) squares.push_back(p.grad().pow(2).sum());
  }
  if (squares.empty()) return;
  const auto coefficient = (max_norm / (torch::stack(squares).sum().sqrt() + 1e-6)).clamp_max(1.0);
  for (const auto& p : parameters) {
    if (p.grad().defined()) p.grad().mul_(coefficient);
  }
}

torch::nn::Linear make_classifier(SSLMethodImpl& method, int64_t num_classes, c10::Device device) {
  torch::nn::Linear classifier(method.online->backbone->output_dim(), num_classes);
  classifier->to(device);
  return classifier;
}

}  // namespace

// The online classifier: a group of the main optimizer (solo_learn) or its own SGD (separate); either way the
// same schedule scaled to online.lr and no weight decay.
TrainingStep::TrainingStep(SSLMethodImpl& method, const RunSpec& spec, int64_t num_classes, c10::Device device)
    : method_(method),
      parameters_(method.trainable_parameters()),
      optimizer_(parameters_, spec.optimizer),
      classifier_(make_classifier(method, num_classes, device)),
      classifier_sgd_(classifier_->parameters(), torch::optim::SGDOptions(spec.pretrain.online_lr).momentum(0.9)),
      scaler_(device, spec.pretrain.precision),
      device_(device),
      precision_(spec.pretrain.precision),
      base_lr_(spec.pretrain.lr),
      online_lr_(spec.pretrain.online_lr),
      grad_clip_(spec.pretrain.grad_clip),
      solo_learn_(spec.pretrain.online_classifier == OnlineClassifier::SoloLearn),
      scaled_parameters_(parameters_) {
  if (solo_learn_) {
    const auto classifier_parameters = classifier_->parameters();
    optimizer_.add_group(classifier_parameters, online_lr_ / base_lr_, 0.0);
    scaled_parameters_.insert(scaled_parameters_.end(), classifier_parameters.begin(), classifier_parameters.end());
  }
}

void TrainingStep::set_lr(double lr) {
  optimizer_.set_lr(lr);
  for (auto& group : classifier_sgd_.param_groups()) group.options().set_lr(online_lr_ * lr / base_lr_);
}

at::Tensor TrainingStep::run(const at::Tensor& view1, const at::Tensor& view2, const at::Tensor& labels, int64_t step,
                             int64_t total_steps, PhaseTimer& timer, at::Tensor online_correct) {
  const auto [loss, online_loss] = timer.time("forward", [&] {
    AutocastScope autocast(device_, precision_);
    auto output = method_.training_step(view1, view2);
    const auto cross_entropy = [&](const torch::Tensor& h) {
      const auto logits = classifier_->forward(h.detach());
      return std::make_pair(logits, torch::nn::functional::cross_entropy(logits.to(torch::kFloat), labels));
    };
    const auto [logits, online_loss1] = cross_entropy(output.h1);
    // Train top-1 counts view 1 under either protocol, so that it means the same.
    if (online_correct.defined()) online_correct += (logits.argmax(1) == labels).sum();
    if (!solo_learn_) return std::make_pair(output.loss, online_loss1);
    return std::make_pair(output.loss, (online_loss1 + cross_entropy(output.h2).second) / 2.0);
  });
  timer.time("backward", [&] {
    optimizer_.zero_grad();
    if (solo_learn_) {
      scaler_.scale(loss + online_loss).backward();
    } else {
      classifier_sgd_.zero_grad();
      scaler_.scale(loss).backward();
      online_loss.backward();
    }
  });
  timer.time("optimizer", [&] {
    method_.before_optimizer_step();
    if (scaler_.unscale(scaled_parameters_)) {
      if (grad_clip_ > 0) clip_gradients(parameters_, grad_clip_);
      optimizer_.step();
    }
    scaler_.update();
    if (!solo_learn_) classifier_sgd_.step();
    method_.after_optimizer_step(step, total_steps);
  });
  return loss.detach();
}

}  // namespace semharness
