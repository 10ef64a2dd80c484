#pragma once
// One run: pretrain an SSL method (with or without SEM) on a dataset, then evaluate its frozen features
// with linear probes and kNN. Knows nothing about SQLite: it returns a RunOutcome that the caller stores.
#include <c10/core/Device.h>

#include "harness/config/run_spec.h"
#include "harness/data/tensors.h"
#include "harness/store/records.h"
#include "harness/train/pretrain.h"

namespace semharness {

// With a checkpoint policy, pretraining saves its state every checkpoint.every epochs and goes on from a
// checkpoint already at checkpoint.path (outcome.resumed_from_epoch tells).
RunOutcome execute_run(const RunSpec& spec, const DeviceDataset& data, c10::Device device,
                       const ProgressFn& progress = {}, const CheckpointPolicy& checkpoint = {});

}  // namespace semharness
