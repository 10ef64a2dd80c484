#pragma once
// Running build/semharness from tests: temporary folders, files, and the binary in the foreground (exit code
// and output) or in the background (to kill it mid-run).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/config/shell_words.h"
#include "test_paths.h"

namespace semharness_test {

namespace fs = std::filesystem;

// The tiny training settings the CLI tests use (synthetic data: 3x16x16, 10 classes).
inline constexpr const char* kTinySettings =
    "dataset = synthetic\n"
    "batch_size = 128\n"
    "train_subset = 512\n"
    "seeds = 0\n"
    "\n"
    "[sem]\n"
    "L = 8\n"
    "V = 4\n"
    "\n"
    "[proj]\n"
    "hidden = 64\n"
    "out = 32\n"
    "\n"
    "[byol]\n"
    "pred_hidden = 64\n"
    "\n"
    "[probe]\n"
    "epochs = 5\n"
    "train_subset = 1000\n"
    "\n"
    "[knn]\n"
    "k = 20\n";

inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const fs::path& path, const std::string& bytes) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

using semharness::shell_quote;

inline fs::path make_temp_dir(const std::string& tag) {
  std::random_device random;
  fs::path dir = fs::temp_directory_path() /
                 ("semharness-cli-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
  fs::create_directories(dir);
  return dir;
}

// Runs tests/crosscheck/SCRIPT with .venv's Python, writing its reference files into `out` and its output
// into out/log.txt; returns std::system's status (0: the references are there).
inline int run_python_reference(const std::string& script, const fs::path& out) {
  const std::string command = std::string(SEMHARNESS_SOURCE_DIR) + "/.venv/bin/python " + SEMHARNESS_SOURCE_DIR +
                              "/tests/crosscheck/" + script + " --out " + shell_quote(out.string()) + " > " +
                              shell_quote((out / "log.txt").string()) + " 2>&1";
  return std::system(command.c_str());
}

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together

  std::vector<std::string> non_empty_lines() const {
    std::vector<std::string> lines;
    std::istringstream stream(output);
    std::string line;
    while (std::getline(stream, line)) {
      if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
    }
    return lines;
  }
};

// Runs build/semharness with args inside dir, capturing stdout and stderr into a file there.
inline Result run_binary(const fs::path& dir, const std::vector<std::string>& args) {
  static int counter = 0;  // one output file per call
  const fs::path output = dir / ("output-" + std::to_string(counter++) + ".txt");
  std::string command = "cd " + shell_quote(dir.string()) + " && " + shell_quote(SEMHARNESS_BINARY);
  for (const std::string& arg : args) command += " " + shell_quote(arg);
  command += " > " + shell_quote(output.string()) + " 2>&1 < /dev/null";
  const int status = std::system(command.c_str());
  Result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.output = read_bytes(output);
  return result;
}

// build/semharness started in the background in dir, its output going to a file; killed (SIGKILL) when
// still running at destruction.
class BackgroundBinary {
 public:
  BackgroundBinary(const fs::path& dir, const std::vector<std::string>& args, const std::string& output_name)
      : output_(dir / output_name) {
    std::vector<std::string> storage{SEMHARNESS_BINARY};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string output = output_.string(), directory = dir.string();
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::chdir(directory.c_str()) != 0) ::_exit(126);
      if (!std::freopen(output.c_str(), "w", stdout) || !std::freopen(output.c_str(), "a", stderr)) ::_exit(126);
      std::setvbuf(stderr, nullptr, _IONBF, 0);
      ::execv(SEMHARNESS_BINARY, argv.data());
      ::_exit(127);
    }
  }
  ~BackgroundBinary() {
    if (running()) kill();
  }
  BackgroundBinary(const BackgroundBinary&) = delete;
  BackgroundBinary& operator=(const BackgroundBinary&) = delete;

  pid_t pid() const { return pid_; }
  std::string output() const { return read_bytes(output_); }
  bool running() const { return pid_ > 0 && !exited_; }
  // Waits until the output contains text (true) or the process exits or the timeout passes (false).
  bool wait_for_output(const std::string& text, double timeout_seconds = 300) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (output().find(text) != std::string::npos) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return output().find(text) != std::string::npos;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  void kill() {
    ::kill(pid_, SIGKILL);
    wait();
  }
  // Exit status, or -1 when killed by a signal.
  int wait() {
    if (!exited_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return exit_code_;
  }

 private:
  fs::path output_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
};

// A tiny grid (simclr, sem off and on, one epoch, kTinySettings) run once per test suite by build/semharness,
// its features stored (300 images per split): the fixture of the suites that read stored features. Derived
// names the grid: `static constexpr const char* kGrid = "art";`, and may override keys of the run:
// `static inline const std::vector<std::string> kOverrides{"probe.protocols=sgd"};` (each a --set).
template <typename Derived>
class TinyStoredFeaturesTest : public ::testing::Test {
 public:
  static inline const std::vector<std::string> kOverrides{};

 protected:
  static void SetUpTestSuite() {
    const std::string grid = Derived::kGrid;
    dir_ = make_temp_dir(grid);
    db_ = dir_ / "runs.db";
    write_bytes(dir_ / (grid + ".ini"),
                "name = " + grid + "\nepochs = 1\nmethod = simclr\nsem = off, on\n" + std::string(kTinySettings));
    std::vector<std::string> args = {"run",      (dir_ / (grid + ".ini")).string(),
                                     "--db",     db_.string(),
                                     "--device", "cpu",
                                     "--set",    "analysis.samples=300"};
    for (const std::string& setting : Derived::kOverrides) args.insert(args.end(), {"--set", setting});
    setup_ = run_binary(dir_, args);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  void SetUp() override { ASSERT_EQ(setup_.exit_code, 0) << setup_.output; }

  static inline fs::path dir_, db_;
  static inline Result setup_;
};

}  // namespace semharness_test
