#include "harness/train/pretrain.h"

#include <cmath>
#include <future>

#include <dlfcn.h>

#include <c10/core/DeviceGuard.h>
#include <torch/torch.h>

#include "baselines/optimizers.h"
#include "baselines/schedules.h"
#include "harness/train/checkpoint.h"
#include "harness/train/method_factory.h"
#include "harness/train/training_step.h"

namespace semharness {
namespace {

// Augmentation's generators are seeded with the run's seed plus this, a stream apart from the default ones.
constexpr uint64_t kAugmentSeedOffset = 1000003;

struct Batch {
  at::Tensor view1, view2, labels;
};

// The prefetch thread runs its LibTorch ops on one core: with LibTorch's OpenMP backend a new thread would
// otherwise open parallel regions as wide as the machine beside the training step's, and the step's BLAS
// threads spin at their barriers while they wait for a core. omp_set_num_threads sets only the calling
// thread's team size; it is looked up at run time because LibTorch, not this program, links OpenMP.
void use_one_intra_op_thread() {
  using SetNumThreads = void (*)(int);
  static const auto set_num_threads = reinterpret_cast<SetNumThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (set_num_threads != nullptr) set_num_threads(1);
}

double online_test_top1(SSLMethodImpl& method, torch::nn::Linear& classifier, const DeviceDataset& data,
                        const Augmenter& augmenter) {
  torch::NoGradGuard no_grad;
  method.eval();
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(data.test.images.device()));
  for (int64_t start = 0; start < data.test.size(); start += 1024) {
    const int64_t end = std::min(data.test.size(), start + 1024);
    const auto x = augmenter.normalize(to_unit_float(data.test.images.slice(0, start, end)));
    const auto logits = classifier->forward(method.online->backbone->forward(x));
    correct += (logits.argmax(1) == data.test.labels.slice(0, start, end)).sum();
  }
  method.train();
  return correct.item<int64_t>() * 100.0 / static_cast<double>(data.test.size());
}

}  // namespace

PretrainResult pretrain(SSLMethodImpl& method, const DeviceDataset& data, const Augmenter& augmenter,
                        const RunSpec& spec, PhaseTimer& timer, const ProgressFn& progress,
                        const CheckpointPolicy& checkpoint) {
  const auto started = std::chrono::steady_clock::now();
  PretrainResult out;
  const auto& train = data.train;
  const auto device = train.images.device();
  const auto long_on_device = torch::TensorOptions().dtype(torch::kLong).device(device);
  int64_t n = train.size();
  const auto subset = torch::randperm(n, long_on_device);
  const PretrainSpec& settings = spec.pretrain;
  if (settings.train_subset > 0) n = std::min(n, settings.train_subset);
  const int64_t batch = std::min(settings.batch_size, n);
  const int64_t steps_per_epoch = std::max<int64_t>(1, n / batch);
  const int64_t epochs = settings.epochs;
  const int64_t total_steps = epochs * steps_per_epoch;
  const double base_lr = settings.lr;
  const AugmentRecipe recipe = augment_recipe(method.options.method());
  const auto& view1 = recipe.view1;
  const auto& view2 = recipe.view2;

  TrainingStep training(method, spec, data.info.num_classes, device);
  const auto generators = AugmentGenerators::seeded(device, static_cast<uint64_t>(spec.seed) + kAugmentSeedOffset);
  const bool prefetch = settings.prefetch;
  CheckpointParts parts{method, *training.classifier(), training.optimizer().momentum_buffers(),
                        training.classifier_optimizer(), training.scaler().state(), device, generators};
  int64_t step = 0, first_epoch = 1;
  if (!checkpoint.path.empty()) {
    if (auto resumed = load_checkpoint(checkpoint.path, parts)) {
      step = resumed->step;
      first_epoch = resumed->epochs_done + 1;
      out.curve = std::move(resumed->curve);
      out.resumed_from_epoch = resumed->epochs_done;
    }
  }

  method.train();
  for (int64_t epoch = first_epoch; epoch <= epochs; ++epoch) {
    method.on_epoch_start(epoch - 1, epochs);
    // Accumulated on the device and read once per epoch: no host sync inside the step.
    auto loss_sum = torch::zeros({}, torch::TensorOptions().device(device));
    auto online_correct = torch::zeros({}, long_on_device);
    const auto order = subset.slice(0, 0, n).index_select(0, torch::randperm(n, long_on_device));
    // Step s's batch: its images gathered and both views augmented, from augmentation's own generators, so
    // that the numbers are the same whether a batch is made here or on the prefetch thread.
    const auto make_batch = [&](int64_t s) {
      torch::NoGradGuard no_grad;
      c10::DeviceGuard on_device(device);  // the current device is per thread
      if (prefetch) use_one_intra_op_thread();
      const auto index = order.slice(0, s * batch, (s + 1) * batch);
      const auto images = to_unit_float(train.images.index_select(0, index));
      return Batch{augmenter.view(images, view1, generators), augmenter.view(images, view2, generators),
                   train.labels.index_select(0, index)};
    };
    // The next batch is made while this step trains; never across an epoch's end, so that a checkpoint holds
    // augmentation's generator state after exactly the epochs it saved.
    std::future<Batch> next;
    if (prefetch) next = std::async(std::launch::async, make_batch, 0);
    double lr = base_lr;
    for (int64_t s = 0; s < steps_per_epoch; ++s, ++step) {
      timer.begin_step();
      Batch views;
      if (prefetch) {
        views = timer.time("data_wait", [&] { return next.get(); });
        if (s + 1 < steps_per_epoch) next = std::async(std::launch::async, make_batch, s + 1);
      } else {
        views = timer.time("augment", [&] { return make_batch(s); });
      }
      lr = warmup_cosine_lr(base_lr, step, settings.warmup_epochs * steps_per_epoch, total_steps);
      training.set_lr(lr);
      const auto loss = training.run(views.view1, views.view2, views.labels, step, total_steps, timer, online_correct);
      loss_sum += loss.to(torch::kFloat);
    }
    const double mean_loss = loss_sum.item<double>() / static_cast<double>(steps_per_epoch);
    const double seen = static_cast<double>(steps_per_epoch * batch);
    out.curve.push_back({epoch, "train_loss", mean_loss});
    out.curve.push_back({epoch, "lr", lr});
    out.curve.push_back({epoch, "online_train_top1", online_correct.item<int64_t>() * 100.0 / seen});
    // Reported after the checkpoint is on disk: a worker killed after an "epoch N" line resumes after epoch N.
    const auto report = [&] {
      if (progress) {
        progress({epoch, epochs, mean_loss, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()});
      }
    };
    if (!std::isfinite(mean_loss)) {
      report();
      out.divergence = "training loss became " + std::to_string(mean_loss) + " in epoch " + std::to_string(epoch);
      return out;
    }
    if (!checkpoint.path.empty() && checkpoint.every > 0 && epoch % checkpoint.every == 0 && epoch < epochs) {
      const auto saving = std::chrono::steady_clock::now();
      save_checkpoint(checkpoint.path, parts, {epoch, step, out.curve});
      timer.add_ms("checkpoint", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - saving).count());
    }
    report();
  }
  out.results.push_back({"", "online_linear", "backbone", std::nullopt, "test", "top1",
                         online_test_top1(method, training.classifier(), data, augmenter)});
  return out;
}

}  // namespace semharness
