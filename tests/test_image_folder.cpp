// Image-folder datasets (harness/data/images/): the decoder, the crop resampler and the folder scan against
// Pillow. tests/crosscheck/pillow_image_folder.py writes a small ImageNet-style folder (odd sizes, 4:2:0,
// 4:4:4, progressive, greyscale, CMYK, a PNG named .JPEG) and Pillow's pixels of fixed crops of each file;
// every crop decoded here must agree within 1 grey level.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_support.h"
#include "harness/config/errors.h"
#include "harness/data/images/crop_sampler.h"
#include "harness/data/images/image_decode.h"
#include "harness/data/images/image_folder.h"
#include "test_paths.h"

using namespace semharness;
namespace fs = std::filesystem;

namespace {

class ImageFolderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(semharness_test::make_temp_dir("pillow"));
    status_ = semharness_test::run_python_reference("pillow_image_folder.py", *dir_);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*dir_, ignored);
    delete dir_;
  }
  void SetUp() override {
    ASSERT_EQ(status_, 0) << "pillow_image_folder.py failed (scripts/setup.sh installs Pillow with torchvision):\n"
                          << semharness_test::read_bytes(*dir_ / "log.txt");
  }
  static fs::path* dir_;
  static int status_;
};

fs::path* ImageFolderTest::dir_ = nullptr;
int ImageFolderTest::status_ = -1;

TEST_F(ImageFolderTest, CropsAgreeWithPillowWithinOneGreyLevel) {
  const auto cases = nlohmann::json::parse(semharness_test::read_bytes(*dir_ / "cases.json"));
  ASSERT_GE(cases.size(), 40u);
  std::set<int> scales;
  for (const auto& c : cases) {
    const std::string path = (*dir_ / c["file"].get<std::string>()).string();
    const std::vector<uint8_t> bytes = read_file_bytes(path);
    const ImageSize size = read_image_size(bytes, path);
    EXPECT_EQ(size.height, c["height"].get<int64_t>()) << path;
    EXPECT_EQ(size.width, c["width"].get<int64_t>()) << path;
    const auto b = c["box"].get<std::vector<double>>();
    const SourceBox box{b[0], b[1], b[2], b[3]};
    const int64_t out = c["out"].get<int64_t>();
    const bool jpeg = sniff_image_format(bytes, path) == ImageFormat::jpeg;
    // The scale the decoder picks is the one the reference decoded at.
    EXPECT_EQ(jpeg ? decode_scale_for(box, out) : 1, c["scale"].get<int>()) << path;
    scales.insert(c["scale"].get<int>());
    const ResampleFilter filter =
        c["filter"].get<std::string>() == "bicubic" ? ResampleFilter::bicubic : ResampleFilter::bilinear;
    std::vector<uint8_t> planar(static_cast<size_t>(3 * out * out));
    decode_view(bytes, path, box, out, filter, c["flip"].get<bool>(), planar.data());
    const std::string reference = semharness_test::read_bytes(*dir_ / c["pixels"].get<std::string>());
    ASSERT_EQ(reference.size(), planar.size()) << path;
    int worst = 0;
    for (int64_t y = 0; y < out; ++y) {
      for (int64_t x = 0; x < out; ++x) {
        for (int64_t ch = 0; ch < 3; ++ch) {
          const int mine = planar[static_cast<size_t>(ch * out * out + y * out + x)];
          const int theirs = static_cast<uint8_t>(reference[static_cast<size_t>((y * out + x) * 3 + ch)]);
          worst = std::max(worst, std::abs(mine - theirs));
        }
      }
    }
    EXPECT_LE(worst, 1) << path << " box " << c["box"].dump() << " -> " << out << " " << c["filter"] << " scale "
                        << c["scale"];
  }
  EXPECT_EQ(scales, (std::set<int>{1, 2, 4, 8}));  // every DCT scale was exercised
}

