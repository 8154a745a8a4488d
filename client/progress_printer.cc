#include "client/progress_printer.h"

#include "client/output_format.h"
#include "client/text_table.h"

namespace cyclr::client {

ProgressPrinter::ProgressPrinter(std::ostream& out, std::chrono::milliseconds min_interval)
    : out_(out), min_interval_(min_interval) {}

std::string ProgressPrinter::ProgressLine(const v1::Job& job) {
  std::string line = "epoch " + std::to_string(job.epoch() + 1) + "/" +
                     std::to_string(job.spec().epochs()) + " step " +
                     std::to_string(job.global_step());
  if (job.total_steps() > 0) line += "/" + std::to_string(job.total_steps());
  line += " lr " + FormatG(job.lr(), 4);
  if (job.has_momentum()) line += " momentum " + FormatG(job.momentum(), 4);
  line += " loss " + FormatG(job.loss(), 4);
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.0f", job.samples_per_second());
  line += std::string(" samples/s ") + rate;
  if (job.test_accuracy() > 0) line += " acc " + FormatG(job.test_accuracy(), 4);
  line += " v" + std::to_string(job.schedule_version());
  return line;
}

std::string ProgressPrinter::SummaryLine(const v1::Job& job) {
  std::string line = "job " + job.name() + " " + v1::JobState_Name(job.state());
  if (!job.reason().empty()) line += " (" + job.reason() + ")";
  line += " at step " + std::to_string(job.global_step());
  if (job.total_steps() > 0) line += "/" + std::to_string(job.total_steps());
  line += ", epoch " + std::to_string(job.epoch() + 1) + "/" + std::to_string(job.spec().epochs());
  line += ": test accuracy ";
  line += job.test_accuracy() > 0 ? FormatG(job.test_accuracy(), 4) : std::string("not measured");
  line += ", loss " + FormatG(job.loss(), 4) + ", schedule v" +
          std::to_string(job.schedule_version()) + " (details: cyclrctl jobs get " + job.name() +
          ")";
  return line;
}

void ProgressPrinter::Observe(const v1::Job& job, TimePoint now) {
  std::string waiting = WaitingText(job);
  if (waiting != last_waiting_ && !waiting.empty()) {
    out_ << "waiting for " << waiting << "\n" << std::flush;
  }
  last_waiting_ = waiting;
  bool epoch_changed = job.epoch() != last_epoch_;
  bool changed = epoch_changed || job.global_step() != last_step_;
  if (!changed || job.state() != v1::RUNNING) return;  // Finish() reports the end
  bool due = !last_print_ || epoch_changed || now - *last_print_ >= min_interval_;
  if (!due) return;
  last_line_ = ProgressLine(job);
  out_ << last_line_ << "\n" << std::flush;
  last_print_ = now;
  last_step_ = job.global_step();
  last_epoch_ = job.epoch();
}

void ProgressPrinter::Finish(const v1::Job& job) {
  std::string line = ProgressLine(job);
  if (job.global_step() > 0 && line != last_line_) out_ << line << "\n";
  out_ << SummaryLine(job) << "\n" << std::flush;
}

}  // namespace cyclr::client
