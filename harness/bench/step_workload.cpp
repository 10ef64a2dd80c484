#include "harness/bench/step_workload.h"

#include <torch/torch.h>

#include "baselines/ssl_method.h"
#include "harness/config/errors.h"
#include "harness/train/method_factory.h"
#include "harness/train/phase_timer.h"
#include "harness/train/training_step.h"

namespace semharness {

struct StepWorkload::Batch {
  torch::Tensor view1, view2, labels;
};

ImageShape benchmark_image_shape(const std::string& backbone) {
  if (backbone == "convnet") return {1, 28, 28};
  if (backbone == "resnet18") return {3, 32, 32};
  throw InputError("benchmark: no image shape for backbone '" + backbone + "'");
}

StepWorkload::StepWorkload(const std::map<std::string, std::string>& settings, c10::Device device)
    : spec_(RunSpec::parse(RunConfig::defaults(settings, "benchmark"))),
      device_(device),
      batch_(spec_.pretrain.batch_size) {
  const ImageShape shape = benchmark_image_shape(spec_.backbone.name);
  torch::manual_seed(0);
  method_ = make_method(method_options(spec_, shape.channels));
  method_->to(device);
  method_->train();
  timer_ = std::make_unique<PhaseTimer>(device);
  training_ = std::make_unique<TrainingStep>(*method_, spec_, /*num_classes=*/10, device);
  const auto options = torch::TensorOptions().device(device);
  data_ = std::make_unique<Batch>();
  data_->view1 = torch::randn({batch_, shape.channels, shape.height, shape.width}, options);
  data_->view2 = torch::randn({batch_, shape.channels, shape.height, shape.width}, options);
  data_->labels = torch::randint(10, {batch_}, options.dtype(torch::kLong));
  method_->on_epoch_start(0, 1);
}

StepWorkload::~StepWorkload() = default;

void StepWorkload::step() {
  timer_->begin_step();
  // A long constant schedule: momentum updates and the learning rate look like mid-training.
  training_->run(data_->view1, data_->view2, data_->labels, steps_++, /*total_steps=*/1000000, *timer_);
}

void StepWorkload::backbone_step() {
  for (auto& p : method_->online->backbone->parameters()) p.mutable_grad().reset();
  auto& backbone = method_->online->backbone;
  (backbone->forward(data_->view1).sum() + backbone->forward(data_->view2).sum()).backward();
}

}  // namespace semharness
