// CoordinatorClient: the CLI's calls to the coordinator, with gRPC's types kept inside.
//
// Every unary call carries a deadline (constructor argument; a few seconds in the CLI) and
// returns the server's Status as is (code and message), except that transport failures are
// rewritten for people: UNAVAILABLE -> "the coordinator at ADDR is unreachable (...)",
// DEADLINE_EXCEEDED -> "the coordinator at ADDR did not answer within N ms". WatchJob has no
// deadline: it lasts as long as the job.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "core/status.h"
#include "cyclr/v1/service.grpc.pb.h"

namespace cyclr::client {

class CoordinatorClient {
 public:
  // `address` is HOST:PORT. Connects lazily: nothing is sent until the first call.
  CoordinatorClient(std::string address, std::chrono::milliseconds deadline);

  StatusOr<v1::Job> LaunchJob(const v1::JobSpec& spec);
  StatusOr<v1::Job> GetJob(const std::string& name);
  StatusOr<v1::ListJobsResponse> ListJobs();
  StatusOr<v1::Job> StopJob(const std::string& name, const std::string& reason);
  // Calls `on_update` with every message of the stream and returns the last one; an error if
  // the stream fails or ends without a terminal state.
  StatusOr<v1::Job> WatchJob(const std::string& name,
                             const std::function<void(const v1::Job&)>& on_update);

  StatusOr<v1::Timeline> GetTimeline(const std::string& job);
  StatusOr<v1::Revision> UpdateSchedule(const v1::UpdateScheduleRequest& request);
  StatusOr<v1::PreviewScheduleResponse> PreviewSchedule(const v1::PreviewScheduleRequest& request);

  const std::string& address() const { return address_; }

  // The Status the CLI reports for `status` from the coordinator at `address`.
  static Status Explain(const grpc::Status& status, const std::string& address,
                        std::chrono::milliseconds deadline);

 private:
  void SetDeadline(grpc::ClientContext* context) const;
  template <typename Response>
  StatusOr<Response> Finish(const grpc::Status& status, Response response) const;

  std::string address_;
  std::chrono::milliseconds deadline_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::ScheduleService::Stub> schedules_;
};

// True for SUCCEEDED, FAILED and STOPPED.
bool IsTerminal(v1::JobState state);

}  // namespace cyclr::client
