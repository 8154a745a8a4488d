#include "server/admin_service.h"

#include <cstdio>

#include "server/manager_util.h"
#include "server/rpc_observer.h"

namespace cyclr {
namespace {

v1::TokenInfo Info(const TokenRow& row) {
  v1::TokenInfo info;
  info.set_name(row.name);
  info.set_role(row.role);
  info.set_created_unix_ms(row.created_unix_ms);
  info.set_job(row.job);
  return info;
}

// One line in the coordinator's log (0600) per token change: who did what, when.
void Audit(const Identity& who, const std::string& what) {
  std::fprintf(stderr, "cyclr: audit %lld: %s %s\n", static_cast<long long>(NowUnixMs()),
               who.name.c_str(), what.c_str());
}

}  // namespace

grpc::Status AdminService::CreateToken(grpc::ServerContext* ctx, const v1::CreateTokenRequest* req,
                                       v1::CreateTokenResponse* resp) {
  return Observe(metrics_, "CreateToken", [&] {
    StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kAdmin);
    if (!who.ok()) return ToGrpc(who.status());
    StatusOr<Role> role = ParseRole(req->role());
    if (!role.ok()) return ToGrpc(role.status());
    StatusOr<std::string> token = auth_->CreateToken(req->name(), *role);
    if (!token.ok()) return ToGrpc(token.status());
    Audit(*who, "created token \"" + req->name() + "\" (role " + req->role() + ")");
    resp->set_token(*token);
    resp->mutable_info()->set_name(req->name());
    resp->mutable_info()->set_role(req->role());
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::RevokeToken(grpc::ServerContext* ctx, const v1::RevokeTokenRequest* req,
                                       v1::RevokeTokenResponse*) {
  return Observe(metrics_, "RevokeToken", [&] {
    StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kAdmin);
    if (!who.ok()) return ToGrpc(who.status());
    Status revoked = auth_->RevokeToken(req->name());
    if (revoked.ok()) Audit(*who, "revoked token \"" + req->name() + "\"");
    return ToGrpc(revoked);
  });
}

grpc::Status AdminService::ListTokens(grpc::ServerContext* ctx, const v1::ListTokensRequest*,
                                      v1::ListTokensResponse* resp) {
  return Observe(metrics_, "ListTokens", [&] {
    StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kAdmin);
    if (!who.ok()) return ToGrpc(who.status());
    for (const TokenRow& row : auth_->ListTokens()) *resp->add_tokens() = Info(row);
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest*,
                                  v1::TokenInfo* resp) {
  return Observe(metrics_, "WhoAmI", [&] {
    StatusOr<Identity> who = auth_->Identify(*ctx);
    if (!who.ok()) return ToGrpc(who.status());
    resp->set_name(who->name);
    resp->set_role(RoleName(who->role));
    resp->set_job(who->job);
    return grpc::Status::OK;
  });
}

}  // namespace cyclr
