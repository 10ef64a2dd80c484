#include "harness/config/run_spec.h"

#include <variant>

#include <fmt/format.h>

#include "harness/config/errors.h"
#include "harness/config/option_keys.h"

namespace semharness {
namespace {

bool on(const RunConfig& c, const std::string& key) { return c.str(key) == "on"; }

}  // namespace

const char* text(EmbedderMode mode) {
  switch (mode) {
    case EmbedderMode::Off: return "off";
    case EmbedderMode::Softmax: return "on";
    case EmbedderMode::Linear: return "linear";
    case EmbedderMode::Gumbel: return "gumbel";
  }
  return "";
}

EmbedderMode parse_embedder_mode(const std::string& value, const std::string& what) {
  for (const EmbedderMode mode : kEmbedderModes) {
    if (value == text(mode)) return mode;
  }
  throw InputError(fmt::format("{}: sem = '{}': expected one of off, on, linear, gumbel", what, value));
}

RunSpec RunSpec::parse(const RunConfig& c) {
  RunSpec spec;
  spec.run_id = c.run_id();
  spec.seed = c.seed;
  spec.data = {c.str("dataset"), c.str("data_dir"), c.i("data.image_size"), c.str("data.classes"), c.i("data.workers")};
  spec.backbone = {c.str("backbone"), c.f("backbone.width"), c.str("backbone.stem"), c.i("backbone.stem_padding"),
                   on(c, "backbone.channels_last")};
  spec.projector = {c.i("proj.hidden"), c.i("proj.out")};

  auto& embedder = spec.embedder;
  embedder.mode_text = c.str("sem");
  embedder.mode = parse_embedder_mode(embedder.mode_text, "run " + spec.run_id);
  embedder.L = c.i("sem.L");
  embedder.V = c.i("sem.V");
  embedder.tau_online = c.f("sem.tau_online");
  embedder.tau_target = c.f("sem.tau_target");
  embedder.trained = on(c, "sem.train_embedder");

  spec.method = default_method_options(c.str("method"));
  std::visit([&](auto& options) { read_options(options, c, options.kKeyPrefix); }, spec.method);
  read_options(spec.optimizer, c, "");

  auto& pretrain = spec.pretrain;
  pretrain.epochs = c.i("epochs");
  pretrain.batch_size = c.i("batch_size");
  pretrain.warmup_epochs = c.i("warmup_epochs");
  pretrain.train_subset = c.i("train_subset");
  pretrain.lr = c.f("lr");
  pretrain.online_lr = c.f("online.lr");
  pretrain.online_classifier =
      c.str("online.classifier") == "solo_learn" ? OnlineClassifier::SoloLearn : OnlineClassifier::Separate;
  pretrain.grad_clip = c.f("grad_clip");
  pretrain.precision = c.str("precision");
  pretrain.prefetch = on(c, "prefetch");
  pretrain.checkpoint_every = c.i("checkpoint_every");
  pretrain.profile_steps = c.i("profile.steps");

  auto& probe = spec.probe;
  probe.split_seed = c.i("probe.split_seed");
  probe.val_fraction = c.f("probe.val_fraction");
  probe.train_subset = c.i("probe.train_subset");
  probe.protocols = split_list(c.str("probe.protocols"));
  probe.tau_d = c.floats("probe.tau_d");
  probe.tau_d_texts = split_list(c.str("probe.tau_d"));
  probe.sgd.lrs = c.floats("probe.lr");
  probe.sgd.wd1s = c.floats("probe.wd1");
  probe.sgd.wd2 = c.f("probe.wd2");
  probe.sgd.epochs = c.i("probe.epochs");
  probe.sgd.batch_size = c.i("probe.batch_size");
  probe.lbfgs.l2s = c.floats("probe.l2");
  probe.lbfgs.standardize = on(c, "probe.standardize");
  probe.lbfgs.max_iterations = c.i("probe.max_iter");
  probe.lbfgs.tolerance = c.f("probe.tolerance");
  probe.knn_k = c.i("knn.k");
  probe.knn_temperature = c.f("knn.T");
  probe.analysis_samples = c.i("analysis.samples");
  return spec;
}

}  // namespace semharness
