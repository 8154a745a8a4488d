// logs NAME [--rank R] [--tail BYTES] [--follow]: a worker's log, from whichever launcher ran it
// (the coordinator reads it: a local file, a Slurm task's output, the pod's log).
#include <CLI/CLI.hpp>
#include <memory>
#include <thread>

#include "client/commands/commands.h"

namespace cyclr::client {
namespace {

struct LogsOptions {
  std::string name;
  int rank = 0;
  int64_t tail = 0;  // bytes from the end to start with (0 = from the beginning)
  bool follow = false;
};

// Reads from `offset` until the log's current end; returns where the next read starts.
StatusOr<int64_t> Drain(const CommandContext& ctx, CoordinatorClient& client, const LogsOptions& o,
                        int64_t offset) {
  v1::GetWorkerLogRequest req;
  req.set_job(o.name);
  req.set_rank(o.rank);
  req.set_max_bytes(256 << 10);
  while (true) {
    req.set_offset(offset);
    CYCLR_ASSIGN_OR_RETURN(v1::WorkerLog log, client.GetWorkerLog(req));
    *ctx.out << log.data() << std::flush;
    // A log that shrank (a new file after a restart) is read again from its beginning.
    if (log.size() < offset) return int64_t{0};
    offset = log.next_offset();
    if (log.data().empty() || offset >= log.size()) return offset;
  }
}

// --follow: polls the log until the job ends (then reads what is left once more).
Status Follow(const CommandContext& ctx, CoordinatorClient& client, const LogsOptions& o,
              int64_t offset) {
  while (true) {
    CYCLR_ASSIGN_OR_RETURN(v1::Job job, client.GetJob(o.name));
    const bool ended =
        job.state() == v1::SUCCEEDED || job.state() == v1::FAILED || job.state() == v1::STOPPED;
    StatusOr<int64_t> next = Drain(ctx, client, o, offset);
    if (next.ok()) {
      offset = *next;
    } else if (next.status().code() != StatusCode::kNotFound) {  // not written yet: wait
      return next.status();
    }
    if (ended) return Status::Ok();
    std::this_thread::sleep_for(std::max(ctx.follow_interval, std::chrono::milliseconds(200)));
  }
}

Status Logs(const CommandContext& ctx, const LogsOptions& o) {
  CoordinatorClient client = ctx.Client();
  const int64_t start = o.tail > 0 ? -o.tail : 0;
  StatusOr<int64_t> next = Drain(ctx, client, o, start);
  if (!o.follow) return next.status();
  if (!next.ok() && next.status().code() != StatusCode::kNotFound) return next.status();
  return Follow(ctx, client, o, next.ok() ? *next : 0);
}

}  // namespace

void AddLogsCommand(CLI::App* app, CommandContext* ctx) {
  auto o = std::make_shared<LogsOptions>();
  CLI::App* logs = app->add_subcommand(
      "logs", "a worker's output, from whichever launcher ran it (local, Slurm, Kubernetes)");
  logs->add_option("NAME", o->name, "job name")->required();
  logs->add_option("--rank", o->rank, "the worker's rank")->capture_default_str();
  logs->add_option("--tail", o->tail, "start this many bytes before the end (0 = from the start)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  logs->add_flag("-f,--follow", o->follow, "keep printing what is appended until the job ends");
  logs->callback([ctx, o] { ctx->action = [ctx, o] { return Logs(*ctx, *o); }; });
}

}  // namespace cyclr::client