TEST_F(ImageFolderTest, ScanSortsClassesAndFilesAndSkipsNonImages) {
  const ImageFolder folder = scan_image_folder(dir_->string(), {});
  EXPECT_EQ(folder.classes, (std::vector<std::string>{"n01", "n02", "n03"}));
  ASSERT_EQ(folder.train.size(), 6);  // notes.txt skipped
  EXPECT_EQ(fs::path(folder.train.files[0]).filename(), "a.JPEG");
  EXPECT_EQ(fs::path(folder.train.files[5]).filename(), "png_named.JPEG");
  EXPECT_EQ(folder.train.labels, (std::vector<int64_t>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(folder.val.labels, (std::vector<int64_t>{0, 1, 2}));
  // A named subset keeps only its classes, relabelled in sorted order.
  const ImageFolder two = scan_image_folder(dir_->string(), {"n03", "n01"});
  EXPECT_EQ(two.classes, (std::vector<std::string>{"n01", "n03"}));
  EXPECT_EQ(two.train.labels, (std::vector<int64_t>{0, 0, 1, 1}));
}

TEST_F(ImageFolderTest, BadFoldersAndFilesAreOneLineInputErrors) {
  auto message = [](auto&& fn) {
    try {
      fn();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no InputError");
  };
  const fs::path bad = semharness_test::make_temp_dir("badfolder");
  fs::create_directories(bad / "train" / "n01");
  EXPECT_NE(message([&] { scan_image_folder(bad.string(), {}); }).find("/val: no such folder"), std::string::npos);
  EXPECT_NE(message([&] {
              scan_image_folder(dir_->string(), {"n01", "n99"});
            }).find("n99: no such class folder"),
            std::string::npos);
  fs::create_directories(bad / "val" / "n01");
  EXPECT_NE(message([&] { scan_image_folder(bad.string(), {}); }).find("no .jpg, .jpeg or .png images"),
            std::string::npos);
  semharness_test::write_bytes(bad / "train" / "n01" / "x.bmp", "BM");
  EXPECT_NE(message([&] { scan_image_folder(bad.string(), {}); }).find("x.bmp: .bmp images are not read"),
            std::string::npos);
  // A JPEG cut inside its header, and bytes of no image format.
  const std::string whole = semharness_test::read_bytes(*dir_ / "train" / "n01" / "a.JPEG");
  const fs::path cut = bad / "cut.JPEG";
  semharness_test::write_bytes(cut, whole.substr(0, 40));
  EXPECT_NE(
      message([&] { decode_image(read_file_bytes(cut.string()), cut.string()); }).find("cut.JPEG: not a readable JPEG"),
      std::string::npos);
  EXPECT_NE(message([&] {
              read_image_size({'G', 'I', 'F', '8', '9'}, "x.JPEG");
            }).find("x.JPEG: not a JPEG or PNG"),
            std::string::npos);
  EXPECT_NE(message([] { named_class_list("imagenet1k"); }).find("unknown class list 'imagenet1k'"), std::string::npos);
  fs::remove_all(bad);
}

TEST_F(ImageFolderTest, ViewsAreKeyedBySampleNotByThreadOrBatch) {
  const ImageFolder folder = scan_image_folder(dir_->string(), {});
  const TrainCrop crop{48, 0.08, 0.5, ResampleFilter::bicubic};
  const int64_t image_bytes = 3 * 48 * 48;
  const std::vector<int64_t> index = {5, 0, 3, 1, 4, 2};
  std::vector<uint8_t> one(index.size() * image_bytes), three(index.size() * image_bytes);
  DecodePool single(1), pool(3);
  decode_train_views(folder.train, index, 7, 2, 0, crop, single, one.data());
  decode_train_views(folder.train, index, 7, 2, 0, crop, pool, three.data());
  EXPECT_EQ(one, three);
  // Sample 3 alone, in a batch of its own, is the same view as in the batch above.
  std::vector<uint8_t> alone(image_bytes);
  decode_train_views(folder.train, {3}, 7, 2, 0, crop, pool, alone.data());
  EXPECT_TRUE(std::equal(alone.begin(), alone.end(), one.begin() + 2 * image_bytes));
  // The other view, the next epoch and another seed draw other crops.
  for (auto [epoch, view, seed] : {std::tuple{2, 1, 7}, std::tuple{3, 0, 7}, std::tuple{2, 0, 8}}) {
    std::vector<uint8_t> other(image_bytes);
    decode_train_views(folder.train, {3}, seed, epoch, view, crop, pool, other.data());
    EXPECT_NE(other, alone) << epoch << " " << view << " " << seed;
  }
}

// The folder through `semharness run`: an ImageNet-stem ResNet-18 pretrained one epoch on 32-pixel crops of
// the files (each copied 4 times: 24 training and 12 validation images), probed, stored; a second `run`
// finds it done.
TEST_F(ImageFolderTest, OneEpochOfAGridOnTheFolderIsStored) {
  const fs::path work = semharness_test::make_temp_dir("folder-run");
  for (const auto& entry : fs::recursive_directory_iterator(*dir_)) {
    const fs::path relative = fs::relative(entry.path(), *dir_);
    const std::string split = relative.begin()->string();
    if (!entry.is_regular_file() || (split != "train" && split != "val")) continue;
    for (int copy = 0; copy < 4; ++copy) {
      const fs::path target = work / "data" / relative.parent_path() /
                              (relative.stem().string() + "_" + std::to_string(copy) + relative.extension().string());
      fs::create_directories(target.parent_path());
      fs::copy_file(entry.path(), target);
    }
  }
  const fs::path grid = work / "folder.ini";
  semharness_test::write_bytes(grid, "name = folder\ndataset = image_folder\ndata_dir = " + (work / "data").string() +
                                         "\ndata.image_size = 32\ndata.workers = 2\n"
                                         "backbone = resnet18\nbackbone.stem = imagenet\nbackbone.width = 0.125\n"
                                         "epochs = 1\nbatch_size = 8\nmethod = simclr\nsem = on\nseeds = 0\n"
                                         "[sem]\nL = 4\nV = 4\n[proj]\nhidden = 32\nout = 16\n"
                                         "[probe]\nprotocols = lbfgs, sgd_augmented\nepochs = 2\ntau_d = 1\n"
                                         "[knn]\nk = 5\n");
  const fs::path db = work / "runs.db";
  const auto first = semharness_test::run_binary(work, {"run", grid.string(), "--db", db.string(), "--device", "cpu"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("1 finished, 0 diverged, 0 failed"), std::string::npos) << first.output;
  {
    SQLite::Database sqlite(db.string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(sqlite.execAndGet("SELECT status || ' ' || dataset || ' ' || backbone_stem FROM runs").getString(),
              "finished image_folder imagenet");
    for (const char* protocol : {"lbfgs_probe", "linear_probe_augmented"}) {
      SQLite::Statement top1(sqlite,
                             "SELECT value FROM results WHERE protocol = ? AND feature = 'backbone' AND split = 'test' "
                             "AND metric = 'top1'");
      top1.bind(1, protocol);
      ASSERT_TRUE(top1.executeStep()) << protocol;
      EXPECT_GE(top1.getColumn(0).getDouble(), 0.0) << protocol;
      EXPECT_LE(top1.getColumn(0).getDouble(), 100.0) << protocol;
    }
  }
  const auto again = semharness_test::run_binary(work, {"run", grid.string(), "--db", db.string(), "--device", "cpu"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("1 already done"), std::string::npos) << again.output;
  // A folder dataset without data_dir is a one-line error before anything is stored.
  semharness_test::write_bytes(work / "nodir.ini", "dataset = image_folder\nepochs = 1\n");
  const auto nodir = semharness_test::run_binary(
      work, {"run", (work / "nodir.ini").string(), "--db", (work / "nodir.db").string(), "--device", "cpu"});
  EXPECT_EQ(nodir.exit_code, 2) << nodir.output;
  EXPECT_NE(nodir.output.find("dataset = image_folder needs data_dir"), std::string::npos) << nodir.output;
  fs::remove_all(work);
}

TEST(ImageFolderCropTest, RandomResizedCropBoxesFitAndFollowTorchvisionsRule) {
  // Every box lies inside the image; a box found within 10 tries has an area of [min_scale, 1] of the image
  // up to the rounding of its sides and an aspect ratio within [3/4, 4/3] up to the same rounding.
  int fallbacks = 0;
  for (uint64_t i = 0; i < 20000; ++i) {
    SampleRandom random(1, 0, i, 0);
    const int64_t height = 64 + static_cast<int64_t>(i % 97), width = 40 + static_cast<int64_t>(i % 211);
    const PixelBox box = random_resized_crop_box(height, width, 0.08, 1.0, random);
    ASSERT_GE(box.top, 0);
    ASSERT_GE(box.left, 0);
    ASSERT_LE(box.top + box.height, height);
    ASSERT_LE(box.left + box.width, width);
    const double area = static_cast<double>(box.height * box.width) / static_cast<double>(height * width);
    const double ratio = static_cast<double>(box.width) / static_cast<double>(box.height);
    const bool centred = box.top == (height - box.height) / 2 && box.left == (width - box.width) / 2 &&
                         (box.height == height || box.width == width);
    if (centred && area > 0.9) ++fallbacks;
    if (!centred) {
      EXPECT_GT(area, 0.08 * 0.8);
      EXPECT_GT(ratio, 0.75 * 0.9);
      EXPECT_LT(ratio, 4.0 / 3.0 * 1.1);
    }
  }
  EXPECT_LT(fallbacks, 2000);  // with these sizes nearly every box is found within 10 tries
  // The centre crop of evaluation: 224 of 256 of the shorter side, centred.
  const SourceBox eval = centre_crop_box(375, 500, 224, 256);
  EXPECT_DOUBLE_EQ(eval.bottom - eval.top, 375.0 * 224 / 256);
  EXPECT_DOUBLE_EQ(eval.right - eval.left, 375.0 * 224 / 256);
  EXPECT_DOUBLE_EQ(eval.left + eval.right, 500.0);
}

TEST(ImageFolderCropTest, SampleRandomIsUniformAndIndependentOfTheKeyOrder) {
  SampleRandom a(3, 1, 2, 0), b(3, 2, 1, 0);
  EXPECT_NE(a.next(), b.next());
  double sum = 0;
  int64_t counts[5] = {0, 0, 0, 0, 0};
  SampleRandom r(11, 0, 0, 0);
  for (int i = 0; i < 100000; ++i) {
    sum += r.uniform();
    ++counts[r.below(5)];
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
  for (int64_t count : counts) EXPECT_NEAR(count, 20000, 600);
}

TEST(ImageFolderCropTest, DecodePoolRunsEveryTaskAndRethrowsTheFirstError) {
  DecodePool pool(3);
  for (int round = 0; round < 50; ++round) {
    std::vector<int> seen(37, 0);
    pool.run(37, [&](int64_t i) { ++seen[static_cast<size_t>(i)]; });
    ASSERT_EQ(std::count(seen.begin(), seen.end(), 1), 37);
  }
  EXPECT_THROW(pool.run(10,
                        [](int64_t i) {
                          if (i == 4) throw InputError("bad");
                        }),
               InputError);
  std::vector<int> after(5, 0);
  pool.run(5, [&](int64_t i) { after[static_cast<size_t>(i)] = 1; });  // the pool still works
  EXPECT_EQ(std::count(after.begin(), after.end(), 1), 5);
}

TEST(ImageFolderCropTest, TheImagenet100ListIsTheCmcList) {
  const std::vector<std::string> classes = named_class_list("imagenet100");
  ASSERT_EQ(classes.size(), 100u);
  EXPECT_EQ(classes.front(), "n02869837");
  EXPECT_EQ(classes.back(), "n02090622");
  EXPECT_EQ(std::set<std::string>(classes.begin(), classes.end()).size(), 100u);
}

}  // namespace
