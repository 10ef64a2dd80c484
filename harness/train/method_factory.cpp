#include "harness/train/method_factory.h"

#include <utility>

namespace semharness {
namespace {

MLPHeadOptions projector_options(const ProjectorSpec& projector, const ProjectorRecipe& recipe) {
  return MLPHeadOptions(0, projector.hidden, projector.out)
      .layers(recipe.layers)
      .batch_norm(recipe.batch_norm)
      .gelu(recipe.gelu)
      .init_std(recipe.init_std);
}

std::optional<SEMOptions> sem_options(const EmbedderSpec& embedder) {
  if (!embedder.present()) return std::nullopt;
  SEMOptions sem(0, embedder.L, embedder.V);
  sem.tau_online(embedder.tau_online).tau_target(embedder.tau_target);
  if (embedder.mode == EmbedderMode::Linear) sem.activation(SEMActivation::None);
  if (embedder.mode == EmbedderMode::Gumbel) sem.activation(SEMActivation::GumbelSoftmax);
  return sem;
}

}  // namespace

MethodOptions method_options(const RunSpec& spec, int64_t in_channels) {
  BackboneOptions backbone(spec.backbone.name, in_channels);
  backbone.width(spec.backbone.width)
      .stem(spec.backbone.stem)
      .stem_padding(spec.backbone.stem_padding)
      .channels_last(spec.backbone.channels_last);
  EncoderOptions encoder(backbone, projector_options(spec.projector, projector_recipe(spec.method)));
  encoder.sem(sem_options(spec.embedder)).train_embedder(spec.embedder.trained);
  return MethodOptions(spec.method, encoder);
}

}  // namespace semharness
