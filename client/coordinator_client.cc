#include "client/coordinator_client.h"

#include <algorithm>
#include <thread>

#include "proto/authorized_channel.h"
#include "proto/proto_convert.h"

namespace cyclr::client {

bool IsTerminal(v1::JobState state) {
  return state == v1::SUCCEEDED || state == v1::FAILED || state == v1::STOPPED;
}

namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           std::shared_ptr<grpc::ChannelCredentials> creds,
                                           const std::string& token) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);  // a quiet watch still pings
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  return CreateAuthorizedChannel(address, creds ? creds : grpc::InsecureChannelCredentials(), args,
                                 token);
}

}  // namespace

CoordinatorClient::CoordinatorClient(std::string address, std::chrono::milliseconds deadline,
                                     std::chrono::milliseconds gone_after,
                                     std::shared_ptr<grpc::ChannelCredentials> credentials,
                                     const std::string& token)
    : address_(std::move(address)),
      deadline_(deadline),
      gone_after_(gone_after),
      channel_(MakeChannel(address_, std::move(credentials), token)),
      jobs_(v1::JobService::NewStub(channel_)),
      schedules_(v1::ScheduleService::NewStub(channel_)),
      admin_(v1::AdminService::NewStub(channel_)) {}

Status CoordinatorClient::Explain(const grpc::Status& status, const std::string& address,
                                  std::chrono::milliseconds deadline) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    // A closed socket right after connecting is what a TLS/plaintext mismatch looks like.
    const bool closed = status.error_message().find("Socket closed") != std::string::npos ||
                        status.error_message().find("handshake") != std::string::npos;
    return Status::Unavailable(
        "the coordinator at " + address + " is unreachable (" + status.error_message() + ")" +
        (closed ? "; if it serves TLS, give --tls-ca (and --tls-cert/--tls-key for mutual TLS)"
                : ""));
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return Status::DeadlineExceeded("the coordinator at " + address + " did not answer within " +
                                    std::to_string(deadline.count()) + " ms");
  }
  return FromGrpc(status);
}

void CoordinatorClient::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() + deadline_);
}

template <typename Response>
StatusOr<Response> CoordinatorClient::Finish(const grpc::Status& status, Response response) const {
  if (!status.ok()) return Explain(status, address_, deadline_);
  return response;
}

StatusOr<v1::Job> CoordinatorClient::LaunchJob(const v1::JobSpec& spec,
                                               const std::string& worker_token) {
  v1::LaunchJobRequest request;
  *request.mutable_spec() = spec;
  request.set_worker_token(worker_token);
  return Unary<v1::Job>([&](auto* c, auto* r) { return jobs_->LaunchJob(c, request, r); });
}

StatusOr<v1::LossCurve> CoordinatorClient::GetLossCurve(const std::string& name) {
  v1::GetJobRequest request;
  request.set_name(name);
  return Unary<v1::LossCurve>([&](auto* c, auto* r) { return jobs_->GetLossCurve(c, request, r); });
}

StatusOr<v1::WorkerLog> CoordinatorClient::GetWorkerLog(const v1::GetWorkerLogRequest& request) {
  return Unary<v1::WorkerLog>([&](auto* c, auto* r) { return jobs_->GetWorkerLog(c, request, r); });
}

StatusOr<v1::Job> CoordinatorClient::GetJob(const std::string& name) {
  v1::GetJobRequest request;
  request.set_name(name);
  return Unary<v1::Job>([&](auto* c, auto* r) { return jobs_->GetJob(c, request, r); });
}

StatusOr<v1::ListJobsResponse> CoordinatorClient::ListJobs(int page_size,
                                                           const std::string& page_token) {
  v1::ListJobsRequest request;
  request.set_page_size(page_size);
  request.set_page_token(page_token);
  return Unary<v1::ListJobsResponse>(
      [&](auto* c, auto* r) { return jobs_->ListJobs(c, request, r); });
}

StatusOr<v1::ListJobsResponse> CoordinatorClient::ListAllJobs() {
  v1::ListJobsResponse all;
  std::string token;
  do {
    CYCLR_ASSIGN_OR_RETURN(v1::ListJobsResponse page, ListJobs(0, token));
    for (auto& job : *page.mutable_jobs()) *all.add_jobs() = std::move(job);
    token = page.next_page_token();
  } while (!token.empty());
  return all;
}

Status CoordinatorClient::DeleteJob(const std::string& name) {
  v1::DeleteJobRequest request;
  request.set_name(name);
  return Unary<v1::DeleteJobResponse>(
             [&](auto* c, auto* r) { return jobs_->DeleteJob(c, request, r); })
      .status();
}

