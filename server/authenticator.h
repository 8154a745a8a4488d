// Authenticator: who is calling, and may they. Every RPC's `authorization: Bearer <token>` is
// resolved to an Identity: a person's token (roles viewer < operator < admin), the coordinator's
// admin token (read from, or created in, --token-file), or a job's worker credential.
//
// Tokens are random (32 bytes, "cyclr_" + 64 hex) and stored only as their SHA-256 (the StateStore's
// `tokens` table), so a copy of the state file grants nothing; the admin token file is created
// 0600 with O_EXCL|O_NOFOLLOW and a file readable by others is refused. A job's worker credential
// is made at each (re)start of its group (MintWorkerToken, the previous one stops working) or
// chosen by the operator for an external job (SetWorkerToken), and is dropped with the job.
//
// Disabled (the coordinator's --insecure), every call is Identity{"anonymous", admin} and every
// check passes. Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/state_store.h"

namespace cyclr {

enum class Role { kViewer = 1, kOperator = 2, kAdmin = 3, kWorker = 10 };
const char* RoleName(Role role);
// A worker credential an operator chose: 32 to 256 characters of [A-Za-z0-9_-] (INVALID_ARGUMENT
// naming worker_token).
Status CheckWorkerSecret(const std::string& secret);
StatusOr<Role> ParseRole(const std::string& name);  // viewer | operator | admin

struct Identity {
  std::string name;  // a token's name ("admin" for the admin token; "cyclr-worker" for workers)
  Role role = Role::kViewer;
  std::string job;   // kWorker: the job it may act for
};

class Authenticator {
 public:
  struct Options {
    bool enabled = true;
    std::string admin_token_file;  // read, or created with a new token
  };
  // Loads the stored tokens and reads or creates the admin token file (when enabled).
  static StatusOr<std::unique_ptr<Authenticator>> Open(Options options, StateStore* store);

  bool enabled() const { return options_.enabled; }
  const std::string& admin_token_file() const { return options_.admin_token_file; }

  // UNAUTHENTICATED without a bearer token or for an unknown one.
  StatusOr<Identity> Identify(const grpc::ServerContextBase& ctx) const;
  // The checks on an identity already resolved (one Identify per call): a person with at least
  // `role` / the worker credential of `job` (always OK when disabled). PERMISSION_DENIED.
  Status CheckUser(const Identity& id, Role role) const;
  Status CheckWorker(const Identity& id, const std::string& job) const;
  // Identify + CheckUser: a person with at least `role`; PERMISSION_DENIED naming the role needed
  // and the caller's.
  StatusOr<Identity> RequireUser(const grpc::ServerContextBase& ctx, Role role) const;
  // The worker credential of `job` (or, for reads of that job, a viewer): PERMISSION_DENIED for
  // another job's credential or a person's token.
  StatusOr<Identity> RequireWorker(const grpc::ServerContextBase& ctx,
                                   const std::string& job) const;
  // A viewer, or the worker credential of `job` (a job's timeline, read by its workers).
  StatusOr<Identity> RequireReader(const grpc::ServerContextBase& ctx,
                                   const std::string& job) const;

  // Person tokens: the secret is returned once. ALREADY_EXISTS for a taken name.
  StatusOr<std::string> CreateToken(const std::string& name, Role role);
  Status RevokeToken(const std::string& name);  // NOT_FOUND
  std::vector<TokenRow> ListTokens() const;

  // A job's worker credential: a new random one (replacing the previous) / one the operator
  // chose (at least 32 characters of [A-Za-z0-9_-]: INVALID_ARGUMENT naming worker_token).
  // Disabled: "" and OK.
  StatusOr<std::string> MintWorkerToken(const std::string& job);
  Status SetWorkerToken(const std::string& job, const std::string& secret);
  void ForgetJob(const std::string& job);  // the store's rows go with the job's

 private:
  Authenticator(Options options, StateStore* store) : options_(std::move(options)), store_(store) {}
  Status LoadAdminToken();
  Status Put(const TokenRow& row);

  Options options_;
  StateStore* store_;
  mutable std::mutex mu_;
  std::map<std::string, TokenRow> by_hash_;  // GUARDED_BY(mu_); sha256 -> row
  std::string admin_hash_;                   // GUARDED_BY(mu_)
};

}  // namespace cyclr
