#pragma once
// The SSL methods the harness knows, in the paper's order: the one list. A method is a folder under
// baselines/methods/ (its options struct with defaults, keys, help, bounds and recipes; its heads and loss)
// plus one line in MethodChoice. The `method` key's choices, the grid keys of every method, the factory and
// the README's tables all come from here. Torch-free.
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "baselines/methods/barlow_twins/barlow_twins_options.h"
#include "baselines/methods/byol/byol_options.h"
#include "baselines/methods/dino/dino_options.h"
#include "baselines/methods/mocov2plus/mocov2plus_options.h"
#include "baselines/methods/simclr/simclr_options.h"
#include "baselines/methods/swav/swav_options.h"
#include "baselines/methods/vicreg/vicreg_options.h"

namespace semharness {

using MethodChoice = std::variant<SimCLROptions, MoCoV2PlusOptions, BYOLOptions, BarlowTwinsOptions, SwAVOptions,
                                  DINOOptions, VICRegOptions>;

namespace detail {
template <typename F, std::size_t... I>
void for_each_method(F& f, std::index_sequence<I...>) {
  (f(std::variant_alternative_t<I, MethodChoice>{}), ...);
}
}  // namespace detail

// f(options) for each method's default options, in the list's order.
template <typename F>
void for_each_method(F&& f) {
  detail::for_each_method(f, std::make_index_sequence<std::variant_size_v<MethodChoice>>{});
}

// The names of the methods (values of the grid key `method`), in the list's order.
inline const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for_each_method([&](const auto& method) { out.push_back(method.kName); });
    return out;
  }();
  return names;
}

// The default options of the method named `name`; throws std::invalid_argument for an unknown one.
inline MethodChoice default_method_options(const std::string& name) {
  std::optional<MethodChoice> found;
  for_each_method([&](const auto& method) {
    if (name == method.kName) found = method;
  });
  if (!found) throw std::invalid_argument("unknown method '" + name + "'");
  return *found;
}

inline std::string method_name(const MethodChoice& method) {
  return std::visit([](const auto& m) -> std::string { return m.kName; }, method);
}

inline ProjectorRecipe projector_recipe(const MethodChoice& method) {
  return std::visit([](const auto& m) { return m.projector(); }, method);
}

inline AugmentRecipe augment_recipe(const MethodChoice& method) {
  return std::visit([](const auto& m) { return m.augment(); }, method);
}

}  // namespace semharness
