#include "client/coordinator_client.h"

#include "proto/proto_convert.h"

namespace cyclr::client {

bool IsTerminal(v1::JobState state) {
  return state == v1::SUCCEEDED || state == v1::FAILED || state == v1::STOPPED;
}

CoordinatorClient::CoordinatorClient(std::string address, std::chrono::milliseconds deadline)
    : address_(std::move(address)),
      deadline_(deadline),
      channel_(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials())),
      jobs_(v1::JobService::NewStub(channel_)),
      schedules_(v1::ScheduleService::NewStub(channel_)) {}

Status CoordinatorClient::Explain(const grpc::Status& status, const std::string& address,
                                  std::chrono::milliseconds deadline) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return Status::Unavailable("the coordinator at " + address + " is unreachable (" +
                               status.error_message() + ")");
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

StatusOr<v1::Job> CoordinatorClient::LaunchJob(const v1::JobSpec& spec) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::LaunchJobRequest request;
  *request.mutable_spec() = spec;
  v1::Job job;
  grpc::Status status = jobs_->LaunchJob(&context, request, &job);
  return Finish(status, std::move(job));
}

StatusOr<v1::Job> CoordinatorClient::GetJob(const std::string& name) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::GetJobRequest request;
  request.set_name(name);
  v1::Job job;
  grpc::Status status = jobs_->GetJob(&context, request, &job);
  return Finish(status, std::move(job));
}

StatusOr<v1::ListJobsResponse> CoordinatorClient::ListJobs() {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::ListJobsResponse response;
  grpc::Status status = jobs_->ListJobs(&context, v1::ListJobsRequest(), &response);
  return Finish(status, std::move(response));
}

StatusOr<v1::Job> CoordinatorClient::StopJob(const std::string& name, const std::string& reason) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::StopJobRequest request;
  request.set_name(name);
  request.set_reason(reason);
  v1::Job job;
  grpc::Status status = jobs_->StopJob(&context, request, &job);
  return Finish(status, std::move(job));
}

StatusOr<v1::Job> CoordinatorClient::WatchJob(
    const std::string& name, const std::function<void(const v1::Job&)>& on_update) {
  grpc::ClientContext context;
  v1::GetJobRequest request;
  request.set_name(name);
  std::unique_ptr<grpc::ClientReader<v1::Job>> reader = jobs_->WatchJob(&context, request);
  v1::Job job, last;
  bool any = false;
  while (reader->Read(&job)) {
    on_update(job);
    last = job;
    any = true;
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Explain(status, address_, deadline_);
  if (!any || !IsTerminal(last.state())) {
    return Status::Unavailable("the coordinator at " + address_ + " ended the watch of job " +
                               name + " before the job ended");
  }
  return last;
}

StatusOr<v1::Timeline> CoordinatorClient::GetTimeline(const std::string& job) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::GetTimelineRequest request;
  request.set_job(job);
  v1::Timeline timeline;
  grpc::Status status = schedules_->GetTimeline(&context, request, &timeline);
  return Finish(status, std::move(timeline));
}

StatusOr<v1::Revision> CoordinatorClient::UpdateSchedule(const v1::UpdateScheduleRequest& request) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::Revision revision;
  grpc::Status status = schedules_->UpdateSchedule(&context, request, &revision);
  return Finish(status, std::move(revision));
}

StatusOr<v1::PreviewScheduleResponse> CoordinatorClient::PreviewSchedule(
    const v1::PreviewScheduleRequest& request) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::PreviewScheduleResponse response;
  grpc::Status status = schedules_->PreviewSchedule(&context, request, &response);
  return Finish(status, std::move(response));
}

}  // namespace cyclr::client
