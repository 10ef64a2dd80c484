#include "harness/train/device.h"

#include <fmt/format.h>
#include <torch/cuda.h>

#include "harness/config/errors.h"

namespace semharness {

c10::Device resolve_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name == "cuda") {
    if (!torch::cuda::is_available()) throw InputError("--device cuda: no CUDA device is available (use auto or cpu)");
    return c10::Device(c10::kCUDA, 0);
  }
  if (name == "auto") return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  throw InputError(fmt::format("--device: expected auto, cpu or cuda, got '{}'", name));
}

void synchronize(c10::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

}  // namespace semharness
