#pragma once
// The --device option of run and bench.
#include <string>

#include <c10/core/Device.h>

namespace semharness {

// "cpu", "cuda" (throws InputError when no CUDA device is available) or "auto" (CUDA when present).
c10::Device resolve_device(const std::string& name);
// Waits for the work queued on the device (CUDA); nothing to wait for on CPU. For timing device work.
void synchronize(c10::Device device);

}  // namespace semharness
