#include "harness/train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <ATen/Context.h>
#include <torch/torch.h>

namespace semharness {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "semharness-checkpoint/1";

std::string encode_curve(const std::vector<MetricRow>& curve) {
  std::ostringstream text;
  text.precision(17);
  for (const auto& row : curve) text << row.epoch << ' ' << row.name << ' ' << row.value << '\n';
  return text.str();
}

std::vector<MetricRow> decode_curve(const std::string& text) {
  std::vector<MetricRow> curve;
  std::istringstream lines(text);
  MetricRow row;
  while (lines >> row.epoch >> row.name >> row.value) curve.push_back(row);
  return curve;
}

// The generators whose states a checkpoint keeps: the CPU's and the run device's default generators (the
// epoch order, method noise) and augmentation's own.
std::vector<std::pair<std::string, at::Generator>> generators(const CheckpointParts& parts) {
  std::vector<std::pair<std::string, at::Generator>> out{{"rng_cpu", at::globalContext().defaultGenerator(c10::kCPU)}};
  if (!parts.device.is_cpu()) out.emplace_back("rng_device", at::globalContext().defaultGenerator(parts.device));
  out.emplace_back("rng_augment", parts.augment.device);
  return out;
}

// Writes all of bytes to fd; returns 0 or the errno of the failed write.
int write_all(int fd, const std::string& bytes) {
  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
  return 0;
}

std::runtime_error write_error(const std::string& path, int error) {
  return std::runtime_error("cannot write checkpoint " + path + " (" + std::strerror(error) + ")");
}

}  // namespace

std::string checkpoint_path(const std::string& database_path, const std::string& run_id) {
  return database_path + ".checkpoints/" + run_id + ".pt";
}

void save_checkpoint(const std::string& path, const CheckpointParts& parts, const PretrainProgress& progress) {
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kFormat)));
  archive.write("epochs_done", c10::IValue(progress.epochs_done));
  archive.write("step", c10::IValue(progress.step));
  archive.write("curve", c10::IValue(encode_curve(progress.curve)));

  torch::serialize::OutputArchive method, classifier, classifier_optimizer;
  parts.method.save(method);
  parts.classifier.save(classifier);
  parts.classifier_optimizer.save(classifier_optimizer);
  archive.write("method", method);
  archive.write("classifier", classifier);
  archive.write("classifier_optimizer", classifier_optimizer);
  archive.write("optimizer_buffers", c10::IValue(static_cast<int64_t>(parts.optimizer_buffers.size())));
  for (size_t i = 0; i < parts.optimizer_buffers.size(); ++i) {
    if (parts.optimizer_buffers[i].defined())
      archive.write("optimizer_buffer_" + std::to_string(i), parts.optimizer_buffers[i], true);
  }
  for (size_t i = 0; i < parts.scaler_state.size(); ++i) {
    if (parts.scaler_state[i].defined()) archive.write("scaler_" + std::to_string(i), parts.scaler_state[i], true);
  }
  for (auto& [name, generator] : generators(parts)) {
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write(name, generator.get_state(), true);
  }

  std::error_code fs_error;
  fs::create_directories(fs::path(path).parent_path(), fs_error);
  if (fs_error) throw write_error(path, fs_error.value());
  // Serialised in memory first: LibTorch's zip writer cannot report a failed write (it throws from its
  // destructor), and the file write below can name the system's reason.
  std::string bytes;
  archive.save_to([&bytes](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw write_error(path, errno);
  int error = write_all(fd, bytes);
  // Delayed allocation can report a full disk only at fsync or close.
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    ::unlink(temporary.c_str());
    throw write_error(path, error);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) throw write_error(path, errno);
}

std::optional<PretrainProgress> load_checkpoint(const std::string& path, CheckpointParts& parts) {
  if (!fs::exists(path)) return std::nullopt;
  PretrainProgress progress;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, parts.device);
    c10::IValue value;
    archive.read("format", value);
    if (!value.isString() || value.toStringRef() != kFormat)
      throw std::runtime_error("not a " + std::string(kFormat) + " file");
    archive.read("epochs_done", value);
    progress.epochs_done = value.toInt();
    archive.read("step", value);
    progress.step = value.toInt();
    archive.read("curve", value);
    progress.curve = decode_curve(value.toStringRef());

    torch::serialize::InputArchive method, classifier, classifier_optimizer;
    archive.read("method", method);
    archive.read("classifier", classifier);
    archive.read("classifier_optimizer", classifier_optimizer);
    parts.method.load(method);
    parts.classifier.load(classifier);
    parts.classifier_optimizer.load(classifier_optimizer);
    archive.read("optimizer_buffers", value);
    if (value.toInt() != static_cast<int64_t>(parts.optimizer_buffers.size())) {
      throw std::runtime_error("holds " + std::to_string(value.toInt()) + " optimizer buffers, the model has " +
                               std::to_string(parts.optimizer_buffers.size()) + " parameters");
    }
    for (size_t i = 0; i < parts.optimizer_buffers.size(); ++i) {
      torch::Tensor buffer;
      if (archive.try_read("optimizer_buffer_" + std::to_string(i), buffer, true))
        parts.optimizer_buffers[i] = buffer.to(parts.device);
    }
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parts.scaler_state.size(); ++i) {
      torch::Tensor state;
      if (parts.scaler_state[i].defined() && archive.try_read("scaler_" + std::to_string(i), state, true)) {
        parts.scaler_state[i].copy_(state);
      }
    }
    for (auto& [name, generator] : generators(parts)) {
      torch::Tensor state;
      archive.read(name, state, true);
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(state.to(c10::kCPU));
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw std::runtime_error("cannot resume from checkpoint " + path + " (" + what.substr(0, what.find('\n')) + ")");
  }
  return progress;
}

}  // namespace semharness
