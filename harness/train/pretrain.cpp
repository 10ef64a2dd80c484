#include "harness/train/pretrain.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <optional>

#include <dlfcn.h>
#include <unistd.h>

#include <c10/core/DeviceGuard.h>
#include <torch/torch.h>

#include "baselines/optimizers.h"
#include "baselines/schedules.h"
#include "harness/results/vocabulary.h"
#include "harness/train/checkpoint.h"
#include "harness/train/device.h"
#include "harness/train/method_factory.h"
#include "harness/train/op_profile.h"
#include "harness/train/training_step.h"
#include "sem/simplicial_embedding.h"

namespace semharness {
namespace {

// Steps this process trains before the profiler's windows: the first steps build oneDNN's primitives, grow the
// allocator's caches and, on CUDA, pick cuDNN's algorithms.
constexpr int64_t kProfileWarmupSteps = 5;

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
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(data.test.device()));
  for (int64_t start = 0; start < data.test.size(); start += 1024) {
    const int64_t end = std::min(data.test.size(), start + 1024);
    const auto x = augmenter.normalize(to_unit_float(data.test.eval_images(start, end)));
    const auto logits = classifier->forward(method.online->backbone->forward(x));
    correct += (logits.argmax(1) == data.test.labels.slice(0, start, end)).sum();
  }
  method.train();
  return correct.item<int64_t>() * 100.0 / static_cast<double>(data.test.size());
}

// profile.steps = N: after kProfileWarmupSteps steps of this process, N steps timed without the profiler
// (timings "step:unprofiled"), then N recorded by it ("step:profiled"), each step between two device
// synchronisations, all in one epoch so that no epoch's end (its sync, the online evaluation, a checkpoint)
// falls among them. A run resumed from a checkpoint counts its warm-up again.
class StepProfiling {
 public:
  StepProfiling(int64_t steps, c10::Device device) : steps_(steps), device_(device) {}

  // Before step s of an epoch of steps_per_epoch steps (s counts from 0).
  void before_step(int64_t s, int64_t steps_per_epoch) {
    if (phase_ == Phase::Waiting && steps_ > 0 && steps_here_ >= kProfileWarmupSteps &&
        steps_per_epoch - s >= 2 * steps_) {
      phase_ = Phase::Unprofiled;
      left_ = steps_;
    }
    ++steps_here_;
    if (!timed()) return;
    if (phase_ == Phase::Profiled && left_ == steps_) profiler_.start(device_.is_cuda());
    semharness::synchronize(device_);
    step_started_ = std::chrono::steady_clock::now();
  }

  // After the step's work is queued: its wall time into the timer; the recording's rows once it is done.
  void after_step(PhaseTimer& timer, PretrainResult& out) {
    if (!timed()) return;
    semharness::synchronize(device_);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - step_started_).count();
    timer.add_ms(phase_ == Phase::Unprofiled ? "step:unprofiled" : "step:profiled", ms);
    if (phase_ == Phase::Profiled) profiled_ms_ += ms;
    if (--left_ > 0) return;
    if (phase_ == Phase::Unprofiled) {
      phase_ = Phase::Profiled;
      left_ = steps_;
      return;
    }
    phase_ = Phase::Done;
    const auto trace = std::filesystem::temp_directory_path() / ("semharness-trace-" + std::to_string(getpid()) + "-" +
                                                                 std::to_string(trace_number()) + ".json");
    auto intervals = profiler_.stop(trace.string());
    mark_part(intervals, kSemScopePrefix);
    out.profile = profile_rows(std::move(intervals), steps_, profiled_ms_, device_.str());
    std::ifstream file(trace);
    out.trace_json.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    std::filesystem::remove(trace);
  }

 private:
  enum class Phase { Waiting, Unprofiled, Profiled, Done };
  bool timed() const { return phase_ == Phase::Unprofiled || phase_ == Phase::Profiled; }
  static int64_t trace_number() {
    static std::atomic<int64_t> next{0};
    return next++;
  }

  int64_t steps_;
  c10::Device device_;
  Phase phase_ = Phase::Waiting;
  int64_t steps_here_ = 0, left_ = 0;
  double profiled_ms_ = 0;
  std::chrono::steady_clock::time_point step_started_;
  OpProfiler profiler_;
};

