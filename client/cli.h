// The cyclrctl driver: parses the command line, runs the chosen command, reports errors.
//
// Exit codes: 0 success; 2 usage and validation errors (CLI11 parse errors, INVALID_ARGUMENT
// from this program or from the coordinator); 1 everything else (unreachable coordinator,
// NOT_FOUND, FAILED_PRECONDITION, a followed job that did not succeed). An error is one line on
// `err`: "cyclrctl: <message>".
#pragma once

#include <ostream>
#include <string>

#include "core/status.h"

namespace cyclr::client {

inline constexpr char kDefaultCoordinator[] = "127.0.0.1:7070";

struct CliEnvironment {
  std::string coordinator;  // $CYCLR_COORDINATOR, empty if unset
  std::string user;         // $USER, else the login name of the user id
  // $CYCLR_TLS_CA, $CYCLR_TLS_CERT, $CYCLR_TLS_KEY (the --tls-* flags override them).
  std::string tls_ca, tls_cert, tls_key;
};

// Reads CYCLR_COORDINATOR, CYCLR_TLS_* and USER (falling back to the passwd entry of getuid()).
CliEnvironment EnvironmentFromProcess();

int RunCli(int argc, const char* const* argv, const CliEnvironment& env, std::ostream& out,
           std::ostream& err);

// 0 for OK, 2 for INVALID_ARGUMENT, 1 otherwise.
int ExitCodeFor(const Status& status);

}  // namespace cyclr::client
