#include "server/authenticator.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/file_sha256.h"

namespace cyclr {
namespace {

constexpr char kPrefix[] = "cyclr_";
constexpr char kAdminName[] = "admin";
// Every worker credential's identity (the author of a rollback's revision); its job says whose.
constexpr char kWorkerName[] = "cyclr-worker";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<std::string> NewToken() {
  CYCLR_ASSIGN_OR_RETURN(std::string hex, RandomHex(32));
  return kPrefix + hex;
}

std::string WorkerName(const std::string& job) { return "worker/" + job; }

// The token of "authorization: Bearer <token>", or "".
std::string BearerToken(const grpc::ServerContextBase& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return "";
  const std::string value(it->second.data(), it->second.size());
  return value.rfind("Bearer ", 0) == 0 ? value.substr(7) : "";
}

Status Unauthenticated(const std::string& why) {
  return Status(StatusCode::kUnauthenticated, why);
}

Status Denied(const std::string& why) { return Status(StatusCode::kPermissionDenied, why); }

// The admin token file: a regular file only its owner may read, holding one token.
StatusOr<std::string> ReadTokenFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::NotFound(path + ": " + std::strerror(errno));
  struct stat st;
  std::string text(256, '\0');
  ssize_t n = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0) {
    n = ::read(fd, text.data(), text.size());
  }
  ::close(fd);
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
    return Status::FailedPrecondition("token file " + path +
                                      " must be a regular file only its owner can read (chmod "
                                      "600)");
  }
  if (n < 0) return Status::Internal("read " + path + ": " + std::strerror(errno));
  text.resize(static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.rfind(kPrefix, 0) != 0 || text.size() != 6 + 64) {
    return Status::FailedPrecondition("token file " + path + " does not hold a cyclr token");
  }
  return text;
}

Status WriteNewTokenFile(const std::string& path, const std::string& token) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("create token file " + path + ": " + std::strerror(errno));
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status::Unavailable("write token file " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

bool IsTokenName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) return false;
  return s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kOperator: return "operator";
    case Role::kAdmin: return "admin";
    case Role::kWorker: return "worker";
  }
  return "?";
}

StatusOr<Role> ParseRole(const std::string& name) {
  if (name == "viewer") return Role::kViewer;
  if (name == "operator") return Role::kOperator;
  if (name == "admin") return Role::kAdmin;
  return Status::InvalidArgument("role (\"" + name.substr(0, 80) +
                                 "\") must be one of viewer, operator, admin");
}

StatusOr<std::unique_ptr<Authenticator>> Authenticator::Open(Options options, StateStore* store) {
  std::unique_ptr<Authenticator> a(new Authenticator(std::move(options), store));
  if (!a->enabled()) return a;
  CYCLR_ASSIGN_OR_RETURN(std::vector<TokenRow> rows, store->LoadTokens());
  for (TokenRow& r : rows) a->by_hash_[r.sha256] = std::move(r);
  CYCLR_RETURN_IF_ERROR(a->LoadAdminToken());
  return a;
}

Status Authenticator::LoadAdminToken() {
  const std::string& path = options_.admin_token_file;
  StatusOr<std::string> token = ReadTokenFile(path);
  if (token.status().code() == StatusCode::kNotFound) {
    CYCLR_ASSIGN_OR_RETURN(std::string fresh, NewToken());
    CYCLR_RETURN_IF_ERROR(WriteNewTokenFile(path, fresh));
    token = fresh;
  }
  if (!token.ok()) return token.status();
  admin_hash_ = Sha256Hex(*token);
  return Status::Ok();
}

StatusOr<Identity> Authenticator::Identify(const grpc::ServerContextBase& ctx) const {
  if (!enabled()) return Identity{"anonymous", Role::kAdmin, ""};
  const std::string token = BearerToken(ctx);
  if (token.empty()) {
    // The admin token's path is not told to an unauthenticated caller.
    return Unauthenticated(
        "no credentials: cyclrctl sends the token of --token-file, $CYCLR_TOKEN_FILE or "
        "$CYCLR_TOKEN (the coordinator's admin token is in cyclr-admin.token beside its --state, "
        "readable by its user only)");
  }
  const std::string hash = Sha256Hex(token);
  std::lock_guard<std::mutex> lock(mu_);
  if (hash == admin_hash_) return Identity{kAdminName, Role::kAdmin, ""};
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return Unauthenticated("unknown or revoked token");
  const TokenRow& r = it->second;
  if (r.role == "worker") return Identity{kWorkerName, Role::kWorker, r.job};
  return Identity{r.name, *ParseRole(r.role), ""};
}

