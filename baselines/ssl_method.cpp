#include "baselines/ssl_method.h"

#include <stdexcept>

#include <torch/torch.h>

#include "baselines/byol.h"
#include "baselines/simclr.h"

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

std::shared_ptr<SSLMethodImpl> make_method(const MethodOptions& options) {
  if (options.name() == "simclr") return std::make_shared<SimCLRImpl>(options);
  if (options.name() == "byol") return std::make_shared<BYOLImpl>(options);
  throw std::invalid_argument("unknown method '" + options.name() + "' (expected simclr or byol)");
}

}  // namespace semharness
