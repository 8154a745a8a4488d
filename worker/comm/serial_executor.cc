#include "worker/comm/serial_executor.h"

#include <utility>

namespace cyclr {
namespace {

// Completion state of one task, shared by the executor thread and the Work handle.
struct TaskState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // GUARDED_BY(mu)
  Status status;      // GUARDED_BY(mu)

  void Complete(Status s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
      status = std::move(s);
    }
    cv.notify_all();
  }
};

struct Task {
  std::string what;
  std::function<Status()> fn;
  std::shared_ptr<TaskState> state;
};

}  // namespace

struct SerialExecutor::Shared {
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Task> queue;  // GUARDED_BY(mu)
  bool stop = false;       // GUARDED_BY(mu)
  Status poison;           // GUARDED_BY(mu): first error, OK while healthy

  void Poison(const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    if (poison.ok()) poison = s;
  }
  Status PoisonedStatus() const {  // REQUIRES: mu held and poison not OK.
    return Status::FailedPrecondition("communicator unusable after an earlier error: " +
                                      poison.ToString());
  }
};

namespace {

class TaskWork : public Work {
 public:
  TaskWork(std::string what, std::shared_ptr<TaskState> state,
           std::shared_ptr<SerialExecutor::Shared> executor)
      : what_(std::move(what)), state_(std::move(state)), executor_(std::move(executor)) {}

  Status Wait(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(state_->mu);
    if (!state_->cv.wait_for(lock, timeout, [&] { return state_->done; })) {
      Status s = Status::DeadlineExceeded(what_ + " did not finish within " +
                                          std::to_string(timeout.count()) + " ms");
      executor_->Poison(s);
      return s;
    }
    return state_->status;
  }

 private:
  const std::string what_;
  const std::shared_ptr<TaskState> state_;
  const std::shared_ptr<SerialExecutor::Shared> executor_;
};

class DoneWork : public Work {
 public:
  explicit DoneWork(Status status) : status_(std::move(status)) {}
  Status Wait(std::chrono::milliseconds) override { return status_; }

 private:
  const Status status_;
};

}  // namespace

std::unique_ptr<Work> CompletedWork(Status status) {
  return std::make_unique<DoneWork>(std::move(status));
}

SerialExecutor::SerialExecutor() : shared_(std::make_shared<Shared>()) {
  thread_ = std::thread([this] { Loop(); });
}

SerialExecutor::~SerialExecutor() {
  std::deque<Task> dropped;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stop = true;
    dropped.swap(shared_->queue);
  }
  shared_->cv.notify_all();
  for (auto& t : dropped) {
    t.state->Complete(Status(StatusCode::kCancelled, t.what + " cancelled: communicator closed"));
  }
  thread_.join();
}

std::unique_ptr<Work> SerialExecutor::Submit(std::string what, std::function<Status()> task) {
  auto state = std::make_shared<TaskState>();
  auto work = std::make_unique<TaskWork>(what, state, shared_);
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (!shared_->poison.ok()) {
      state->Complete(shared_->PoisonedStatus());
      return work;
    }
    shared_->queue.push_back(Task{std::move(what), std::move(task), state});
  }
  shared_->cv.notify_all();
  return work;
}

Status SerialExecutor::health() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->poison;
}

void SerialExecutor::Loop() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(shared_->mu);
      shared_->cv.wait(lock, [&] { return shared_->stop || !shared_->queue.empty(); });
      if (shared_->stop) return;
      task = std::move(shared_->queue.front());
      shared_->queue.pop_front();
      if (!shared_->poison.ok()) {
        task.state->Complete(shared_->PoisonedStatus());
        continue;
      }
    }
    Status s = task.fn();
    if (!s.ok()) {
      s = s.WithContext(task.what);
      shared_->Poison(s);
    }
    task.state->Complete(std::move(s));
  }
}

}  // namespace cyclr
