// Throughput suites of `semharness bench`: one training step of each backbone x method with and without
// SEM, the two-view augmentation pipeline, and one epoch of the linear probes. Images per second; device
// work timed by hand (UseManualTime) with a synchronisation before the clock stops. Every family also has
// a B:8 size, which `bench --smoke` runs.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "baselines/backbones.h"
#include "baselines/ssl_method.h"
#include "harness/bench/bench_context.h"
#include "harness/bench/step_workload.h"
#include "harness/data/augment.h"
#include "harness/probe/linear_probe.h"
#include "tests/bench/manual_timing.h"
#include "harness/config/run_spec.h"

namespace semharness {
namespace {

void train_step(benchmark::State& state, const std::string& backbone, const std::string& method,
                const std::string& sem) {
  const c10::Device device = bench_context().device;
  StepWorkload workload(
      {{"backbone", backbone}, {"method", method}, {"sem", sem}, {"batch_size", std::to_string(state.range(0))}},
      device);
  workload.step();  // first-touch allocations and oneDNN primitive creation stay out of the timing
  time_iterations(state, device, [&] { workload.step(); });
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// Forward and backward of a backbone alone, in one memory format: the channels-last ratio, side by side.
void backbone_step(benchmark::State& state, const std::string& name, bool channels_last) {
  const c10::Device device = bench_context().device;
  const bool resnet = name == "resnet18";
  torch::manual_seed(0);
  const auto backbone = make_backbone(BackboneOptions(name, resnet ? 3 : 1).channels_last(channels_last));
  backbone->to(device);
  const auto images = torch::randn({state.range(0), resnet ? 3 : 1, resnet ? 32 : 28, resnet ? 32 : 28},
                                   torch::TensorOptions().device(device));
  const auto step = [&] {
    backbone->forward(images).sum().backward();
    for (auto& p : backbone->parameters()) p.mutable_grad().reset();
  };
  step();
  time_iterations(state, device, step);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void augment_views(benchmark::State& state, const std::string& dataset, const std::string& method) {
  const c10::Device device = bench_context().device;
  const bool gray = dataset == "fashion_mnist";
  const int64_t channels = gray ? 1 : 3, size = gray ? 28 : 32;
  const Augmenter augmenter(std::vector<double>(channels, 0.5), std::vector<double>(channels, 0.25), device);
  const auto images = torch::rand({state.range(0), channels, size, size}, torch::TensorOptions().device(device));
  const AugmentRecipe recipe = augment_recipe(default_method_options(method));
  const auto &view1 = recipe.view1, &view2 = recipe.view2;
  time_iterations(state, device, [&] {
    benchmark::DoNotOptimize(augmenter.view(images, view1));
    benchmark::DoNotOptimize(augmenter.view(images, view2));
  });
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// One epoch of the probe grid (every lr x wd1 at once) over N samples of D features, batch B, 10 classes.
void probe_epoch(benchmark::State& state) {
  const c10::Device device = bench_context().device;
  const int64_t n = state.range(0), d = state.range(1), batch = state.range(2);
  const auto options = torch::TensorOptions().device(device);
  torch::manual_seed(0);
  const LabeledFeatures train{torch::randn({n, d}, options), torch::randint(10, {n}, options.dtype(torch::kLong))};
  const LabeledFeatures small{train.x.slice(0, 0, batch), train.y.slice(0, 0, batch)};
  SgdProbeSpec spec = RunSpec::parse(RunConfig::defaults()).probe.sgd;
  spec.epochs = 1;
  spec.batch_size = batch;
  time_iterations(state, device, [&] { benchmark::DoNotOptimize(train_linear_probes(train, small, small, 10, spec)); });
  state.SetItemsProcessed(state.iterations() * n);
}

const bool registered = [] {
  for (const std::string backbone : {"convnet", "resnet18"}) {
    for (const std::string& method : method_names()) {
      for (const std::string sem : {"off", "on"}) {
        auto* b = benchmark::RegisterBenchmark(("train_step/" + backbone + "/" + method + "/sem_" + sem).c_str(),
                                               [=](benchmark::State& s) { train_step(s, backbone, method, sem); });
        b->ArgName("B")->Arg(8)->Arg(256)->UseManualTime()->Unit(benchmark::kMillisecond);
      }
    }
  }
  for (const std::string backbone : {"convnet", "resnet18"}) {
    for (const bool channels_last : {false, true}) {
      benchmark::RegisterBenchmark(
          ("backbone/" + backbone + (channels_last ? "/channels_last" : "/contiguous")).c_str(),
          [=](benchmark::State& s) { backbone_step(s, backbone, channels_last); })
          ->ArgName("B")
          ->Arg(8)
          ->Arg(backbone == "convnet" ? 256 : 64)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (const std::string dataset : {"fashion_mnist", "cifar"}) {
    for (const std::string method : {"simclr", "byol"}) {
      benchmark::RegisterBenchmark(("augment/" + dataset + "/" + method).c_str(),
                                   [=](benchmark::State& s) { augment_views(s, dataset, method); })
          ->ArgName("B")
          ->Arg(8)
          ->Arg(256)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RegisterBenchmark("probe/epoch", probe_epoch)
      ->ArgNames({"N", "D", "B"})
      ->Args({64, 16, 8})
      ->Args({10000, 512, 256})   // ResNet-18 backbone features
      ->Args({2048, 65000, 256})  // SEM L=5000 V=13
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
}  // namespace semharness
