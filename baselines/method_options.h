#pragma once
// A method's whole configuration: which method with its own options (baselines/methods/method_list.h) and
// the encoder it trains (backbone, SEM, projector).
#include <string>
#include <utility>

#include <torch/arg.h>

#include "baselines/encoder.h"
#include "baselines/methods/method_list.h"

namespace semharness {

struct MethodOptions {
  MethodOptions(MethodChoice method, EncoderOptions encoder)
      : method_(std::move(method)), encoder_(std::move(encoder)) {}
  // The method named `name` with its default options.
  MethodOptions(const std::string& name, EncoderOptions encoder)
      : MethodOptions(default_method_options(name), std::move(encoder)) {}
  TORCH_ARG(MethodChoice, method);
  TORCH_ARG(EncoderOptions, encoder);

 public:
  std::string name() const { return method_name(method_); }
  // The options of the method, which must be T's (std::bad_variant_access otherwise).
  template <typename T>
  const T& get() const {
    return std::get<T>(method_);
  }
  template <typename T>
  T& get() {
    return std::get<T>(method_);
  }
};

}  // namespace semharness
