#include "harness/train/provenance.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <ATen/Version.h>
#include <torch/torch.h>

#include "torch_features.h"  // generated: SEMHARNESS_TORCH_CUDA
#if SEMHARNESS_TORCH_CUDA
#include <ATen/cuda/CUDAContextLight.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#endif

namespace semharness {
namespace {

constexpr double kBytesPerMiB = 1024.0 * 1024.0;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// The value of the first "name<sep>value" line of a /proc file, trimmed; "" when absent.
std::string proc_field(const std::string& path, const std::string& name, char separator) {
  std::istringstream lines(read_file(path));
  std::string line;
  while (std::getline(lines, line)) {
    const auto at = line.find(separator);
    if (at != std::string::npos && trim(line.substr(0, at)) == name) return trim(line.substr(at + 1));
  }
  return "";
}

std::string cpu_model() {
  std::string model = proc_field("/proc/cpuinfo", "model name", ':');
  return model.empty() ? "unknown" : model;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::string command_line() {
  // /proc/self/cmdline: the arguments, each terminated by a NUL.
  const std::string raw = read_file("/proc/self/cmdline");
  std::vector<std::string> words;
  std::string word;
  for (char c : raw) {
    if (c == '\0') {
      words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(word);
  return words.empty() ? "unknown" : shell_join(words);
}

std::string mib(double bytes) { return fmt::format("{:.1f}", bytes / kBytesPerMiB); }

#if SEMHARNESS_TORCH_CUDA
// "13020" (what cudaRuntimeGetVersion / cudaDriverGetVersion give) -> "13.2".
std::string cuda_version_text(int version) { return fmt::format("{}.{}", version / 1000, (version % 1000) / 10); }

c10::DeviceIndex cuda_index(c10::Device device) {
  return device.has_index() ? device.index() : c10::cuda::current_device();
}

void add_cuda_entries(c10::Device device, ProvenanceEntries& entries) {
  const c10::DeviceIndex index = cuda_index(device);
  entries.emplace_back("device", c10::Device(c10::kCUDA, index).str());
  const cudaDeviceProp* properties = at::cuda::getDeviceProperties(index);
  entries.emplace_back("gpu_name", properties->name);
  entries.emplace_back("gpu_memory_mib",
                       fmt::format("{:.0f}", static_cast<double>(properties->totalGlobalMem) / kBytesPerMiB));
  entries.emplace_back("gpu_compute_capability", fmt::format("{}.{}", properties->major, properties->minor));
  int runtime_version = 0;
  if (cudaRuntimeGetVersion(&runtime_version) == cudaSuccess)
    entries.emplace_back("cuda_runtime", cuda_version_text(runtime_version));
  // The newest CUDA version the installed driver supports.
  int driver_version = 0;
  if (cudaDriverGetVersion(&driver_version) == cudaSuccess)
    entries.emplace_back("cuda_driver", cuda_version_text(driver_version));
  // The driver's own release, which the CUDA runtime does not report: the first dotted number of
  // "NVRM version: NVIDIA UNIX [Open ]Kernel Module [for ]x86_64  580.65.06  Release Build ...".
  std::istringstream nvrm_line(proc_field("/proc/driver/nvidia/version", "NVRM version", ':'));
  std::string token;
  while (nvrm_line >> token) {
    if (token.find('.') != std::string::npos && token.find_first_not_of("0123456789.") == std::string::npos) {
      entries.emplace_back("nvidia_driver", token);
      break;
    }
  }
}

void reset_cuda_peaks(c10::Device device) {
  // The allocator's statistics exist once CUDA is initialised.
  at::globalContext().lazyInitDevice(c10::DeviceType::CUDA);
  c10::cuda::CUDACachingAllocator::resetPeakStats(cuda_index(device));
}

void add_cuda_peaks(c10::Device device, ProvenanceEntries& entries) {
  at::globalContext().lazyInitDevice(c10::DeviceType::CUDA);
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(cuda_index(device));
  // Index 0 is StatType::AGGREGATE (all pools), whose namespace moved between LibTorch versions.
  entries.emplace_back("peak_cuda_allocated_mib", mib(static_cast<double>(stats.allocated_bytes[0].peak)));
  entries.emplace_back("peak_cuda_reserved_mib", mib(static_cast<double>(stats.reserved_bytes[0].peak)));
}
#else
// A CPU-only LibTorch cannot run on CUDA; nothing to ask.
void add_cuda_entries(c10::Device device, ProvenanceEntries& entries) { entries.emplace_back("device", device.str()); }
void reset_cuda_peaks(c10::Device) {}
void add_cuda_peaks(c10::Device, ProvenanceEntries&) {}
#endif

// The text after `marker` in `text` up to the first of `ends`, trimmed; "" when the marker is absent.
std::string field_after(const std::string& text, const std::string& marker, const std::string& ends) {
  const auto start = text.find(marker);
  if (start == std::string::npos) return "";
  const auto from = start + marker.size();
  const auto to = text.find_first_of(ends, from);
  std::string value = text.substr(from, to == std::string::npos ? std::string::npos : to - from);
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value;
}

}  // namespace

ProvenanceEntries compute_backends() {
  const std::string config = at::show_config();
  std::string onednn = field_after(config, "MKL-DNN ", " \n");  // "v3.13.3"
  if (onednn.empty()) onednn = config.find("USE_MKLDNN=ON") != std::string::npos ? "yes" : "no";
  std::string blas = field_after(config, "BLAS_INFO=", ",\n");
  if (blas.empty()) blas = "unknown";
  std::string parallel = "native";
  if (at::get_parallel_info().find("parallel backend: OpenMP") != std::string::npos) parallel = "OpenMP";
  // tcmalloc is linked into the executable when CMake found it (README "Libraries").
  const bool tcmalloc = ::dlsym(RTLD_DEFAULT, "tc_malloc") != nullptr;
  return {{"blas", blas},
          {"onednn", onednn},
          {"cpu_capability", at::get_cpu_capability()},
          {"parallel_backend", parallel},
          {"allocator", tcmalloc ? "tcmalloc" : "glibc malloc"}};
}

std::string compute_backends_line() {
  std::map<std::string, std::string> b;
  for (const auto& [key, value] : compute_backends()) b[key] = value;
  return fmt::format("LibTorch {}: BLAS {}, oneDNN {}, {} kernels, {} with {} threads, {}", TORCH_VERSION, b["blas"],
                     b["onednn"], b["cpu_capability"], b["parallel_backend"], torch::get_num_threads(), b["allocator"]);
}

ProvenanceEntries run_provenance(c10::Device device) {
  const BuildInfo& build = build_info();
  ProvenanceEntries entries = {
      {"git_commit", build.git_commit}, {"git_dirty", build.git_dirty},      {"build_type", build.build_type},
      {"compiler", build.compiler},     {"libtorch_version", TORCH_VERSION},
  };
  if (device.is_cuda()) {
    add_cuda_entries(device, entries);
  } else {
    entries.emplace_back("device", device.str());
  }
  // The host CPU matters on CUDA too (data loading, the probe's feature pipeline).
  entries.emplace_back("cpu_model", cpu_model());
  entries.emplace_back("cores", std::to_string(std::thread::hardware_concurrency()));
  entries.emplace_back("threads", std::to_string(torch::get_num_threads()));
  for (auto& entry : compute_backends()) entries.push_back(std::move(entry));
  entries.emplace_back("host", host_name());
  entries.emplace_back("pid", std::to_string(::getpid()));
  entries.emplace_back("command_line", command_line());
  for (const auto& [variable, key] : {std::pair{"SLURM_JOB_ID", "slurm_job_id"},
                                      {"SLURM_ARRAY_JOB_ID", "slurm_array_job_id"},
                                      {"SLURM_ARRAY_TASK_ID", "slurm_array_task_id"}}) {
    const char* value = std::getenv(variable);
    if (value != nullptr && *value != '\0') entries.emplace_back(key, value);
  }
  return entries;
}

void reset_peak_memory(c10::Device device) {
  // "5" resets the peak resident set size (VmHWM) to the current one (Linux >= 4.0). Where the write is
  // refused, the peak stays the process's.
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  if (device.is_cuda()) reset_cuda_peaks(device);
}

ProvenanceEntries peak_memory(c10::Device device) {
  ProvenanceEntries entries;
  // "VmHWM:     123456 kB"
  const std::string high_water_mark = proc_field("/proc/self/status", "VmHWM", ':');
  if (!high_water_mark.empty()) entries.emplace_back("peak_rss_mib", mib(std::stod(high_water_mark) * 1024.0));
  if (device.is_cuda()) add_cuda_peaks(device, entries);
  return entries;
}

}  // namespace semharness
