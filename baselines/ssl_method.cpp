#include "baselines/ssl_method.h"

#include <stdexcept>

#include <torch/torch.h>

#include "baselines/barlow_twins.h"
#include "baselines/byol.h"
#include "baselines/dino.h"
#include "baselines/mocov2plus.h"
#include "baselines/simclr.h"
#include "baselines/swav.h"
#include "baselines/vicreg.h"

namespace semharness {

SSLMethodImpl::SSLMethodImpl(const MethodOptions& options_) : options(options_) {
  online = register_module("online", Encoder(options.encoder()));
}

std::vector<torch::Tensor> SSLMethodImpl::trainable_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : parameters()) {
    if (p.requires_grad()) out.push_back(p);
  }
  return out;
}

double SSLMethodImpl::tau_online() const {
  const auto& sem = options.encoder().sem();
  return sem ? sem->tau_online() : 1.0;
}

double SSLMethodImpl::tau_target() const {
  const auto& sem = options.encoder().sem();
  return sem ? sem->tau_target() : 1.0;
}

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = {"simclr", "mocov2plus", "byol", "barlow", "swav", "dino", "vicreg"};
  return names;
}

std::shared_ptr<SSLMethodImpl> make_method(const MethodOptions& options) {
  const auto& name = options.name();
  if (name == "simclr") return std::make_shared<SimCLRImpl>(options);
  if (name == "mocov2plus") return std::make_shared<MoCoV2PlusImpl>(options);
  if (name == "byol") return std::make_shared<BYOLImpl>(options);
  if (name == "barlow") return std::make_shared<BarlowTwinsImpl>(options);
  if (name == "swav") return std::make_shared<SwAVImpl>(options);
  if (name == "dino") return std::make_shared<DINOImpl>(options);
  if (name == "vicreg") return std::make_shared<VICRegImpl>(options);
  throw std::invalid_argument("unknown method '" + name + "'");
}

}  // namespace semharness
