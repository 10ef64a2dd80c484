#pragma once
// Self-supervised pretraining of one run: two augmented views per image, the method's loss, the optimizer
// with its warmup + cosine schedule, and the online linear classifier on the detached backbone feature
// (solo-learn's protocol for its published numbers, stored as protocol "online_linear"). With profile.steps
// = N it records N steps with LibTorch's profiler (harness/train/op_profile.h) after timing N without it.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "baselines/ssl_method.h"
#include "harness/config/run_spec.h"
#include "harness/data/augment.h"
#include "harness/data/tensors.h"
#include "harness/store/records.h"
#include "harness/train/phase_timer.h"

namespace semharness {

struct EpochProgress {
  int64_t epoch, epochs;  // epoch counts from 1
  double loss;
  double seconds;  // since the run started
};
using ProgressFn = std::function<void(const EpochProgress&)>;

struct PretrainResult {
  std::vector<MetricRow> curve;               // per epoch: train_loss, lr, online_train_top1
  std::vector<ResultRow> results;             // online_linear top-1 on the test split
  std::string divergence;                     // empty unless the loss became NaN or infinite
  std::optional<int64_t> resumed_from_epoch;  // the checkpoint's epoch when the run went on from one
  std::vector<ProfileRow> profile;            // profile.steps > 0: the profiled steps' operators and kernels
  std::string trace_json;                     // and their Chrome trace
};

// Where the run keeps its checkpoint and how often it writes it (config key checkpoint_every; 0: never).
// An existing checkpoint at path is resumed from. Empty path: no checkpoints.
struct CheckpointPolicy {
  std::string path;
  int64_t every = 0;
};

PretrainResult pretrain(SSLMethodImpl& method, const DeviceDataset& data, const Augmenter& augmenter,
                        const RunSpec& spec, PhaseTimer& timer, const ProgressFn& progress,
                        const CheckpointPolicy& checkpoint = {});

}  // namespace semharness
