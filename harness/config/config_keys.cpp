// The table of grid keys. Defaults are written in canonical form (a test checks that they are).
#include <algorithm>
#include <utility>

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

KeySpec choice_key(std::string name, std::vector<std::string> choices, std::string default_value,
                   std::string help) {
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

std::vector<KeySpec> build_config_keys() {
  KeySpec val_fraction = unit_interval_float_key("probe.val_fraction", "0.1",
                                                 "fraction of the training set held out to select probes");
  val_fraction.min_exclusive = true;
  val_fraction.max_exclusive = true;

  return {
      text_key("name", "", "grid name; empty: the grid file's stem"),
      choice_key("dataset", {"fashion_mnist", "cifar10", "cifar100", "synthetic"}, "fashion_mnist",
                 "dataset to pretrain and probe on"),
      text_key("data_dir", "", "dataset files; empty: the dataset's default location"),
      choice_key("backbone", {"convnet", "resnet18"}, "convnet", "backbone network"),
      positive_float_key("backbone.width", "1", "channel width multiplier of the backbone"),
      int_key("backbone.stem_padding", "2", 0, "padding of the CIFAR ResNet-18 stem conv (paper: 2)"),
      not_identity(choice_key("backbone.channels_last", {"on", "off"}, "on",
                              "channels-last (NHWC) convolutions: the same function, faster on oneDNN and cuDNN")),
      int_key("epochs", "10", 0, "pretraining epochs"),
      int_key("batch_size", "256", 2, "pretraining batch size"),
      choice_key("optimizer", {"sgd", "lars"}, "sgd", "pretraining optimizer"),
      positive_float_key("lr", "0.3", "pretraining base learning rate"),
      nonnegative_float_key("wd", "1e-05", "pretraining weight decay"),
      nonnegative_float_key("lars.eta", "0.02", "LARS trust coefficient"),
      choice_key("lars.clip", {"on", "off"}, "on", "clip the LARS rate to the base learning rate"),
      int_key("warmup_epochs", "0", 0, "linear warmup epochs before the cosine schedule"),
      nonnegative_float_key("grad_clip", "0", "clip the gradient's global L2 norm to this; 0: off"),
      not_identity(choice_key("prefetch", {"on", "off"}, "on",
                              "augment the next batch on a thread of its own while the current step trains")),
      choice_key("precision", {"fp32", "bf16", "fp16"}, "bf16", "autocast precision on CUDA (the CPU runs fp32)"),
      positive_float_key("online.lr", "0.1", "learning rate of the online linear classifier"),
      int_key("train_subset", "0", 0, "training images used for pretraining; 0: all"),
      not_identity(int_key("checkpoint_every", "1", 0,
                           "save a resumable checkpoint every N pretraining epochs; 0: never")),
      not_identity(int_key("analysis.samples", "2000", 0,
                           "training and test images whose features and probe weights a finished run saves "
                           "next to the database for the analyses; 0: none")),
      choice_key("method", {"simclr", "mocov2plus", "byol", "barlow", "swav", "dino", "vicreg"}, "simclr",
                 "self-supervised method"),
      choice_key("sem", {"off", "on", "linear", "gumbel"}, "off",
                 "embedder: off; on (SEM); linear (Linear+BN, no softmax); gumbel (straight-through Gumbel-softmax)"),
      int_key("sem.L", "64", 1, "number of simplices"),
      int_key("sem.V", "8", 1, "vertices per simplex"),
      positive_float_key("sem.tau_online", "1", "softmax temperature of the online branch / view 1"),
      positive_float_key("sem.tau_target", "1", "softmax temperature of the target branch / view 2"),
      int_key("proj.hidden", "512", 1, "projector hidden width"),
      int_key("proj.out", "128", 1, "projector output width"),
      positive_float_key("simclr.temperature", "0.2", "NT-Xent temperature"),
      int_key("byol.pred_hidden", "512", 1, "BYOL predictor hidden width"),
      unit_interval_float_key("byol.ema_base", "0.99", "BYOL target EMA momentum at the start"),
      unit_interval_float_key("byol.ema_final", "1", "BYOL target EMA momentum at the end"),
      int_key("moco.queue_size", "32768", 1, "MoCo queue of negatives"),
      positive_float_key("moco.temperature", "0.2", "MoCo InfoNCE temperature"),
      unit_interval_float_key("moco.ema_base", "0.99", "MoCo key encoder EMA momentum at the start"),
      unit_interval_float_key("moco.ema_final", "0.999", "MoCo key encoder EMA momentum at the end"),
      nonnegative_float_key("barlow.lambda", "0.0051", "Barlow Twins off-diagonal weight"),
      positive_float_key("barlow.scale", "0.1", "Barlow Twins loss scale"),
      int_key("swav.prototypes", "3000", 1, "SwAV prototypes"),
      positive_float_key("swav.temperature", "0.1", "SwAV softmax temperature"),
      int_key("swav.queue_size", "3840", 0, "SwAV queue of past projections; 0: none"),
      int_key("swav.queue_start_epoch", "50", 0, "epoch from which SwAV uses its queue"),
      int_key("swav.freeze_prototypes_epochs", "2", 0, "epochs during which SwAV's prototypes stay fixed"),
      int_key("swav.sinkhorn_iterations", "3", 1, "Sinkhorn-Knopp iterations"),
      positive_float_key("swav.epsilon", "0.05", "Sinkhorn-Knopp entropy regularisation"),
      int_key("dino.prototypes", "4096", 1, "DINO prototypes"),
      positive_float_key("dino.student_temperature", "0.1", "DINO student temperature"),
      positive_float_key("dino.warmup_teacher_temperature", "0.04", "DINO teacher temperature at epoch 0"),
      positive_float_key("dino.teacher_temperature", "0.07", "DINO teacher temperature after warmup"),
      int_key("dino.warmup_teacher_temperature_epochs", "50", 0, "DINO teacher temperature warmup epochs"),
      unit_interval_float_key("dino.center_momentum", "0.9", "DINO centre EMA momentum"),
      int_key("dino.freeze_last_layer_epochs", "1", 0, "epochs during which DINO's last layer stays fixed"),
      unit_interval_float_key("dino.ema_base", "0.9995", "DINO teacher EMA momentum at the start"),
      unit_interval_float_key("dino.ema_final", "1", "DINO teacher EMA momentum at the end"),
      nonnegative_float_key("vicreg.sim_weight", "25", "VICReg invariance weight"),
      nonnegative_float_key("vicreg.var_weight", "25", "VICReg variance weight"),
      nonnegative_float_key("vicreg.cov_weight", "1", "VICReg covariance weight"),
      as_run_list(positive_float_key("probe.tau_d", "0.01,0.1,1", "downstream SEM temperatures probed")),
      as_run_list(choice_key("probe.protocols", {"lbfgs", "sgd"}, "lbfgs",
                             "linear probes trained on every frozen feature, each stored under its own protocol: "
                             "lbfgs (full-batch L-BFGS to convergence: lbfgs_probe), sgd (the authors' SGD "
                             "probe, SPEC §2: linear_probe)")),
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
}

}  // namespace

const std::vector<KeySpec>& config_keys() {
  static const std::vector<KeySpec> keys = build_config_keys();
  return keys;
}

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
