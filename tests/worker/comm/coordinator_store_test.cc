// CoordinatorStore against a real gRPC server on loopback. The server is a fake WorkerService
// (StoreSet/StoreGet over an InMemoryStore, keyed "<job>|<key>"), standing in for the
// coordinator so these tests exercise the client's wire format, timeouts and retries.
#include <chrono>
#include <memory>
#include <thread>

#include <unistd.h>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include "proto/proto_convert.h"
#include "tests/worker/comm/spawn.h"
#include "worker/comm/communicator_factory.h"
#include "worker/comm/coordinator_store.h"
#include "worker/comm/in_memory_store.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

class FakeWorkerService : public v1::WorkerService::Service {
 public:
  grpc::Status StoreSet(grpc::ServerContext*, const v1::StoreSetRequest* req,
                        v1::StoreSetResponse*) override {
    return ToGrpc(store.Set(req->job() + "|" + req->key(), req->value()));
  }
  grpc::Status StoreGet(grpc::ServerContext*, const v1::StoreGetRequest* req,
                        v1::StoreGetResponse* resp) override {
    std::vector<std::string> keys;
    for (const auto& k : req->keys()) keys.push_back(req->job() + "|" + k);
    auto values = store.Get(keys, milliseconds(req->timeout_ms()));
    if (!values.ok()) return ToGrpc(values.status());
    for (const auto& v : *values) resp->add_values(v);
    return grpc::Status::OK;
  }
  InMemoryStore store;
};

// A fake coordinator listening on `address` ("127.0.0.1:0" picks a free TCP port).
struct FakeCoordinator {
  explicit FakeCoordinator(const std::string& listen = "127.0.0.1:0") {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &bound_port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    address = listen.rfind("unix:", 0) == 0 ? listen : "127.0.0.1:" + std::to_string(bound_port);
  }
  ~FakeCoordinator() { server->Shutdown(std::chrono::system_clock::now()); }

  FakeWorkerService service;
  int bound_port = 0;
  std::string address;
  std::unique_ptr<grpc::Server> server;
};

// A Unix socket path nobody listens on yet (unlike a freed TCP port, no one else can take it).
std::string UnusedUnixAddress(const std::string& tag) {
  return "unix:/tmp/cyclr_store_test_" + std::to_string(::getpid()) + "_" + tag + ".sock";
}

CoordinatorStoreOptions FastOptions() {
  CoordinatorStoreOptions o;
  o.set_timeout = milliseconds(3000);
  o.initial_backoff = milliseconds(10);
  o.max_backoff = milliseconds(40);
  return o;
}

// Reconnect backoff in milliseconds (gRPC's default starts at 1 s), so retry tests stay fast.
std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 50);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

TEST(CoordinatorStoreTest, SetThenGetUsesJobAndPrefix) {
  FakeCoordinator coordinator;
  ASSERT_NE(coordinator.bound_port, 0);
  CoordinatorStore store(Channel(coordinator.address), "mnist", "inc-3", FastOptions());
  ASSERT_TRUE(store.Set("k", std::string("a\0b", 3)).ok());
  auto raw = coordinator.service.store.Get({"mnist|inc-3/k"}, milliseconds(1));
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  auto values = store.Get({"k"}, milliseconds(1000));
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->at(0), std::string("a\0b", 3));
}

TEST(CoordinatorStoreTest, GetWaitsServerSideForALaterSet) {
  FakeCoordinator coordinator;
  auto channel = Channel(coordinator.address);
  CoordinatorStore reader(channel, "job", "p", FastOptions());
  CoordinatorStore writer(channel, "job", "p", FastOptions());
  std::thread late([&] {
    std::this_thread::sleep_for(milliseconds(50));
    EXPECT_TRUE(writer.Set("late", "v").ok());
  });
  auto values = reader.Get({"late"}, milliseconds(5000));
  late.join();
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->at(0), "v");
}

TEST(CoordinatorStoreTest, GetTimeoutIsDeadlineExceededNamingTheKey) {
  FakeCoordinator coordinator;
  CoordinatorStore store(Channel(coordinator.address), "job", "p", FastOptions());
  const auto start = std::chrono::steady_clock::now();
  auto values = store.Get({"nobody-sets-this"}, milliseconds(100));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.status().code(), StatusCode::kDeadlineExceeded) << values.status().ToString();
  EXPECT_NE(values.status().message().find("nobody-sets-this"), std::string::npos)
      << values.status().ToString();
}

TEST(CoordinatorStoreTest, RetriesUnavailableUntilTheCoordinatorComesUp) {
  const std::string address = UnusedUnixAddress("late");
  CoordinatorStore store(Channel(address), "job", "p", FastOptions());
  std::unique_ptr<FakeCoordinator> coordinator;
  std::thread starter([&] {
    std::this_thread::sleep_for(milliseconds(150));
    coordinator = std::make_unique<FakeCoordinator>(address);
  });
  Status set = store.Set("k", "v");  // first attempts fail with UNAVAILABLE
  starter.join();
  ASSERT_TRUE(set.ok()) << set.ToString();
  auto values = store.Get({"k"}, milliseconds(1000));
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->at(0), "v");
}

TEST(CoordinatorStoreTest, UnreachableCoordinatorGivesUpAtTheDeadline) {
  auto options = FastOptions();
  options.set_timeout = milliseconds(150);
  CoordinatorStore store(Channel(UnusedUnixAddress("never")), "job", "p", options);
  const auto start = std::chrono::steady_clock::now();
  const StatusCode set_code = store.Set("k", "v").code();
  // UNAVAILABLE from the last attempt, or DEADLINE_EXCEEDED if that attempt hit the deadline.
  EXPECT_TRUE(set_code == StatusCode::kUnavailable || set_code == StatusCode::kDeadlineExceeded)
      << StatusCodeName(set_code);
  auto values = store.Get({"k"}, milliseconds(150));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2500));
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.status().code(), StatusCode::kDeadlineExceeded) << values.status().ToString();
}

TEST(CoordinatorStoreTest, GlooRanksRendezvousThroughTheCoordinator) {
  FakeCoordinator coordinator;
  auto channel = Channel(coordinator.address);
  testing::Spawn(3, [&](int rank) {
    auto store = std::make_shared<CoordinatorStore>(channel, "job", "inc-1", FastOptions());
    CommunicatorOptions o;
    o.rank = rank;
    o.world_size = 3;
    o.rendezvous_timeout = milliseconds(10000);
    auto comm = MakeCommunicator(o, store);
    ASSERT_TRUE(comm.ok()) << comm.status().ToString();
    int64_t v = 10 + rank;
    ASSERT_TRUE((*comm)->AllReduce(&v, 1, DataType::kInt64, ReduceOp::kMin)
                    ->Wait(milliseconds(10000))
                    .ok());
    EXPECT_EQ(v, 10);
  });
}

}  // namespace
}  // namespace cyclr
