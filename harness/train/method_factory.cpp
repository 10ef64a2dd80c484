#include "harness/train/method_factory.h"

#include <string>
#include <utility>
#include <variant>

#include "harness/config/option_keys.h"

namespace semharness {
namespace {

MLPHeadOptions projector_options(const RunConfig& c, const ProjectorRecipe& recipe) {
  return MLPHeadOptions(0, c.i("proj.hidden"), c.i("proj.out"))
      .layers(recipe.layers)
      .batch_norm(recipe.batch_norm)
      .gelu(recipe.gelu)
      .init_std(recipe.init_std);
}

std::optional<SEMOptions> sem_options(const RunConfig& c) {
  const std::string& mode = c.str("sem");
  if (mode == "off") return std::nullopt;
  SEMOptions sem(0, c.i("sem.L"), c.i("sem.V"));
  sem.tau_online(c.f("sem.tau_online")).tau_target(c.f("sem.tau_target"));
  if (mode == "linear") sem.activation(SEMActivation::None);
  if (mode == "gumbel") sem.activation(SEMActivation::GumbelSoftmax);
  return sem;
}

}  // namespace

MethodOptions method_options(const RunConfig& c, int64_t in_channels) {
  BackboneOptions backbone(c.str("backbone"), in_channels);
  backbone.width(c.f("backbone.width"))
      .stem_padding(c.i("backbone.stem_padding"))
      .channels_last(c.str("backbone.channels_last") == "on");
  MethodChoice method = default_method_options(c.str("method"));
  std::visit([&](auto& options) { read_options(options, c, options.kKeyPrefix); }, method);
  EncoderOptions encoder(backbone, projector_options(c, projector_recipe(method)));
  encoder.sem(sem_options(c));
  return MethodOptions(std::move(method), encoder);
}

OptimizerOptions optimizer_options(const RunConfig& c) {
  OptimizerOptions options;
  read_options(options, c, "");
  return options;
}

}  // namespace semharness
