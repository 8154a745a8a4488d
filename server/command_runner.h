// RunCommand: runs a scheduler's command-line tool (sbatch, squeue, scontrol, scancel, kubectl)
// as a child process without a shell, feeds it `input` on stdin and collects its output.
//
// The arguments go to execvp as they are (nothing is interpreted by a shell, so a job's values
// cannot inject commands). The child is killed (SIGKILL, its whole process group) when it runs
// past `timeout`; output beyond `max_output` bytes per stream is dropped. Blocks the calling
// thread; thread-safe (each call has its own pipes; the descriptors are close-on-exec).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/status.h"

namespace cyclr {

struct CommandResult {
  int exit_code = -1;  // valid when signal == 0
  int signal = 0;      // the signal that ended it, 0 if it exited
  bool timed_out = false;
  std::string out;
  std::string err;

  bool ok() const { return !timed_out && signal == 0 && exit_code == 0; }
  // "sbatch exited with code 1: sbatch: error: invalid partition specified: gpu" (the stderr's
  // last lines, else stdout's), for a job's reason.
  std::string Describe(const std::string& program) const;
};

struct CommandOptions {
  std::string input;  // written to its stdin, then closed
  std::chrono::milliseconds timeout{30000};
  size_t max_output = 1 << 20;
};

// UNAVAILABLE when the program cannot be started (not found: the message names it and says it
// is not on PATH). A non-zero exit is not an error here: read CommandResult.
StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                   const CommandOptions& options = {});

}  // namespace cyclr