// One run's pretraining in named steps: the data order and schedule, the training step, augmentation's
// generators, and the checkpoint that holds them. Everything that draws from a random generator is made in the
// order the numbers depend on (the subset, the online classifier's init, then augmentation's generators).
class PretrainLoop {
 public:
  PretrainLoop(SSLMethodImpl& method, const DeviceDataset& data, const Augmenter& augmenter, const RunSpec& spec,
               PhaseTimer& timer)
      : method_(method),
        data_(data),
        augmenter_(augmenter),
        timer_(timer),
        device_(data.train.device()),
        augment_seed_(static_cast<uint64_t>(spec.seed) + kAugmentSeedOffset),
        long_on_device_(torch::TensorOptions().dtype(torch::kLong).device(device_)),
        subset_(torch::randperm(data.train.size(), long_on_device_)),
        n_(spec.pretrain.train_subset > 0 ? std::min(data.train.size(), spec.pretrain.train_subset)
                                          : data.train.size()),
        batch_(std::min(spec.pretrain.batch_size, n_)),
        steps_per_epoch_(std::max<int64_t>(1, n_ / batch_)),
        epochs_(spec.pretrain.epochs),
        total_steps_(epochs_ * steps_per_epoch_),
        warmup_steps_(spec.pretrain.warmup_epochs * steps_per_epoch_),
        base_lr_(spec.pretrain.lr),
        prefetch_(spec.pretrain.prefetch),
        recipe_(augment_recipe(method.options.method())),
        training_(method, spec, data.info.num_classes, device_),
        generators_(AugmentGenerators::seeded(device_, augment_seed_)),
        profiling_(spec.pretrain.profile_steps, device_),
        parts_{method,
               *training_.classifier(),
               training_.optimizer().momentum_buffers(),
               training_.classifier_optimizer(),
               training_.scaler().state(),
               device_,
               generators_} {}

  int64_t epochs() const { return epochs_; }

  // Goes on from the checkpoint at `path` when there is one: its curve into `out`, and the epoch to start at.
  int64_t resume(const std::string& path, PretrainResult& out) {
    if (path.empty()) return 1;
    auto resumed = load_checkpoint(path, parts_);
    if (!resumed) return 1;
    step_ = resumed->step;
    out.curve = std::move(resumed->curve);
    out.resumed_from_epoch = resumed->epochs_done;
    return resumed->epochs_done + 1;
  }

  struct EpochResult {
    double mean_loss, lr, online_train_top1;
  };

  EpochResult train_epoch(int64_t epoch, PretrainResult& out) {
    method_.on_epoch_start(epoch - 1, epochs_);
    // Accumulated on the device and read once per epoch: no host sync inside the step.
    auto loss_sum = torch::zeros({}, torch::TensorOptions().device(device_));
    auto online_correct = torch::zeros({}, long_on_device_);
    auto order = subset_.slice(0, 0, n_).index_select(0, torch::randperm(n_, long_on_device_));
    // A folder's decoder reads its rows on the host: one copy per epoch, not a sync per step.
    if (data_.train.folder) order = order.cpu();
    epoch_ = epoch;
    const auto make_batch = [this, &order](int64_t s) { return this->make_batch(order, s); };
    // The next batch is made while this step trains; never across an epoch's end, so that a checkpoint holds
    // augmentation's generator state after exactly the epochs it saved.
    std::future<Batch> next;
    if (prefetch_) next = std::async(std::launch::async, make_batch, 0);
    double lr = base_lr_;
    for (int64_t s = 0; s < steps_per_epoch_; ++s, ++step_) {
      profiling_.before_step(s, steps_per_epoch_);
      timer_.begin_step();
      Batch views;
      if (prefetch_) {
        views = timer_.time_host("data_wait", [&] { return next.get(); });
        if (s + 1 < steps_per_epoch_) next = std::async(std::launch::async, make_batch, s + 1);
      } else {
        views = timer_.time("augment", [&] { return make_batch(s); });
      }
      lr = warmup_cosine_lr(base_lr_, step_, warmup_steps_, total_steps_);
      training_.set_lr(lr);
      const auto loss =
          training_.run(views.view1, views.view2, views.labels, step_, total_steps_, timer_, online_correct);
      loss_sum += loss.to(torch::kFloat);
      profiling_.after_step(timer_, out);
    }
    const double seen = static_cast<double>(steps_per_epoch_ * batch_);
    return {loss_sum.item<double>() / static_cast<double>(steps_per_epoch_), lr,
            online_correct.item<int64_t>() * 100.0 / seen};
  }

