// ProgressPrinter: the lines `launch --follow` prints while a job runs.
//
// A line is printed when the step or epoch changed, at most once per `min_interval` (an epoch
// change or the job ending prints at once):
//   epoch 2/3 step 340/705 lr 0.004213 momentum 0.8812 loss 0.4123 samples/s 2310 acc 0.8712 v2
// momentum is left out when the schedule does not cycle it, acc until a test accuracy exists.
// While ranks of the job have not registered yet (a cold start), one line says which, each time
// that set changes: "waiting for ranks 0, 1 (since 2026-12-02T05:20:11Z)".
// Epochs are shown 1-based (the job's epoch field counts from 0). Time is passed in, so tests
// need no clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "cyclr/v1/job.pb.h"

namespace cyclr::client {

class ProgressPrinter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  ProgressPrinter(std::ostream& out, std::chrono::milliseconds min_interval);

  // Called with every job update from WatchJob; prints a progress line when due (RUNNING only).
  void Observe(const v1::Job& job, TimePoint now);

  // Called once with the last update: the final line and the summary.
  void Finish(const v1::Job& job);

  static std::string ProgressLine(const v1::Job& job);
  // "job fmnist SUCCEEDED after 705/705 steps, 3 epochs: test accuracy 0.8712, loss 0.3, v2".
  static std::string SummaryLine(const v1::Job& job);

 private:
  std::ostream& out_;
  std::chrono::milliseconds min_interval_;
  std::optional<TimePoint> last_print_;
  int64_t last_step_ = -1;
  int32_t last_epoch_ = -1;
  std::string last_line_;
  std::string last_waiting_;
};

}  // namespace cyclr::client
