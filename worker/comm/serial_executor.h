// SerialExecutor: one thread that runs submitted tasks strictly in submission order, each
// returning a Work handle. It is how GlooCommunicator makes collectives asynchronous while
// keeping every rank's collectives in the same order (the caller issues them in order; this
// thread runs them in that order).
//
// Failure policy (gloo and c10d do the same): after one task fails or one Work::Wait times out,
// the executor is "poisoned": queued and later tasks are not run and complete with
// FAILED_PRECONDITION quoting the first error, because the peers' state is unknown. Destroy it
// and make a new communicator to recover.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "worker/comm/communicator.h"

namespace cyclr {

// A Work that is already complete with `status` (for calls rejected before they were queued).
std::unique_ptr<Work> CompletedWork(Status status);

class SerialExecutor {
 public:
  SerialExecutor();
  // Completes queued (not yet started) tasks with CANCELLED without running them, then waits for
  // the running task to return (collectives bound their own run time with their timeout).
  ~SerialExecutor();
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  // Queues `task`; `what` describes it in errors ("allreduce #3 of 1024 float32").
  // The returned Work outlives the executor safely.
  std::unique_ptr<Work> Submit(std::string what, std::function<Status()> task);

  // The first error that poisoned the executor, or OK.
  Status health() const;

  struct Shared;  // state shared with Work handles; defined in the .cc

 private:
  void Loop();

  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

}  // namespace cyclr