  void save(const std::string& path, int64_t epoch, const std::vector<MetricRow>& curve) {
    const auto saving = std::chrono::steady_clock::now();
    save_checkpoint(path, parts_, {epoch, step_, curve});
    timer_.add_ms("checkpoint",
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - saving).count());
  }

  // The online classifier's top-1 on the test split (solo-learn validates it every epoch), timed as
  // online_eval.
  double online_classifier_test_top1() {
    const auto started = std::chrono::steady_clock::now();
    const double top1 = online_test_top1(method_, training_.classifier(), data_, augmenter_);
    timer_.add_ms("online_eval",
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    return top1;
  }

 private:
  // Step s's batch: its images gathered and both views augmented, from augmentation's own generators, so that
  // the numbers are the same whether a batch is made here or on the prefetch thread.
  Batch make_batch(const at::Tensor& order, int64_t s) {
    torch::NoGradGuard no_grad;
    c10::DeviceGuard on_device(device_);  // the current device is per thread
    if (prefetch_) use_one_intra_op_thread();
    const auto index = order.slice(0, s * batch_, (s + 1) * batch_);
    auto view = [&](const ViewAugmentOptions& options, int which) {
      return augmented_rows(data_.train, index, augmenter_, options, generators_, {augment_seed_, epoch_, which});
    };
    auto view1 = view(recipe_.view1, 0);  // first: both draw from generators_, in this order
    auto view2 = view(recipe_.view2, 1);
    return Batch{view1, view2, data_.train.labels.index_select(0, index.to(device_, /*non_blocking=*/true))};
  }

  SSLMethodImpl& method_;
  const DeviceDataset& data_;
  const Augmenter& augmenter_;
  PhaseTimer& timer_;
  c10::Device device_;
  uint64_t augment_seed_;
  torch::TensorOptions long_on_device_;
  at::Tensor subset_;
  int64_t n_, batch_, steps_per_epoch_, epochs_, total_steps_, warmup_steps_;
  double base_lr_;
  bool prefetch_;
  AugmentRecipe recipe_;
  TrainingStep training_;
  AugmentGenerators generators_;
  StepProfiling profiling_;
  CheckpointParts parts_;
  int64_t step_ = 0;
  int64_t epoch_ = 0;  // the epoch being trained: a folder's crops are keyed by it
};

}  // namespace

PretrainResult pretrain(SSLMethodImpl& method, const DeviceDataset& data, const Augmenter& augmenter,
                        const RunSpec& spec, PhaseTimer& timer, const ProgressFn& progress,
                        const CheckpointPolicy& checkpoint) {
  const auto started = std::chrono::steady_clock::now();
  PretrainResult out;
  PretrainLoop loop(method, data, augmenter, spec, timer);
  const int64_t first_epoch = loop.resume(checkpoint.path, out);
  method.train();
  std::optional<double> online_test_top1;  // of the last epoch trained
  for (int64_t epoch = first_epoch; epoch <= loop.epochs(); ++epoch) {
    const auto result = loop.train_epoch(epoch, out);
    out.curve.push_back({epoch, "train_loss", result.mean_loss});
    out.curve.push_back({epoch, "lr", result.lr});
    out.curve.push_back({epoch, "online_train_top1", result.online_train_top1});
    for (auto& [name, value] : method.epoch_diagnostics()) out.curve.push_back({epoch, std::move(name), value});
    if (std::isfinite(result.mean_loss)) {
      online_test_top1 = loop.online_classifier_test_top1();
      out.curve.push_back({epoch, std::string(kOnlineTestTop1Curve), *online_test_top1});
    }
    // Reported after the checkpoint is on disk: a worker killed after an "epoch N" line resumes after epoch N.
    const auto report = [&] {
      if (progress) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        progress({epoch, loop.epochs(), result.mean_loss, seconds});
      }
    };
    if (!std::isfinite(result.mean_loss)) {
      report();
      out.divergence =
          "training loss became " + std::to_string(result.mean_loss) + " in epoch " + std::to_string(epoch);
      return out;
    }
    if (!checkpoint.path.empty() && checkpoint.every > 0 && epoch % checkpoint.every == 0 && epoch < loop.epochs()) {
      loop.save(checkpoint.path, epoch, out.curve);
    }
    report();
  }
  // An untrained run (epochs = 0) has no epoch's value: measured here.
  if (!online_test_top1) online_test_top1 = loop.online_classifier_test_top1();
  out.results.push_back({"", std::string(kOnlineLinearProtocol), std::string(text(Feature::Backbone)), std::nullopt,
                         std::string(text(Split::Test)), std::string(kTop1Metric), *online_test_top1});
  return out;
}

}  // namespace semharness