Status Authenticator::CheckUser(const Identity& id, Role role) const {
  if (id.role == Role::kWorker || static_cast<int>(id.role) < static_cast<int>(role)) {
    return Denied(id.name + " (" + RoleName(id.role) + ") may not do this: it needs role " +
                  RoleName(role));
  }
  return Status::Ok();
}

Status Authenticator::CheckWorker(const Identity& id, const std::string& job) const {
  if (enabled() && (id.role != Role::kWorker || id.job != job)) {
    return Denied(id.name + " is not a worker of job \"" + job +
                  "\" (workers present their job's credential, CYCLR_WORKER_TOKEN)");
  }
  return Status::Ok();
}

StatusOr<Identity> Authenticator::RequireUser(const grpc::ServerContextBase& ctx, Role role) const {
  CYCLR_ASSIGN_OR_RETURN(Identity id, Identify(ctx));
  CYCLR_RETURN_IF_ERROR(CheckUser(id, role));
  return id;
}

StatusOr<Identity> Authenticator::RequireWorker(const grpc::ServerContextBase& ctx,
                                                const std::string& job) const {
  CYCLR_ASSIGN_OR_RETURN(Identity id, Identify(ctx));
  CYCLR_RETURN_IF_ERROR(CheckWorker(id, job));
  return id;
}

StatusOr<Identity> Authenticator::RequireReader(const grpc::ServerContextBase& ctx,
                                                const std::string& job) const {
  CYCLR_ASSIGN_OR_RETURN(Identity id, Identify(ctx));
  if (id.role == Role::kWorker && id.job != job) {
    return Denied(id.name + " is not a worker of job \"" + job + "\"");
  }
  return id;
}

Status Authenticator::Put(const TokenRow& row) {
  CYCLR_RETURN_IF_ERROR(store_->PutToken(row, row.role == "worker"));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = by_hash_.begin(); it != by_hash_.end();) {
    it = it->second.name == row.name ? by_hash_.erase(it) : std::next(it);
  }
  by_hash_[row.sha256] = row;
  return Status::Ok();
}

StatusOr<std::string> Authenticator::CreateToken(const std::string& name, Role role) {
  if (!IsTokenName(name) || name == kAdminName) {
    return Status::InvalidArgument("name (\"" + name.substr(0, 80) +
                                   "\") must match [a-z0-9][a-z0-9._-]{0,62} and not be admin");
  }
  CYCLR_ASSIGN_OR_RETURN(std::string token, NewToken());
  CYCLR_RETURN_IF_ERROR(Put({name, RoleName(role), Sha256Hex(token), "", NowMs()}));
  return token;
}

Status Authenticator::RevokeToken(const std::string& name) {
  if (name.rfind("worker/", 0) == 0) {
    return Status::InvalidArgument("worker credentials end with their job (cyclrctl jobs delete)");
  }
  CYCLR_RETURN_IF_ERROR(store_->DeleteToken(name));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = by_hash_.begin(); it != by_hash_.end();) {
    it = it->second.name == name ? by_hash_.erase(it) : std::next(it);
  }
  return Status::Ok();
}

std::vector<TokenRow> Authenticator::ListTokens() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TokenRow> out;
  for (const auto& [hash, row] : by_hash_) out.push_back(row);
  return out;
}

StatusOr<std::string> Authenticator::MintWorkerToken(const std::string& job) {
  if (!enabled()) return std::string();
  CYCLR_ASSIGN_OR_RETURN(std::string token, NewToken());
  CYCLR_RETURN_IF_ERROR(Put({WorkerName(job), "worker", Sha256Hex(token), job, NowMs()}));
  return token;
}

Status CheckWorkerSecret(const std::string& secret) {
  if (secret.size() < 32 || secret.size() > 256 ||
      secret.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
          std::string::npos) {
    return Status::InvalidArgument(
        "worker_token must be 32 to 256 characters of [A-Za-z0-9_-] (e.g. openssl rand -hex 32)");
  }
  return Status::Ok();
}

Status Authenticator::SetWorkerToken(const std::string& job, const std::string& secret) {
  CYCLR_RETURN_IF_ERROR(CheckWorkerSecret(secret));
  if (!enabled()) return Status::Ok();
  return Put({WorkerName(job), "worker", Sha256Hex(secret), job, NowMs()});
}

void Authenticator::ForgetJob(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = by_hash_.begin(); it != by_hash_.end();) {
    it = it->second.job == job ? by_hash_.erase(it) : std::next(it);
  }
}

}  // namespace cyclr
