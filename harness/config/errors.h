#pragma once
// Errors the CLI maps to exit codes: InputError is bad input from the user (a grid file, a key, a value, a
// dataset file, a database path) and exits 2 with its one-line message; anything else exits 1.
#include <stdexcept>
#include <string>

namespace semharness {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace semharness
