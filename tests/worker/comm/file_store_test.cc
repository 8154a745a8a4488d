// FileStore: values across processes' worth of files; Gloo ranks rendezvous through it.
#include "worker/comm/file_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "worker/comm/communicator_factory.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

std::string TempDir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             (std::string(name) + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST(FileStoreTest, SetGetWaitAndTimeout) {
  const std::string dir = TempDir("cyclr-file-store");
  FileStore a(dir), b(dir);  // two handles on one folder, as two processes would have
  ASSERT_TRUE(a.Set("job/0/key with/slashes", std::string("v\0x", 3)).ok());
  auto got = b.Get({"job/0/key with/slashes"}, milliseconds(100));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0], std::string("v\0x", 3));

  std::thread late([&] {
    std::this_thread::sleep_for(milliseconds(50));
    EXPECT_TRUE(a.Set("late", "1").ok());
  });
  auto waited = b.Get({"late"}, milliseconds(5000));
  late.join();
  ASSERT_TRUE(waited.ok());
  EXPECT_EQ((*waited)[0], "1");

  auto missing = b.Get({"late", "never"}, milliseconds(30));
  EXPECT_EQ(missing.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(missing.status().message().find("never"), std::string::npos);
  EXPECT_EQ(missing.status().message().find("late"), std::string::npos);
  EXPECT_EQ(a.Set("", "x").code(), StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

TEST(FileStoreTest, GlooRanksRendezvousThroughIt) {
  const std::string dir = TempDir("cyclr-file-store-gloo");
  std::vector<float> results(3);
  std::vector<std::thread> ranks;
  for (int r = 0; r < 3; ++r) {
    ranks.emplace_back([&, r] {
      CommunicatorOptions o;
      o.rank = r;
      o.world_size = 3;
      auto comm = MakeCommunicator(o, std::make_shared<FileStore>(dir));
      ASSERT_TRUE(comm.ok()) << comm.status().ToString();
      float x = static_cast<float>(r + 1);
      ASSERT_TRUE((*comm)->AllReduce(&x, 1, DataType::kFloat32, ReduceOp::kSum)
                      ->Wait(milliseconds(10000))
                      .ok());
      results[r] = x;
    });
  }
  for (auto& t : ranks) t.join();
  EXPECT_EQ(results, (std::vector<float>{6, 6, 6}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cyclr
