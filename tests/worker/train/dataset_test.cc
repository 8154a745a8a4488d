// Reads the real Fashion-MNIST files of Debian's dataset-fashion-mnist, and corrupt copies.
#include "worker/train/dataset.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>

namespace cyclr {
namespace {

const char* kDir = "/usr/share/datasets/fashion-mnist";

TEST(DatasetTest, LoadsRealFashionMnist) {
  auto train = LoadFashionMnist(kDir, Split::kTrain, 0);
  ASSERT_TRUE(train.ok()) << train.status().ToString();
  EXPECT_EQ(train->size(), 60000);
  EXPECT_EQ(train->images.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  // Balanced classes: 6,000 of each.
  auto counts = torch::bincount(train->labels);
  EXPECT_EQ(counts.size(0), 10);
  EXPECT_EQ(counts.min().item<int64_t>(), 6000);
  // Normalised: mean ~0, std ~1 over the training set.
  EXPECT_NEAR(train->images.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(train->images.std().item<double>(), 1.0, 0.01);

  auto test = LoadFashionMnist(kDir, Split::kTest, 100);
  ASSERT_TRUE(test.ok());
  EXPECT_EQ(test->size(), 100);
  // The first test label of Fashion-MNIST is 9 (ankle boot).
  EXPECT_EQ(test->labels[0].item<int64_t>(), 9);
}

TEST(DatasetTest, MissingAndCorruptFilesAreClearErrors) {
  auto missing = LoadFashionMnist("/nonexistent", Split::kTrain, 0);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/train-images-idx3-ubyte.gz"),
            std::string::npos);

  std::string path = std::filesystem::temp_directory_path() / "cyclr-corrupt-idx.gz";
  gzFile f = gzopen(path.c_str(), "wb");
  const unsigned char bad[] = {0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3};
  gzwrite(f, bad, sizeof bad);
  gzclose(f);
  auto truncated = ReadGzippedIdx(path);
  EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos);

  f = gzopen(path.c_str(), "wb");
  const unsigned char magic[] = {1, 2, 3, 4};
  gzwrite(f, magic, sizeof magic);
  gzclose(f);
  EXPECT_NE(ReadGzippedIdx(path).status().message().find("bad magic"), std::string::npos);
  std::remove(path.c_str());
}

TEST(DatasetTest, SyntheticIsDeterministic) {
  Dataset a = MakeSyntheticDataset(64, 3), b = MakeSyntheticDataset(64, 3);
  EXPECT_TRUE(torch::equal(a.images, b.images));
  EXPECT_TRUE(torch::equal(a.labels, b.labels));
}

}  // namespace
}  // namespace cyclr
