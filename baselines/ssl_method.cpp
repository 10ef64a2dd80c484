#include "baselines/ssl_method.h"

#include <type_traits>
#include <variant>

#include <torch/torch.h>

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

std::shared_ptr<SSLMethodImpl> make_method(const MethodOptions& options) {
  return std::visit([&](const auto& method) { return std::decay_t<decltype(method)>::make(options); },
                    options.method());
}

}  // namespace semharness
