#pragma once
// One run: pretrain an SSL method (with or without SEM) on a dataset, then evaluate its frozen features
// with linear probes and kNN. Knows nothing about SQLite: it returns a RunOutcome that the caller stores.
#include <functional>
#include <string>

#include <c10/core/Device.h>

#include "harness/config/run_config.h"
#include "harness/data/image_set.h"
#include "harness/data/tensors.h"
#include "harness/store/store.h"

namespace semharness {

struct DeviceDataset {
  DatasetInfo info;
  TensorSplit train, test;
};
DeviceDataset to_device(const Dataset& dataset, c10::Device device);

struct EpochProgress {
  int64_t epoch, epochs;  // epoch counts from 1
  double loss;
  double seconds;         // since the run started
  std::string phase;      // "pretrain" or "probe"
};
using ProgressFn = std::function<void(const EpochProgress&)>;

RunOutcome execute_run(const RunConfig& config, const DeviceDataset& data, c10::Device device,
                       const ProgressFn& progress = {});

}  // namespace semharness
