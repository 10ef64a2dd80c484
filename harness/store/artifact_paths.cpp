#include "harness/store/artifact_paths.h"

#include <system_error>

#include "harness/results/probe_protocols.h"
#include "harness/results/vocabulary.h"

namespace semharness {

namespace fs = std::filesystem;

std::string probe_file_stem(std::string_view protocol, std::string_view feature, std::string_view tau_d_text) {
  std::string stem = protocol == kSgdProbe ? std::string("probe") : std::string(protocol);
  stem += "_";
  stem += feature;
  if (feature == text(Feature::Sem)) {
    stem += "_tau";
    stem += tau_d_text;
  }
  return stem;
}

fs::path run_artifacts_dir(const std::string& database, const std::string& run_id) {
  return fs::path(database + ".artifacts") / run_id;
}

std::optional<fs::path> stored_artifacts(const std::string& database, const std::string& run_id) {
  const fs::path dir = run_artifacts_dir(database, run_id);
  std::error_code error;
  if (fs::is_regular_file(dir / "meta.json", error)) return dir;
  return std::nullopt;
}

void replace_artifacts_dir(const fs::path& filled, const fs::path& dir) {
  const fs::path previous = dir.string() + ".previous";
  fs::remove_all(previous);
  if (fs::exists(dir)) fs::rename(dir, previous);
  fs::rename(filled, dir);
  fs::remove_all(previous);
}

bool copy_run_artifacts(const std::string& from, const std::string& to, const std::string& run_id) {
  const auto source = stored_artifacts(from, run_id);
  if (!source) return false;
  const fs::path dir = run_artifacts_dir(to, run_id);
  const fs::path partial = dir.string() + ".partial";
  fs::remove_all(partial);
  fs::create_directories(dir.parent_path());
  fs::copy(*source, partial, fs::copy_options::recursive);
  replace_artifacts_dir(partial, dir);
  return true;
}

}  // namespace semharness
