// The cyclrctl command tree. Each group adds its subcommands to the CLI11 app; the chosen
// subcommand's parse callback stores its action in the context, and the driver runs it after the
// parse (so a command runs only when the whole command line parsed).
#pragma once

#include <chrono>
#include <functional>
#include <ostream>
#include <string>

#include "client/coordinator_client.h"
#include "client/output_format.h"
#include "core/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace cyclr::client {

struct CommandContext {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  std::string coordinator;  // HOST:PORT (--coordinator, $CYCLR_COORDINATOR, default)
  std::chrono::milliseconds rpc_deadline{5000};
  std::chrono::milliseconds follow_interval{250};  // --follow: at most one line per interval
  // --follow: how long the coordinator may stay unreachable before cyclrctl gives up.
  std::chrono::milliseconds follow_gone_after{60000};
  std::function<Status()> action;  // set by the chosen subcommand
  // TLS to the coordinator (--tls-ca/--tls-cert/--tls-key or $CYCLR_TLS_*); null = plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string token;  // sent with every call (cli.h: where it comes from); "" = none

  CoordinatorClient Client() const {
    return CoordinatorClient(coordinator, rpc_deadline, follow_gone_after, credentials, token);
  }
};

// Adds `--output table|json` (default table) to a read command.
void AddOutputOption(CLI::App* command, std::string* output);

// tokens create NAME --role R | tokens revoke NAME | tokens list | whoami
void AddTokenCommands(CLI::App* app, CommandContext* context);
// jobs list | jobs get NAME | jobs delete NAME | stop NAME
void AddJobCommands(CLI::App* app, CommandContext* context);
// logs NAME [--rank R] [--tail BYTES] [--follow]
void AddLogsCommand(CLI::App* app, CommandContext* context);
// launch ...
void AddLaunchCommand(CLI::App* app, CommandContext* context);
// lr-find [job flags] --start-lr --end-lr --steps ...: an LR range test; lr-find get NAME.
void AddLrFindCommand(CLI::App* app, CommandContext* context);
// resume NAME [--as NEW]: a FAILED/STOPPED job continued from its checkpoints as a new job.
void AddResumeCommand(CLI::App* app, CommandContext* context);
// schedule get | set | undo, and schedule preview (added to the `schedule` group).
CLI::App* AddScheduleCommands(CLI::App* app, CommandContext* context);
void AddPreviewCommand(CLI::App* schedule, CommandContext* context);

}  // namespace cyclr::client
