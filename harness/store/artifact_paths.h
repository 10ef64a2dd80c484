#pragma once
// Where a run's stored features live (README "Stored features"; written by harness/train/artifacts.h):
// <database>.artifacts/<run_id>/, complete once meta.json (written last) is there. Torch-free, so that merge
// can carry a shard's sets into the main database's folder.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace semharness {

// The stem of a probe's weight and bias files (<stem>_weight.npy, <stem>_bias.npy) in a run's folder: the
// SGD probe (linear_probe) keeps the names it always had, "probe_backbone", "probe_embedding",
// "probe_sem_tau0.1"; another protocol leads with its stored name: "lbfgs_probe_backbone",
// "lbfgs_probe_sem_tau0.1". protocol and feature: their stored texts (harness/results/vocabulary.h);
// tau_d_text: the tau_d as written in probe.tau_d (Feature::Sem only).
std::string probe_file_stem(std::string_view protocol, std::string_view feature, std::string_view tau_d_text = "");

// <database>.artifacts/<run_id>
std::filesystem::path run_artifacts_dir(const std::string& database, const std::string& run_id);
// The folder when it holds a complete set (meta.json written last), nullopt otherwise.
std::optional<std::filesystem::path> stored_artifacts(const std::string& database, const std::string& run_id);
// Puts the complete folder `filled` (a sibling of `dir`) in the place of `dir`, replacing an older set:
// rename cannot replace a non-empty folder, so the old one is moved aside first and removed after.
void replace_artifacts_dir(const std::filesystem::path& filled, const std::filesystem::path& dir);
// Copies the run's complete set from database `from` to database `to`, replacing what `to` held; false when
// `from` has no complete set for it. Throws std::filesystem::filesystem_error when the copy fails.
bool copy_run_artifacts(const std::string& from, const std::string& to, const std::string& run_id);

}  // namespace semharness
