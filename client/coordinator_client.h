// CoordinatorClient: the CLI's calls to the coordinator, with gRPC's types kept inside.
//
// Every unary call carries a deadline (constructor argument; a few seconds in the CLI) and
// returns the server's Status as is (code and message), except that transport failures are
// rewritten for people: UNAVAILABLE -> "the coordinator at ADDR is unreachable (...)",
// DEADLINE_EXCEEDED -> "the coordinator at ADDR did not answer within N ms". WatchJob has no
// deadline: it lasts as long as the job. The channel pings the coordinator every 10 s (gRPC
// keepalive) so a frozen or vanished coordinator breaks a watch within ~15 s instead of never;
// WatchJob then reconnects until the coordinator is back, and fails only after `gone_after`
// without a connection.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "cyclr/v1/service.grpc.pb.h"

namespace cyclr::client {

class CoordinatorClient {
 public:
  // `address` is HOST:PORT. Connects lazily: nothing is sent until the first call.
  // `credentials` (proto/tls_credentials.h) null: plaintext. `token`: sent with every call as
  // `authorization: Bearer <token>` ("" sends none).
  CoordinatorClient(std::string address, std::chrono::milliseconds deadline,
                    std::chrono::milliseconds gone_after = std::chrono::seconds(60),
                    std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr,
                    const std::string& token = "");

  // `worker_token`: for launcher external, the credential its workers will present ("" = the
  // coordinator makes one and returns it in Job.worker_token).
  StatusOr<v1::Job> LaunchJob(const v1::JobSpec& spec, const std::string& worker_token = "");
  StatusOr<v1::Job> GetJob(const std::string& name);
  StatusOr<v1::LossCurve> GetLossCurve(const std::string& name);
  StatusOr<v1::WorkerLog> GetWorkerLog(const v1::GetWorkerLogRequest& request);
  // One page (ListJobsRequest's rules); ListAllJobs() follows next_page_token to the end.
  StatusOr<v1::ListJobsResponse> ListJobs(int page_size, const std::string& page_token);
  StatusOr<v1::ListJobsResponse> ListAllJobs();
  Status DeleteJob(const std::string& name);
  StatusOr<v1::Job> StopJob(const std::string& name, const std::string& reason);
  // Calls `on_update` with every message of the stream and returns the last one (terminal). A
  // broken stream (UNAVAILABLE: the coordinator restarted, froze or the network failed) is
  // opened again; `on_reconnect` (may be empty) hears why. UNAVAILABLE once no connection could
  // be made for `gone_after`; other errors (NOT_FOUND: the job was deleted) at once.
  StatusOr<v1::Job> WatchJob(const std::string& name,
                             const std::function<void(const v1::Job&)>& on_update,
                             const std::function<void(const Status&)>& on_reconnect = nullptr);

  StatusOr<v1::Timeline> GetTimeline(const std::string& job);
  StatusOr<v1::Revision> UpdateSchedule(const v1::UpdateScheduleRequest& request);
  StatusOr<v1::PreviewScheduleResponse> PreviewSchedule(const v1::PreviewScheduleRequest& request);

  StatusOr<v1::CreateTokenResponse> CreateToken(const std::string& name, const std::string& role);
  Status RevokeToken(const std::string& name);
  StatusOr<v1::ListTokensResponse> ListTokens();
  StatusOr<v1::TokenInfo> WhoAmI();

  const std::string& address() const { return address_; }

  // The Status the CLI reports for `status` from the coordinator at `address`.
  static Status Explain(const grpc::Status& status, const std::string& address,
                        std::chrono::milliseconds deadline);

 private:
  void SetDeadline(grpc::ClientContext* context) const;
  // One WatchJob stream until it ends; `any` tells whether a message arrived.
  grpc::Status WatchOnce(const std::string& name,
                         const std::function<void(const v1::Job&)>& on_update, v1::Job* last,
                         bool* any);
  template <typename Response>
  StatusOr<Response> Finish(const grpc::Status& status, Response response) const;
  // One unary call with the deadline: `rpc(context, response)` invokes the stub's method.
  template <typename Response, typename Rpc>
  StatusOr<Response> Unary(const Rpc& rpc) const {
    grpc::ClientContext context;
    SetDeadline(&context);
    Response response;
    grpc::Status status = rpc(&context, &response);
    return Finish(status, std::move(response));
  }

  std::string address_;
  std::chrono::milliseconds deadline_;
  std::chrono::milliseconds gone_after_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::ScheduleService::Stub> schedules_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

// True for SUCCEEDED, FAILED and STOPPED.
bool IsTerminal(v1::JobState state);

}  // namespace cyclr::client
