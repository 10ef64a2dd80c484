// Provenance of a run (harness/train/provenance.h): build and host facts, the command line, SLURM ids, the
// peak-memory window, and a round trip through the store.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <string>

#include "harness/store/store.h"
#include "harness/train/provenance.h"

namespace semharness {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> as_map(const ProvenanceEntries& entries) {
  std::map<std::string, std::string> map;
  for (const auto& [key, value] : entries) {
    EXPECT_EQ(map.count(key), 0u) << "key '" << key << "' given twice";
    map[key] = value;
  }
  return map;
}

double peak_rss_mib() {
  const auto peaks = as_map(peak_memory(c10::Device(c10::kCPU)));
  const auto found = peaks.find("peak_rss_mib");
  if (found == peaks.end()) {
    ADD_FAILURE() << "peak_memory gave no peak_rss_mib";
    return 0;
  }
  return std::stod(found->second);
}

TEST(RunProvenance, CpuRunHoldsEveryKey) {
  const auto provenance = as_map(run_provenance(c10::Device(c10::kCPU)));
  for (const char* key : {"git_commit", "git_dirty", "build_type", "compiler", "libtorch_version", "device",
                          "cpu_model", "cores", "threads", "host", "pid", "command_line"}) {
    const auto found = provenance.find(key);
    ASSERT_NE(found, provenance.end()) << key;
    EXPECT_FALSE(found->second.empty()) << key;
  }
  EXPECT_EQ(provenance.at("device"), "cpu");
  EXPECT_EQ(provenance.count("gpu_name"), 0u);
  const std::string& commit = provenance.at("git_commit");
  EXPECT_TRUE(commit == "unknown" || std::regex_match(commit, std::regex("[0-9a-f]{40}"))) << commit;
  const std::string& dirty = provenance.at("git_dirty");
  EXPECT_TRUE(dirty == "true" || dirty == "false" || dirty == "unknown") << dirty;
  EXPECT_EQ(provenance.at("libtorch_version"), TORCH_VERSION);
  EXPECT_EQ(provenance.at("pid"), std::to_string(::getpid()));
  EXPECT_GE(std::stoi(provenance.at("threads")), 1);
  EXPECT_NE(provenance.at("command_line").find("semharness_tests"), std::string::npos) << provenance.at("command_line");
}

TEST(RunProvenance, SlurmIdsOnlyWhenSet) {
  const char* variables[] = {"SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"};
  std::map<std::string, std::optional<std::string>> saved;
  for (const char* variable : variables) {
    const char* value = std::getenv(variable);
    saved[variable] = value ? std::optional<std::string>(value) : std::nullopt;
    ::unsetenv(variable);
  }
  auto without = as_map(run_provenance(c10::Device(c10::kCPU)));
  ::setenv("SLURM_JOB_ID", "4242", 1);
  ::setenv("SLURM_ARRAY_JOB_ID", "4200", 1);
  ::setenv("SLURM_ARRAY_TASK_ID", "7", 1);
  auto with = as_map(run_provenance(c10::Device(c10::kCPU)));
  for (const char* variable : variables) {
    if (saved[variable]) {
      ::setenv(variable, saved[variable]->c_str(), 1);
    } else {
      ::unsetenv(variable);
    }
  }
  for (const char* key : {"slurm_job_id", "slurm_array_job_id", "slurm_array_task_id"}) {
    EXPECT_EQ(without.count(key), 0u) << key;
  }
  EXPECT_EQ(with["slurm_job_id"], "4242");
  EXPECT_EQ(with["slurm_array_job_id"], "4200");
  EXPECT_EQ(with["slurm_array_task_id"], "7");
}

TEST(RunProvenance, ShellJoinQuotesWhatTheShellWouldSplit) {
  EXPECT_EQ(shell_join({"build/semharness", "run", "experiments/quick.ini", "--set", "sem.L=128"}),
            "build/semharness run experiments/quick.ini --set sem.L=128");
  EXPECT_EQ(shell_join({"a b", "it's", "", "$HOME", "x*"}), "'a b' 'it'\\''s' '' '$HOME' 'x*'");
}

TEST(RunProvenance, PeakMemoryFollowsResets) {
  constexpr size_t kBytes = size_t{200} << 20;
  const c10::Device cpu(c10::kCPU);
  reset_peak_memory(cpu);
  const double before = peak_rss_mib();
  // mmap rather than the allocator (tcmalloc), which may keep freed memory resident.
  void* block = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(block, MAP_FAILED);
  std::memset(block, 1, kBytes);
  const double with_block = peak_rss_mib();
  ASSERT_EQ(::munmap(block, kBytes), 0);
  EXPECT_GE(with_block, 200.0);
  EXPECT_GE(with_block, before + 190.0) << "before " << before;
  // Freed but not reset: the peak remembers the block (within the kernel's per-thread RSS counter lag).
  EXPECT_GE(peak_rss_mib(), with_block - 1.0);
  reset_peak_memory(cpu);
  EXPECT_LT(peak_rss_mib(), with_block - 150.0);
}

TEST(RunProvenance, StoredWithTheRun) {
  std::random_device random;
  const fs::path dir = fs::temp_directory_path() /
                       ("semharness-provenance-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
  fs::create_directories(dir);
  {
    Store store((dir / "runs.db").string());
    const auto entries = run_provenance(c10::Device(c10::kCPU));
    store.set_provenance("0123456789abcdef", entries);
    store.set_provenance("0123456789abcdef", peak_memory(c10::Device(c10::kCPU)));
    const auto stored = store.provenance("0123456789abcdef");
    for (const auto& [key, value] : entries) EXPECT_EQ(stored.at(key), value) << key;
    EXPECT_EQ(stored.count("peak_rss_mib"), 1u);
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace semharness
