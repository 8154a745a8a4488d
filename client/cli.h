// The cyclrctl driver: parses the command line, runs the chosen command, reports errors.
//
// Exit codes: 0 success; 2 usage and validation errors (CLI11 parse errors, INVALID_ARGUMENT
// from this program or from the coordinator); 1 everything else (unreachable coordinator,
// NOT_FOUND, FAILED_PRECONDITION, a followed job that did not succeed). An error is one line on
// `err`: "cyclrctl: <message>".
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"

namespace cyclr::client {

inline constexpr char kDefaultCoordinator[] = "127.0.0.1:7070";

struct CliEnvironment {
  std::string coordinator;  // $CYCLR_COORDINATOR, empty if unset
  // $CYCLR_TLS_CA, $CYCLR_TLS_CERT, $CYCLR_TLS_KEY (the --tls-* flags override them).
  std::string tls_ca, tls_cert, tls_key;
  // The token: --token-file, else $CYCLR_TOKEN_FILE, else $CYCLR_TOKEN, else the first readable
  // of default_token_files (the coordinator's admin token when both run from this folder with
  // their defaults: ./cyclr-admin.token beside ./cyclr-state.db, .cyclr/cyclr-admin.token for the
  // quickstart's .cyclr/state.db).
  std::string token_file, token;
  std::vector<std::string> default_token_files = {"cyclr-admin.token", ".cyclr/cyclr-admin.token"};
};

// Reads CYCLR_COORDINATOR, CYCLR_TOKEN_FILE, CYCLR_TOKEN and CYCLR_TLS_*.
CliEnvironment EnvironmentFromProcess();

int RunCli(int argc, const char* const* argv, const CliEnvironment& env, std::ostream& out,
           std::ostream& err);

// 0 for OK, 2 for INVALID_ARGUMENT, 1 otherwise.
int ExitCodeFor(const Status& status);

}  // namespace cyclr::client
