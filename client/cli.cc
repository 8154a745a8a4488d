#include "client/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>

#include "client/commands/commands.h"
#include "core/host_port.h"
#include "core/job_name.h"
#include "proto/authorized_channel.h"
#include "proto/tls_credentials.h"

namespace cyclr::client {
namespace {

constexpr int kUsageExit = 2;
constexpr int kFailureExit = 1;

void ReportError(std::ostream& err, const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (c == '\n') c = ' ';  // one line, whatever the source
  }
  err << "cyclrctl: " << line << "\n";
}

// CLI11 reports "cyclrctl bogus" as a missing subcommand; name the word it did not know.
std::string ParseErrorMessage(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_name() != "RequiredError") return e.what();
  const CLI::App* deepest = &app;
  while (!deepest->get_subcommands().empty()) deepest = deepest->get_subcommands().front();
  std::vector<std::string> rest = deepest->remaining();
  if (rest.empty()) rest = app.remaining();  // unknown words may be passed up to the root
  if (rest.empty()) return e.what();
  std::string known;
  for (const CLI::App* sub : deepest->get_subcommands({})) {
    known += (known.empty() ? "" : ", ") + sub->get_name();
  }
  return "unknown command '" + rest.front() + "'" +
         (known.empty() ? "" : "; expected one of " + known);
}

// Checks, before any command runs, what every command shares: the coordinator's address (from
// --coordinator or $CYCLR_COORDINATOR, named as given) and the job NAME of the chosen command
// (jobs get, stop, resume, schedule get/set/undo, and any later command with a NAME argument).
Status CheckCommonArguments(const CLI::App& app, const CLI::Option* coordinator_flag,
                            const CommandContext& ctx, const CliEnvironment& env) {
  if (coordinator_flag->count() > 0) {
    CYCLR_RETURN_IF_ERROR(ParseHostPort(ctx.coordinator, "--coordinator").status());
  } else if (!env.coordinator.empty()) {
    CYCLR_RETURN_IF_ERROR(ParseHostPort(ctx.coordinator, "$CYCLR_COORDINATOR").status());
  }
  for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
    sub = sub->get_subcommands().front();
    const CLI::Option* name = sub->get_option_no_throw("NAME");
    if (name != nullptr && name->count() > 0) {
      CYCLR_RETURN_IF_ERROR(CheckJobName(name->as<std::string>(), "job name"));
    }
  }
  return Status::Ok();
}

// The token to send (cli.h's order). A named file must be readable; a default one is only used
// when it is (another user's coordinator token is not ours).
StatusOr<std::string> ResolveToken(const std::string& token_file, const CliEnvironment& env) {
  if (!token_file.empty()) return ReadTokenFile(token_file, "--token-file");
  if (!env.token.empty()) return env.token;
  for (const std::string& path : env.default_token_files) {
    if (::access(path.c_str(), R_OK) == 0) return ReadTokenFile(path, "token file");
  }
  return std::string();
}

}  // namespace

CliEnvironment EnvironmentFromProcess() {
  CliEnvironment env;
  if (const char* c = std::getenv("CYCLR_COORDINATOR")) env.coordinator = c;
  if (const char* v = std::getenv("CYCLR_TOKEN_FILE")) env.token_file = v;
  if (const char* v = std::getenv("CYCLR_TOKEN")) env.token = v;
  if (const char* v = std::getenv("CYCLR_TLS_CA")) env.tls_ca = v;
  if (const char* v = std::getenv("CYCLR_TLS_CERT")) env.tls_cert = v;
  if (const char* v = std::getenv("CYCLR_TLS_KEY")) env.tls_key = v;
  return env;
}

int ExitCodeFor(const Status& status) {
  if (status.ok()) return 0;
  return status.code() == StatusCode::kInvalidArgument ? kUsageExit : kFailureExit;
}

int RunCli(int argc, const char* const* argv, const CliEnvironment& env, std::ostream& out,
           std::ostream& err) {
  CommandContext ctx;
  ctx.out = &out;
  ctx.err = &err;
  ctx.coordinator = env.coordinator.empty() ? kDefaultCoordinator : env.coordinator;

  CLI::App app("cyclrctl: control cyclic-learning-rate training jobs", "cyclrctl");
  app.fallthrough();  // subcommands accept the global options too (set before adding them)
  app.require_subcommand(1);
  CLI::Option* coordinator_flag =
      app.add_option("--coordinator", ctx.coordinator,
                     "coordinator HOST:PORT (default $CYCLR_COORDINATOR or " +
                         std::string(kDefaultCoordinator) + ")");
  TlsFiles tls{env.tls_ca, env.tls_cert, env.tls_key};
  app.add_option("--tls-ca", tls.ca,
                 "talk TLS, trusting this CA's certificate for the coordinator (default "
                 "$CYCLR_TLS_CA)");
  app.add_option("--tls-cert", tls.cert,
                 "mutual TLS: this client certificate (default $CYCLR_TLS_CERT)");
  app.add_option("--tls-key", tls.key, "mutual TLS: its private key (default $CYCLR_TLS_KEY)");
  std::string token_file = env.token_file;
  app.add_option("--token-file", token_file,
                 "send this file's token (default $CYCLR_TOKEN_FILE, $CYCLR_TOKEN, or the local "
                 "coordinator's cyclr-admin.token)");
  int64_t follow_timeout_s = ctx.follow_gone_after.count() / 1000;
  app.add_option("--follow-timeout-s", follow_timeout_s,
                 "--follow: give up after the coordinator was unreachable this long")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}))
      ->capture_default_str();
  AddLaunchCommand(&app, &ctx);
  AddResumeCommand(&app, &ctx);
  AddLrFindCommand(&app, &ctx);
  AddJobCommands(&app, &ctx);
  AddLogsCommand(&app, &ctx);
  AddTokenCommands(&app, &ctx);
  CLI::App* schedule = AddScheduleCommands(&app, &ctx);
  AddPreviewCommand(schedule, &ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help
    ReportError(err, ParseErrorMessage(app, e));
    return kUsageExit;
  }
  ctx.follow_gone_after = std::chrono::seconds(follow_timeout_s);
  if (!ctx.action) {
    ReportError(err, "no command given; see cyclrctl --help");
    return kUsageExit;
  }
  Status status = CheckCommonArguments(app, coordinator_flag, ctx, env);
  if (status.ok()) {
    StatusOr<std::string> token = ResolveToken(token_file, env);
    if (token.ok()) ctx.token = *token;
    status = token.status();
  }
  if (status.ok()) {
    StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = ClientCredentials(tls);
    if (creds.ok()) ctx.credentials = *creds;
    status = creds.status();
  }
  try {
    if (status.ok()) status = ctx.action();
  } catch (const std::exception& e) {  // foreign code that throws: report, do not crash
    status = Status::Internal(e.what());
  }
  out.flush();
  if (!status.ok()) ReportError(err, status.message());
  return ExitCodeFor(status);
}

}  // namespace cyclr::client
