#pragma once
// A run's settings, typed. RunSpec::parse reads a run's configuration (the grid's key = value text,
// harness/config/run_config.h) in one place; training, probing, the benchmarks and the analyses of stored runs
// take a RunSpec and never read a key by its name. The defaults are the keys' (config_keys.cpp and the
// options structs of baselines/). Torch-free.
#include <cstdint>
#include <string>
#include <vector>

#include "baselines/methods/method_list.h"
#include "baselines/optimizer_options.h"
#include "harness/config/run_config.h"
#include "harness/probe/probe_spec.h"

namespace semharness {

struct DataSpec {
  std::string dataset;     // fashion_mnist, cifar10, cifar100, synthetic, image_folder
  std::string data_dir;    // empty: the dataset's default location
  int64_t image_size = 0;  // image_folder: crop side
  std::string classes;     // image_folder: all, imagenet100
  int64_t workers = 0;     // image_folder: decode threads; 0: one per core
};

struct BackboneSpec {
  std::string name;  // convnet, resnet18, resnet50
  double width = 0;
  std::string stem;  // ResNets: cifar, imagenet
  int64_t stem_padding = 0;
  bool channels_last = false;
};

enum class EmbedderMode { Off, Softmax, Linear, Gumbel };  // key sem: off, on, linear, gumbel

// Every mode, in the order tables list them: the baseline, SEM, then the controls.
constexpr EmbedderMode kEmbedderModes[] = {EmbedderMode::Off, EmbedderMode::Softmax, EmbedderMode::Linear,
                                           EmbedderMode::Gumbel};
// The key's text of a mode ("off", "on", "linear", "gumbel"), and back; parse throws InputError naming `what`
// for any other text.
const char* text(EmbedderMode mode);
EmbedderMode parse_embedder_mode(const std::string& text, const std::string& what);

struct EmbedderSpec {
  EmbedderMode mode = EmbedderMode::Off;
  std::string mode_text;  // as the key wrote it, for meta.json and labels
  int64_t L = 0, V = 0;
  double tau_online = 0, tau_target = 0;
  bool trained = true;  // sem.train_embedder

  bool present() const { return mode != EmbedderMode::Off; }
  // SEM proper or its Gumbel variant: the probed features include softmax(e / tau_d).
  bool has_simplices() const { return mode == EmbedderMode::Softmax || mode == EmbedderMode::Gumbel; }
};

struct ProjectorSpec {
  int64_t hidden = 0, out = 0;
};

// How the online linear classifier trains (key online.classifier).
enum class OnlineClassifier {
  Separate,   // "separate": on view 1, by an SGD of its own
  SoloLearn,  // "solo_learn": on both views, a parameter group of the main optimizer (the authors')
};

struct PretrainSpec {
  int64_t epochs = 0, batch_size = 0, warmup_epochs = 0;
  int64_t train_subset = 0;  // 0: all training images
  double lr = 0, online_lr = 0, grad_clip = 0;
  OnlineClassifier online_classifier = OnlineClassifier::Separate;
  std::string precision;  // fp32, bf16, fp16 (autocast on CUDA)
  bool prefetch = false;
  int64_t checkpoint_every = 0;  // 0: never
  int64_t profile_steps = 0;     // steps recorded by the profiler; 0: none
};

// The probes of the frozen features after pretraining.
struct ProbeSuiteSpec {
  int64_t split_seed = 0;
  double val_fraction = 0;
  int64_t train_subset = 0;            // 0: the whole probe-training split
  std::vector<std::string> protocols;  // the key's items: lbfgs, sgd
  std::vector<double> tau_d;
  std::vector<std::string> tau_d_texts;  // tau_d as written in the key ("0.1"), for file names
  SgdProbeSpec sgd;
  LbfgsProbeSpec lbfgs;
  int64_t knn_k = 0;
  double knn_temperature = 0;
  int64_t analysis_samples = 0;  // images whose features a finished run stores; 0: none
};

struct RunSpec {
  std::string run_id;
  int64_t seed = 0;
  DataSpec data;
  BackboneSpec backbone;
  ProjectorSpec projector;
  EmbedderSpec embedder;
  MethodChoice method;  // the method's own options, read from its keys
  OptimizerOptions optimizer;
  PretrainSpec pretrain;
  ProbeSuiteSpec probe;

  // Throws std::out_of_range naming a key the configuration lacks, InputError for a value that does not parse.
  static RunSpec parse(const RunConfig& config);
};

}  // namespace semharness
