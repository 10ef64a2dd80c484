#pragma once
// One SSL training step on a fixed batch of two views, built as a run builds it (the method from its
// configuration, TrainingStep for the loss, backward and optimizer): what the training-step benchmarks and
// the race against Python (`bench --vs-python`) time. Augmentation is not part of it.
#include <map>
#include <memory>
#include <string>

#include <c10/core/Device.h>

#include "harness/config/run_spec.h"

namespace semharness {

class SSLMethodImpl;
class TrainingStep;
class PhaseTimer;

// The image each backbone is benchmarked on: Fashion-MNIST's 1x28x28 for the ConvNet, CIFAR's 3x32x32 for
// ResNet-18.
struct ImageShape {
  int64_t channels, height, width;
};
ImageShape benchmark_image_shape(const std::string& backbone);

class StepWorkload {
 public:
  // `settings` (grid keys -> values, over the defaults) pick the backbone, method, SEM and batch_size.
  // Throws InputError for an unknown key or a bad value.
  StepWorkload(const std::map<std::string, std::string>& settings, c10::Device device);
  ~StepWorkload();

  // One training step; returns without waiting for the device (synchronize() to time it).
  void step();
  // The backbone alone on both views, forward and backward (gradients of its parameters; no update): the
  // part whose arithmetic rate `bench --vs-python` sets against the matrix-multiply peak.
  void backbone_step();
  int64_t batch() const { return batch_; }
  const RunSpec& spec() const { return spec_; }

 private:
  RunSpec spec_;
  c10::Device device_;
  int64_t batch_;
  int64_t steps_ = 0;
  std::shared_ptr<SSLMethodImpl> method_;
  std::unique_ptr<PhaseTimer> timer_;
  std::unique_ptr<TrainingStep> training_;
  struct Batch;
  std::unique_ptr<Batch> data_;
};

}  // namespace semharness
