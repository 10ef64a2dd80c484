#pragma once
// POSIX shell quoting for the command lines semharness writes (sbatch scripts, provenance) and tests run.
// Torch-free.
#include <string>
#include <vector>

namespace semharness {

// text unchanged when it holds only characters the shell takes literally, else single-quoted.
std::string shell_quote(const std::string& text);
// words quoted and joined by spaces.
std::string shell_join(const std::vector<std::string>& words);

}  // namespace semharness
