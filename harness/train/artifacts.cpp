#include "harness/train/artifacts.h"

#include <torch/torch.h>

#include <fstream>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/config/run_config.h"

namespace semharness {

namespace fs = std::filesystem;

std::string artifact_meta_json(const ArtifactMeta& meta) {
  const auto optional = [](const std::optional<int64_t>& value) {
    return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
  };
  nlohmann::ordered_json json;
  json["run_id"] = meta.run_id;
  json["sem"] = meta.sem;
  json["L"] = optional(meta.L);
  json["V"] = optional(meta.V);
  json["layout"] =
      "e[:, v*L + l] is vertex v of simplex l (vertex-major); e.reshape(n, V, L).transpose(0, 2, 1) is [n, L, V]";
  json["tau_d"] = meta.tau_d;
  json["num_classes"] = meta.num_classes;
  json["samples"] = {{"train", meta.train_samples}, {"test", meta.test_samples}};
  json["sample_seed"] = meta.sample_seed;
  json["files"] = meta.files;
  // Invalid UTF-8 (no run id or file name has it) becomes U+FFFD rather than an exception.
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

NpyArray npy_from_tensor(const at::Tensor& tensor) {
  NpyArray array;
  const auto sizes = tensor.sizes();
  array.shape.assign(sizes.begin(), sizes.end());
  if (at::isFloatingType(tensor.scalar_type())) {
    const auto host = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
    array.dtype = "<f4";
    array.f32.assign(host.data_ptr<float>(), host.data_ptr<float>() + host.numel());
  } else {
    const auto host = tensor.detach().to(torch::kCPU, torch::kLong).contiguous();
    array.dtype = "<i8";
    array.i64.assign(host.data_ptr<int64_t>(), host.data_ptr<int64_t>() + host.numel());
  }
  return array;
}

void save_run_artifacts(const std::string& database, const RunOutcome& outcome) {
  if (outcome.artifacts.empty()) return;
  const fs::path dir = run_artifacts_dir(database, outcome.run_id);
  const fs::path partial = dir.string() + ".partial";
  fs::remove_all(partial);
  fs::create_directories(partial);
  for (const auto& [name, array] : outcome.artifacts.arrays) {
    const std::string path = (partial / name).string();
    if (array.dtype == "<f4") {
      write_npy(path, array.f32.data(), array.shape);
    } else if (array.dtype == "<i8") {
      write_npy(path, array.i64.data(), array.shape);
    } else {
      throw std::runtime_error(fmt::format("{}: artifact of unsupported dtype '{}'", path, array.dtype));
    }
  }
  const auto write_text = [&](const char* name, const std::string& text) {
    std::ofstream file(partial / name, std::ios::trunc);
    file << text;
    file.flush();
    if (!file) throw std::runtime_error(fmt::format("{}: cannot write", (partial / name).string()));
  };
  if (!outcome.artifacts.trace_json.empty()) write_text("trace.json", outcome.artifacts.trace_json);
  // meta.json last, and only for a set of features: it marks the set complete.
  if (!outcome.artifacts.arrays.empty()) write_text("meta.json", outcome.artifacts.meta_json);
  replace_artifacts_dir(partial, dir);
}

}  // namespace semharness
