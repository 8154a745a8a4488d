// InMemoryStore, PrefixStore and the Gloo adapter: waiting, timeouts that name the missing keys.
#include <chrono>
#include <memory>
#include <thread>

#include <gloo/common/error.h>
#include <gtest/gtest.h>

#include "worker/comm/gloo_store_adapter.h"
#include "worker/comm/in_memory_store.h"
#include "worker/comm/prefix_store.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

TEST(InMemoryStoreTest, GetReturnsValuesInKeyOrder) {
  InMemoryStore store;
  ASSERT_TRUE(store.Set("b", "2").ok());
  ASSERT_TRUE(store.Set("a", "1").ok());
  auto values = store.Get({"a", "b"}, milliseconds(10));
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(*values, (std::vector<std::string>{"1", "2"}));
}

TEST(InMemoryStoreTest, GetWaitsForALaterSet) {
  InMemoryStore store;
  std::thread setter([&] {
    std::this_thread::sleep_for(milliseconds(30));
    EXPECT_TRUE(store.Set("late", "v").ok());
  });
  const auto start = std::chrono::steady_clock::now();
  auto values = store.Get({"late"}, milliseconds(5000));
  setter.join();
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->at(0), "v");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(25));
}

TEST(InMemoryStoreTest, GetTimesOutNamingOnlyMissingKeys) {
  InMemoryStore store;
  ASSERT_TRUE(store.Set("here", "x").ok());
  const auto start = std::chrono::steady_clock::now();
  auto values = store.Get({"here", "missing"}, milliseconds(40));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(35));
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(values.status().message().find("missing"), std::string::npos);
  EXPECT_EQ(values.status().message().find("here"), std::string::npos);
}

TEST(InMemoryStoreTest, RejectsEmptyKeyAndChangesNothing) {
  InMemoryStore store;
  Status s = store.Set("", "x");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.size(), 0u);
}

TEST(InMemoryStoreTest, SetOverwrites) {
  InMemoryStore store;
  ASSERT_TRUE(store.Set("k", "1").ok());
  ASSERT_TRUE(store.Set("k", "2").ok());
  EXPECT_EQ(store.Get({"k"}, milliseconds(1))->at(0), "2");
}

TEST(PrefixStoreTest, NamespacesKeys) {
  auto base = std::make_shared<InMemoryStore>();
  PrefixStore a("job1", base), b("job2", base);
  ASSERT_TRUE(a.Set("k", "from-a").ok());
  ASSERT_TRUE(b.Set("k", "from-b").ok());
  EXPECT_EQ(base->Get({"job1/k"}, milliseconds(1))->at(0), "from-a");
  EXPECT_EQ(a.Get({"k"}, milliseconds(1))->at(0), "from-a");
  EXPECT_EQ(b.Get({"k"}, milliseconds(1))->at(0), "from-b");
  auto missing = a.Get({"other"}, milliseconds(5));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("job1/other"), std::string::npos);
}

TEST(GlooStoreAdapterTest, RoundTripsBytes) {
  auto base = std::make_shared<InMemoryStore>();
  GlooStoreAdapter adapter(base, milliseconds(50));
  std::vector<char> bytes = {'a', '\0', 'b'};
  adapter.set("k", bytes);
  adapter.wait({"k"});
  EXPECT_EQ(adapter.get("k"), bytes);
}

TEST(GlooStoreAdapterTest, WaitTimeoutThrowsIoExceptionNamingKey) {
  GlooStoreAdapter adapter(std::make_shared<InMemoryStore>(), milliseconds(5000));
  try {
    adapter.wait({"never"}, milliseconds(20));
    FAIL() << "wait should have thrown";
  } catch (const gloo::IoException& e) {
    EXPECT_NE(std::string(e.what()).find("never"), std::string::npos) << e.what();
  }
  EXPECT_THROW(GlooStoreAdapter(std::make_shared<InMemoryStore>(), milliseconds(5)).get("x"),
               gloo::IoException);
}

}  // namespace
}  // namespace cyclr
