#include "harness/train/method_factory.h"

namespace semharness {
namespace {

MLPHeadOptions projector_options(const RunConfig& c) {
  const std::string& method = c.str("method");
  MLPHeadOptions projector(0, c.i("proj.hidden"), c.i("proj.out"));
  if (method == "simclr" || method == "mocov2plus" || method == "dino") projector.batch_norm(false);
  if (method == "barlow" || method == "vicreg" || method == "dino") projector.layers(3);
  if (method == "dino") projector.gelu(true).init_std(0.02);
  return projector;
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
  EncoderOptions encoder(backbone, projector_options(c));
  encoder.sem(sem_options(c));
  MethodOptions options(c.str("method"), encoder);
  options.simclr(SimCLROptions().temperature(c.f("simclr.temperature")));
  options.byol(BYOLOptions().pred_hidden(c.i("byol.pred_hidden")).ema_base(c.f("byol.ema_base")).ema_final(c.f("byol.ema_final")));
  options.moco(MoCoOptions()
                   .queue_size(c.i("moco.queue_size"))
                   .temperature(c.f("moco.temperature"))
                   .ema_base(c.f("moco.ema_base"))
                   .ema_final(c.f("moco.ema_final")));
  options.barlow(BarlowOptions().lambda(c.f("barlow.lambda")).scale(c.f("barlow.scale")));
  options.swav(SwAVOptions()
                   .prototypes(c.i("swav.prototypes"))
                   .temperature(c.f("swav.temperature"))
                   .queue_size(c.i("swav.queue_size"))
                   .queue_start_epoch(c.i("swav.queue_start_epoch"))
                   .freeze_prototypes_epochs(c.i("swav.freeze_prototypes_epochs"))
                   .sinkhorn_iterations(c.i("swav.sinkhorn_iterations"))
                   .epsilon(c.f("swav.epsilon")));
  options.dino(DINOOptions()
                   .prototypes(c.i("dino.prototypes"))
                   .bottleneck(c.i("proj.out"))
                   .student_temperature(c.f("dino.student_temperature"))
                   .warmup_teacher_temperature(c.f("dino.warmup_teacher_temperature"))
                   .teacher_temperature(c.f("dino.teacher_temperature"))
                   .warmup_teacher_temperature_epochs(c.i("dino.warmup_teacher_temperature_epochs"))
                   .center_momentum(c.f("dino.center_momentum"))
                   .freeze_last_layer_epochs(c.i("dino.freeze_last_layer_epochs"))
                   .ema_base(c.f("dino.ema_base"))
                   .ema_final(c.f("dino.ema_final")));
  options.vicreg(VICRegOptions()
                     .sim_weight(c.f("vicreg.sim_weight"))
                     .var_weight(c.f("vicreg.var_weight"))
                     .cov_weight(c.f("vicreg.cov_weight")));
  return options;
}

OptimizerOptions optimizer_options(const RunConfig& c) {
  return OptimizerOptions()
      .name(c.str("optimizer"))
      .lr(c.f("lr"))
      .momentum(0.9)
      .weight_decay(c.f("wd"))
      .lars_eta(c.f("lars.eta"))
      .lars_clip(c.str("lars.clip") == "on");
}

}  // namespace semharness
