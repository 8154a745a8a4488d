// WorkerRunner: one cyclr-worker process from registration to exit.
//
// Registers with the coordinator (retrying with backoff while it is unreachable), learns its
// rank, the job spec and the schedule timeline; starts the timeline watcher and the progress
// reporter; rendezvouses with its peers through the coordinator's key-value store; trains; and
// reports the end (finished, or the error). The flags are checked (worker_options.h) before
// anything is contacted, the job spec before training is set up. The coordinator is needed to start
// and for rendezvous; after that training goes on whether or not it answers.
#pragma once

#include "core/status.h"
#include "worker/train/worker_options.h"

namespace cyclr {

// Runs the worker; the Status is what the process reports and exits with.
Status RunWorker(WorkerRunnerOptions options);
// Runs one rank without a coordinator (see WorkerRunnerOptions::standalone_spec).
Status RunStandaloneWorker(WorkerRunnerOptions options);

}  // namespace cyclr
