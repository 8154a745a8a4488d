// `launch --follow` lines: format and rate limit (time is passed in).
#include "client/progress_printer.h"

#include <sstream>

#include <gtest/gtest.h>

namespace cyclr::client {
namespace {

using std::chrono::milliseconds;

v1::Job RunningJob(int64_t step, int32_t epoch) {
  v1::Job job;
  job.set_name("fm");
  job.set_state(v1::RUNNING);
  job.mutable_spec()->set_epochs(3);
  job.set_global_step(step);
  job.set_total_steps(705);
  job.set_epoch(epoch);
  job.set_lr(0.0042131);
  job.set_momentum(0.88123);
  job.set_loss(0.41234);
  job.set_samples_per_second(2310.4);
  job.set_test_accuracy(0.87123);
  job.set_schedule_version(2);
  return job;
}

int CountLines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(ProgressPrinterTest, LineFormat) {
  EXPECT_EQ(ProgressPrinter::ProgressLine(RunningJob(340, 1)),
            "epoch 2/3 step 340/705 lr 0.004213 momentum 0.8812 loss 0.4123 samples/s 2310 "
            "acc 0.8712 v2");
  v1::Job job = RunningJob(5, 0);
  job.clear_momentum();
  job.set_test_accuracy(0);
  job.set_total_steps(0);
  EXPECT_EQ(ProgressPrinter::ProgressLine(job),
            "epoch 1/3 step 5 lr 0.004213 loss 0.4123 samples/s 2310 v2");
}

TEST(ProgressPrinterTest, PrintsOnChangeAtMostOncePerInterval) {
  std::ostringstream out;
  ProgressPrinter printer(out, milliseconds(250));
  ProgressPrinter::TimePoint t0;
  printer.Observe(RunningJob(1, 0), t0);
  EXPECT_EQ(CountLines(out.str()), 1);
  printer.Observe(RunningJob(1, 0), t0 + milliseconds(400));  // no change
  EXPECT_EQ(CountLines(out.str()), 1);
  printer.Observe(RunningJob(2, 0), t0 + milliseconds(410));  // changed, 410 ms after the first
  EXPECT_EQ(CountLines(out.str()), 2);
  printer.Observe(RunningJob(3, 0), t0 + milliseconds(500));  // 90 ms after the last line
  EXPECT_EQ(CountLines(out.str()), 2);
  printer.Observe(RunningJob(4, 1), t0 + milliseconds(510));  // a new epoch prints at once
  EXPECT_EQ(CountLines(out.str()), 3);
  printer.Observe(RunningJob(5, 1), t0 + milliseconds(760));
  EXPECT_EQ(CountLines(out.str()), 4);
  EXPECT_NE(out.str().find("epoch 2/3 step 5/705"), std::string::npos) << out.str();
}

TEST(ProgressPrinterTest, OnlyRunningJobsPrintProgress) {
  std::ostringstream out;
  ProgressPrinter printer(out, milliseconds(0));
  for (v1::JobState state : {v1::PENDING, v1::STOPPED, v1::FAILED, v1::SUCCEEDED}) {
    v1::Job job = RunningJob(static_cast<int64_t>(state), 0);
    job.set_state(state);
    printer.Observe(job, ProgressPrinter::TimePoint());
  }
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressPrinterTest, FinishPrintsTheLastLineAndSummary) {
  std::ostringstream out;
  ProgressPrinter printer(out, milliseconds(1000));
  printer.Observe(RunningJob(700, 2), ProgressPrinter::TimePoint());
  v1::Job done = RunningJob(704, 2);
  done.set_state(v1::SUCCEEDED);
  printer.Finish(done);
  EXPECT_EQ(out.str(),
            "epoch 3/3 step 700/705 lr 0.004213 momentum 0.8812 loss 0.4123 samples/s 2310 acc "
            "0.8712 v2\n"
            "epoch 3/3 step 704/705 lr 0.004213 momentum 0.8812 loss 0.4123 samples/s 2310 acc "
            "0.8712 v2\n"
            "job fm SUCCEEDED at step 704/705, epoch 3/3: test accuracy 0.8712, loss 0.4123, "
            "schedule v2 (details: cyclrctl jobs get fm)\n");
}

TEST(ProgressPrinterTest, SummaryCarriesTheReason) {
  v1::Job job = RunningJob(10, 0);
  job.set_state(v1::FAILED);
  job.set_reason("rank 1 exited with code 3");
  job.set_test_accuracy(0);
  EXPECT_EQ(ProgressPrinter::SummaryLine(job),
            "job fm FAILED (rank 1 exited with code 3) at step 10/705, epoch 1/3: test accuracy "
            "not measured, loss 0.4123, schedule v2 (details: cyclrctl jobs get fm)");
}

}  // namespace
}  // namespace cyclr::client