StatusOr<v1::Job> CoordinatorClient::StopJob(const std::string& name, const std::string& reason) {
  v1::StopJobRequest request;
  request.set_name(name);
  request.set_reason(reason);
  return Unary<v1::Job>([&](auto* c, auto* r) { return jobs_->StopJob(c, request, r); });
}

grpc::Status CoordinatorClient::WatchOnce(const std::string& name,
                                          const std::function<void(const v1::Job&)>& on_update,
                                          v1::Job* last, bool* any) {
  grpc::ClientContext context;
  v1::GetJobRequest request;
  request.set_name(name);
  std::unique_ptr<grpc::ClientReader<v1::Job>> reader = jobs_->WatchJob(&context, request);
  v1::Job job;
  while (reader->Read(&job)) {
    on_update(job);
    *last = job;
    *any = true;
  }
  return reader->Finish();
}

StatusOr<v1::Job> CoordinatorClient::WatchJob(
    const std::string& name, const std::function<void(const v1::Job&)>& on_update,
    const std::function<void(const Status&)>& on_reconnect) {
  using Clock = std::chrono::steady_clock;
  v1::Job last;
  Clock::time_point connected = Clock::now();  // the last time the coordinator answered
  for (;;) {
    bool any = false;
    grpc::Status status = WatchOnce(name, on_update, &last, &any);
    if (any) connected = Clock::now();
    if (status.ok() && IsTerminal(last.state())) return last;
    bool transient = status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE;
    if (!transient) return Explain(status, address_, deadline_);
    // OK without a terminal state: the coordinator is shutting down (its streams end).
    Status why = status.ok() ? Status::Unavailable("the coordinator ended the watch")
                             : Explain(status, address_, deadline_);
    Clock::time_point give_up = connected + gone_after_;
    if (Clock::now() >= give_up) {
      return Status::Unavailable(why.message() + "; no answer for " +
                                 std::to_string(gone_after_.count() / 1000) +
                                 " s, giving up on following job " + name);
    }
    if (on_reconnect) on_reconnect(why);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // no busy loop on a refusal
    // Waits for the channel to be READY (an HTTP/2 handshake: a frozen coordinator never gets
    // there) before opening the stream again, at most until giving up.
    channel_->WaitForConnected(
        std::chrono::system_clock::now() +
        std::min<Clock::duration>(give_up - Clock::now(), std::chrono::seconds(5)));
  }
}

StatusOr<v1::Timeline> CoordinatorClient::GetTimeline(const std::string& job) {
  v1::GetTimelineRequest request;
  request.set_job(job);
  return Unary<v1::Timeline>(
      [&](auto* c, auto* r) { return schedules_->GetTimeline(c, request, r); });
}

StatusOr<v1::Revision> CoordinatorClient::UpdateSchedule(const v1::UpdateScheduleRequest& request) {
  return Unary<v1::Revision>(
      [&](auto* c, auto* r) { return schedules_->UpdateSchedule(c, request, r); });
}

StatusOr<v1::PreviewScheduleResponse> CoordinatorClient::PreviewSchedule(
    const v1::PreviewScheduleRequest& request) {
  return Unary<v1::PreviewScheduleResponse>(
      [&](auto* c, auto* r) { return schedules_->PreviewSchedule(c, request, r); });
}

StatusOr<v1::CreateTokenResponse> CoordinatorClient::CreateToken(const std::string& name,
                                                                 const std::string& role) {
  v1::CreateTokenRequest request;
  request.set_name(name);
  request.set_role(role);
  return Unary<v1::CreateTokenResponse>(
      [&](auto* c, auto* r) { return admin_->CreateToken(c, request, r); });
}

Status CoordinatorClient::RevokeToken(const std::string& name) {
  v1::RevokeTokenRequest request;
  request.set_name(name);
  return Unary<v1::RevokeTokenResponse>(
             [&](auto* c, auto* r) { return admin_->RevokeToken(c, request, r); })
      .status();
}

StatusOr<v1::ListTokensResponse> CoordinatorClient::ListTokens() {
  return Unary<v1::ListTokensResponse>(
      [&](auto* c, auto* r) { return admin_->ListTokens(c, v1::ListTokensRequest(), r); });
}

StatusOr<v1::TokenInfo> CoordinatorClient::WhoAmI() {
  return Unary<v1::TokenInfo>(
      [&](auto* c, auto* r) { return admin_->WhoAmI(c, v1::WhoAmIRequest(), r); });
}

}  // namespace cyclr::client
