#pragma once
// Provenance of a run: what built the harness, where and how it ran, and its peak memory. Stored per run in
// the store's provenance table (Store::set_provenance) as key -> text value; README.md lists the keys.
#include <string>
#include <utility>
#include <vector>

#include <c10/core/Device.h>

#include "harness/config/shell_words.h"

namespace semharness {

// Facts of the build, generated at build time by cmake/BuildInfo.cmake (build/generated/build_info.cpp).
struct BuildInfo {
  std::string git_commit;  // 40 hex digits of HEAD, or "unknown" outside a git checkout
  std::string git_dirty;   // "true" when tracked files differ from HEAD, "false", or "unknown"
  std::string build_type;  // CMake build type, e.g. "RelWithDebInfo"
  std::string compiler;    // CMake compiler id and version, e.g. "GNU 12.2.0"
};
const BuildInfo& build_info();

using ProvenanceEntries = std::vector<std::pair<std::string, std::string>>;

// Build, software, device, host and process facts for a run on `device`: git_commit, git_dirty, build_type,
// compiler, libtorch_version, device, cpu_model, cores, threads, host, pid, command_line; on CUDA also
// gpu_name, gpu_memory_mib, gpu_compute_capability, cuda_runtime, cuda_driver and (when readable)
// nvidia_driver; slurm_job_id, slurm_array_job_id and slurm_array_task_id when those SLURM variables are set.
ProvenanceEntries run_provenance(c10::Device device);

// The CPU compute paths LibTorch takes here (from at::show_config and the process): blas ("mkl"),
// onednn ("v3.13.3"), cpu_capability ("AVX512": the vector kernels ATen dispatches to), parallel_backend
// ("OpenMP"), allocator ("tcmalloc" when linked, else "glibc malloc"). Part of every run's provenance.
ProvenanceEntries compute_backends();
// The same in one line for start-up output, e.g. "LibTorch 2.15.0: BLAS mkl, oneDNN v3.13.3, AVX512
// kernels, OpenMP with 2 threads, tcmalloc".
std::string compute_backends_line();

// Starts a new peak-memory window: resets the process's peak resident set (Linux: VmHWM, via
// /proc/self/clear_refs) and, on CUDA, the caching allocator's peak statistics of the device.
void reset_peak_memory(c10::Device device);

// Peaks since the last reset_peak_memory (or process start): peak_rss_mib; on CUDA also
// peak_cuda_allocated_mib and peak_cuda_reserved_mib. Values in MiB with one decimal.
ProvenanceEntries peak_memory(c10::Device device);

}  // namespace semharness
