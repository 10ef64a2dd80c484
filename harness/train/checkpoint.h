#pragma once
// Resumable pretraining checkpoints. One file per run holds everything the pretraining loop needs to go on
// exactly where it stopped: the method (online encoder, heads, EMA targets, queues, DINO's centre), the
// optimizer's momentum buffers, the online classifier and its SGD, the loss scaler, the random generators of
// the CPU and the run's device, the epoch and step reached and the curve so far. On the CPU a resumed run
// reproduces the uninterrupted one bit for bit.
//
// Written to PATH.tmp and renamed over PATH, so a kill while saving leaves the previous checkpoint intact.
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "harness/data/augment.h"
#include "harness/store/records.h"

namespace torch {
namespace nn {
class Module;
}
namespace optim {
class Optimizer;
}
}  // namespace torch

namespace semharness {

// Where a run's checkpoint lives: next to the database, DATABASE.checkpoints/RUN_ID.pt.
std::string checkpoint_path(const std::string& database_path, const std::string& run_id);

struct PretrainProgress {
  int64_t epochs_done = 0;  // complete epochs
  int64_t step = 0;         // optimizer steps taken
  std::vector<MetricRow> curve;
};

// The objects whose state a checkpoint holds (references: loading writes into them).
struct CheckpointParts {
  torch::nn::Module& method;
  torch::nn::Module& classifier;
  std::vector<at::Tensor>& optimizer_buffers;  // momentum buffers, undefined before the first step
  torch::optim::Optimizer& classifier_optimizer;
  std::vector<at::Tensor> scaler_state;  // LossScaler::state()
  c10::Device device;
  AugmentGenerators augment;  // augmentation's own random streams
};

// Throws std::runtime_error naming the path and the system's reason (e.g. "No space left on device").
void save_checkpoint(const std::string& path, const CheckpointParts& parts, const PretrainProgress& progress);
// nullopt when there is no file at path. Throws std::runtime_error when the file cannot be read or does not
// match the parts (another model).
std::optional<PretrainProgress> load_checkpoint(const std::string& path, CheckpointParts& parts);

}  // namespace semharness
