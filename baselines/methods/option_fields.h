#pragma once
// Options that describe themselves, torch-free: the grid parser, run identity and the README's key table
// build without LibTorch (SEMHARNESS_ARG is TORCH_ARG, whose header needs LibTorch's include path). An options struct
// declares each option once, with SEMHARNESS_ARG (a named setter and getter, as LibTorch's TORCH_ARG) and the default,
// and lists it in fields(), where it gets its grid key, bounds and help:
//
//   struct BYOLOptions {
//     SEMHARNESS_ARG(int64_t, pred_hidden) = 512;
//     template <typename Visitor> void fields(Visitor& v) {
//       v(pred_hidden_, "pred_hidden", at_least(1), "BYOL predictor hidden width");
//     }
//   };
//
// The visitor's calls, each taking the member by reference:
//   v(number, key, bounds, help)            an int64_t or double option
//   v(text, key, choices, help)             a std::string that is one of `choices`
//   v(flag, key, help)                      a bool, written on/off in a grid
//   v.ordered(lower_key, upper_key)         two options whose values must satisfy lower <= upper
//   v.added_later(key)                      an option added after runs were stored: part of a run's identity
//                                           only away from its default, so stored runs keep their ids
// One visitor reads the defaults into grid keys (harness/config/option_keys.h), another writes a run's values
// into the struct. A method's keys are "prefix.key"; the optimizer's are written whole.
#include <cstdint>
#include <utility>

#define SEMHARNESS_ARG(T, name)                                         \
 public:                                                                \
  inline auto name(const T& new_##name)->decltype(*this) { /* NOLINT */ \
    this->name##_ = new_##name;                                         \
    return *this;                                                       \
  }                                                                     \
  inline auto name(T&& new_##name)->decltype(*this) { /* NOLINT */      \
    this->name##_ = std::move(new_##name);                              \
    return *this;                                                       \
  }                                                                     \
  inline const T& name() const noexcept { /* NOLINT */                  \
    return this->name##_;                                               \
  }                                                                     \
  inline T& name() noexcept { /* NOLINT */                              \
    return this->name##_;                                               \
  }                                                                     \
                                                                        \
 private:                                                               \
  T name##_ /* NOLINT */

namespace semharness {

// The values an option accepts: a range, each end open or closed.
struct Bounds {
  double min = -1e300;
  double max = 1e300;
  bool min_exclusive = false;
  bool max_exclusive = false;
};

inline Bounds at_least(double min) { return Bounds{min, 1e300, false, false}; }
inline Bounds positive() { return Bounds{0, 1e300, true, false}; }
inline Bounds nonnegative() { return at_least(0); }
inline Bounds unit_interval() { return Bounds{0, 1, false, false}; }

}  // namespace semharness
