// The table of grid keys. Defaults written here are in canonical form (a test checks that they are); the
// keys of the optimizer and of each SSL method come from their options structs (baselines/), which hold
// their defaults, bounds and help.
#include <algorithm>
#include <utility>

#include "baselines/methods/method_list.h"
#include "baselines/optimizer_options.h"
#include "harness/config/option_keys.h"
#include "harness/config/run_config.h"

namespace semharness {
namespace {

KeySpec make_key(std::string name, KeyType type, std::string default_value, std::string help) {
  KeySpec spec{};
  spec.name = std::move(name);
  spec.type = type;
  spec.default_value = std::move(default_value);
  spec.help = std::move(help);
  return spec;
}

KeySpec text_key(std::string name, std::string default_value, std::string help) {
  KeySpec spec = make_key(std::move(name), KeyType::String, std::move(default_value), std::move(help));
  spec.identity = false;
  return spec;
}

}  // namespace

KeySpec option_key(const std::string& name, KeyType type, const std::string& raw_default, const Bounds& bounds,
                   const std::vector<std::string>& choices, const std::string& help) {
  KeySpec spec = make_key(name, type, "", help);
  spec.min = bounds.min;
  spec.max = bounds.max;
  spec.min_exclusive = bounds.min_exclusive;
  spec.max_exclusive = bounds.max_exclusive;
  spec.choices = choices;
  spec.default_value = canonical_value(spec, raw_default, "the default of " + name);
  return spec;
}

namespace {

KeySpec choice_key(std::string name, std::vector<std::string> choices, std::string default_value, std::string help) {
  KeySpec spec = make_key(std::move(name), KeyType::Choice, std::move(default_value), std::move(help));
  spec.choices = std::move(choices);
  return spec;
}

KeySpec int_key(std::string name, std::string default_value, double min, std::string help) {
  KeySpec spec = make_key(std::move(name), KeyType::Int, std::move(default_value), std::move(help));
  spec.min = min;
  return spec;
}

KeySpec positive_float_key(std::string name, std::string default_value, std::string help) {
  KeySpec spec = make_key(std::move(name), KeyType::Float, std::move(default_value), std::move(help));
  spec.min = 0;
  spec.min_exclusive = true;
  return spec;
}

KeySpec nonnegative_float_key(std::string name, std::string default_value, std::string help) {
  KeySpec spec = make_key(std::move(name), KeyType::Float, std::move(default_value), std::move(help));
  spec.min = 0;
  return spec;
}

KeySpec unit_interval_float_key(std::string name, std::string default_value, std::string help) {
  KeySpec spec = make_key(std::move(name), KeyType::Float, std::move(default_value), std::move(help));
  spec.min = 0;
  spec.max = 1;
  return spec;
}

KeySpec as_run_list(KeySpec spec) {
  spec.run_list = true;
  return spec;
}

// Keys that change how a run is carried out, not what it computes: not part of its identity.
KeySpec not_identity(KeySpec spec) {
  spec.identity = false;
  return spec;
}

// Keys added after runs were stored: part of a run's identity only away from their default.
KeySpec added_later(KeySpec spec) {
  spec.identity_at_default = false;
  return spec;
}

struct KeyTable {
  std::vector<KeySpec> keys;
  std::vector<KeyOrder> orders;
};

// Appends `more`'s keys and orders to the table's.
void append(std::vector<KeySpec>& keys, std::vector<KeyOrder>& orders, const OptionKeys& more) {
  keys.insert(keys.end(), more.keys.begin(), more.keys.end());
  orders.insert(orders.end(), more.orders.begin(), more.orders.end());
}

std::vector<KeySpec> build_config_keys(std::vector<KeyOrder>& orders) {
  KeySpec val_fraction =
      unit_interval_float_key("probe.val_fraction", "0.1", "fraction of the training set held out to select probes");
  val_fraction.min_exclusive = true;
  val_fraction.max_exclusive = true;

  std::vector<KeySpec> keys = {
      text_key("name", "", "grid name; empty: the grid file's stem"),
      choice_key("dataset", {"fashion_mnist", "cifar10", "cifar100", "synthetic", "image_folder"}, "fashion_mnist",
                 "dataset to pretrain and probe on; image_folder: JPEG/PNG files in data_dir/{train,val}/CLASS/, "
                 "decoded per batch"),
      text_key("data_dir", "", "dataset files; empty: the dataset's default location"),
      added_later(int_key("data.image_size", "224", 8,
                          "image_folder: side of the square crops the backbone sees (training: RandomResizedCrop; "
                          "evaluation: Resize(size * 256 / 224) + CenterCrop(size))")),
      added_later(choice_key("data.classes", {"all", "imagenet100"}, "all",
                             "image_folder: the class folders used; imagenet100: the 100 of the CMC paper "
                             "(results/imagenet100_classes.txt)")),
      not_identity(int_key("data.workers", "0", 0, "image_folder: threads decoding each batch; 0: one per core")),
      choice_key("backbone", {"convnet", "resnet18", "resnet50"}, "convnet", "backbone network"),
      positive_float_key("backbone.width", "1", "channel width multiplier of the backbone"),
      added_later(choice_key("backbone.stem", {"cifar", "imagenet"}, "cifar",
                             "ResNet stem: cifar (3x3 stride-1 conv, no max-pool: the paper's CIFAR code) or imagenet "
                             "(torchvision's 7x7 stride-2 conv and 3x3 stride-2 max-pool)")),
      int_key("backbone.stem_padding", "2", 0, "padding of the CIFAR ResNet stem conv (paper: 2)"),
      not_identity(choice_key("backbone.channels_last", {"on", "off"}, "on",
                              "channels-last (NHWC) convolutions: the same function, faster on oneDNN and cuDNN")),
      int_key("epochs", "10", 0, "pretraining epochs"),
      int_key("batch_size", "256", 2, "pretraining batch size"),
      int_key("warmup_epochs", "0", 0, "linear warmup epochs before the cosine schedule"),
      nonnegative_float_key("grad_clip", "0", "clip the gradient's global L2 norm to this; 0: off"),
      not_identity(choice_key("prefetch", {"on", "off"}, "on",
                              "augment the next batch on a thread of its own while the current step trains")),
      choice_key("precision", {"fp32", "bf16", "fp16"}, "bf16", "autocast precision on CUDA (the CPU runs fp32)"),
      positive_float_key("online.lr", "0.1", "learning rate of the online linear classifier"),
      added_later(choice_key("online.classifier", {"separate", "solo_learn"}, "separate",
                             "online linear classifier: separate (view 1, an SGD of its own) or solo_learn (both "
                             "views, a parameter group of the main optimizer, LARS included; the authors')")),
      int_key("train_subset", "0", 0, "training images used for pretraining; 0: all"),
      not_identity(
          int_key("checkpoint_every", "1", 0, "save a resumable checkpoint every N pretraining epochs; 0: never")),
      not_identity(int_key("analysis.samples", "2000", 0,
                           "training and test images whose features and probe weights a finished run saves "
                           "next to the database for the analyses; 0: none")),
      not_identity(int_key("profile.steps", "0", 0,
                           "record N training steps (after warm-up) with LibTorch's profiler: per-operator and "
                           "per-kernel times into the profile table, trace.json next to the database; the N steps "
                           "before them run unprofiled and are timed, for the profiler's overhead; 0: off")),
      choice_key("method", method_names(), method_names().front(), "self-supervised method"),
      choice_key("sem", {"off", "on", "linear", "gumbel"}, "off",
                 "embedder: off; on (SEM); linear (Linear+BN, no softmax); gumbel (straight-through Gumbel-softmax)"),
      int_key("sem.L", "64", 1, "number of simplices"),
      int_key("sem.V", "8", 1, "vertices per simplex"),
      positive_float_key("sem.tau_online", "1", "softmax temperature of the online branch / view 1"),
      positive_float_key("sem.tau_target", "1", "softmax temperature of the target branch / view 2"),
      added_later(choice_key("sem.train_embedder", {"on", "off"}, "on",
                             "train the embedder (Linear + BN affine); off: they keep their initial values and only "
                             "BN's running statistics move, as in the authors' SimCLR, SwAV and Barlow Twins files")),
      int_key("proj.hidden", "512", 1, "projector hidden width"),
      int_key("proj.out", "128", 1, "projector output width"),
      as_run_list(positive_float_key("probe.tau_d", "0.01,0.1,1", "downstream SEM temperatures probed")),
      as_run_list(choice_key("probe.protocols", {"lbfgs", "sgd", "sgd_augmented"}, "lbfgs",
                             "linear probes trained on every frozen feature, each stored under its own protocol: "
                             "lbfgs (full-batch L-BFGS to convergence: lbfgs_probe), sgd (the authors' SGD "
                             "probe, SPEC §2, on fixed features: linear_probe), sgd_augmented (the same probe on "
                             "features recomputed from augmented images each batch, as the authors' code runs it: "
                             "linear_probe_augmented)")),
      choice_key("probe.standardize", {"on", "off"}, "on",
                 "L-BFGS probe: standardise each feature dimension with training-split mean and std (folded "
                 "into the stored weights); off: raw features, stored as lbfgs_probe_raw"),
      as_run_list(positive_float_key("probe.l2", "1e-06,1e-05,0.0001,0.001,0.01,0.1",
                                     "L-BFGS probe L2 penalties (mean cross-entropy + l2 * sum W^2), one "
                                     "selected on validation")),
      int_key("probe.max_iter", "1000", 1, "L-BFGS probe iterations per penalty at most"),
      positive_float_key("probe.tolerance", "0.0001",
                         "L-BFGS probe: converged when no entry of the objective's gradient exceeds this"),
      int_key("probe.epochs", "100", 1, "SGD probe epochs"),
      as_run_list(positive_float_key("probe.lr", "0.01,0.1,0.2", "SGD probe learning rates")),
      as_run_list(nonnegative_float_key("probe.wd1", "0,1e-05", "SGD probe L1 penalties")),
      nonnegative_float_key("probe.wd2", "0", "SGD probe L2 penalty"),
      int_key("probe.batch_size", "256", 1, "SGD probe batch size"),
      int_key("probe.train_subset", "0", 0, "labelled training images for the probe; 0: all"),
      val_fraction,
      int_key("probe.split_seed", "1337", 0, "seed of the train/validation split"),
      int_key("knn.k", "200", 1, "kNN classifier neighbours"),
      positive_float_key("knn.T", "0.1", "kNN classifier temperature"),
  };
  // The optimizer's keys follow the batch size; the methods' own keys follow the projector's.
  std::vector<KeySpec> table;
  for (const KeySpec& spec : keys) {
    table.push_back(spec);
    if (spec.name == "batch_size") append(table, orders, option_keys(OptimizerOptions(), ""));
    if (spec.name == "proj.out") {
      for_each_method([&](const auto& method) { append(table, orders, option_keys(method, method.kKeyPrefix)); });
    }
  }
  return table;
}

const KeyTable& key_table() {
  static const KeyTable table = [] {
    KeyTable built;
    built.keys = build_config_keys(built.orders);
    return built;
  }();
  return table;
}

}  // namespace

const std::vector<KeySpec>& config_keys() { return key_table().keys; }

const std::vector<KeyOrder>& ordered_keys() { return key_table().orders; }

const KeySpec* find_key(const std::string& name) {
  const auto& keys = config_keys();
  auto it = std::find_if(keys.begin(), keys.end(), [&](const KeySpec& spec) { return spec.name == name; });
  return it == keys.end() ? nullptr : &*it;
}

std::string column_name(const std::string& key) {
  std::string column = key;
  std::replace(column.begin(), column.end(), '.', '_');
  return column;
}

}  // namespace semharness
