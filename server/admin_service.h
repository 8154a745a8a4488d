// AdminService: cyclr.v1.AdminService over gRPC — person tokens (create, revoke, list; admin
// role) and WhoAmI (any token). Thin: the Authenticator does the work.
#pragma once

#include "cyclr/v1/service.grpc.pb.h"
#include "server/authenticator.h"
#include "server/metrics_exporter.h"

namespace cyclr {

class AdminService final : public v1::AdminService::Service {
 public:
  // `auth` must outlive this; `metrics` may be null.
  AdminService(Authenticator* auth, MetricsExporter* metrics) : auth_(auth), metrics_(metrics) {}

  grpc::Status CreateToken(grpc::ServerContext* ctx, const v1::CreateTokenRequest* req,
                           v1::CreateTokenResponse* resp) override;
  grpc::Status RevokeToken(grpc::ServerContext* ctx, const v1::RevokeTokenRequest* req,
                           v1::RevokeTokenResponse* resp) override;
  grpc::Status ListTokens(grpc::ServerContext* ctx, const v1::ListTokensRequest* req,
                          v1::ListTokensResponse* resp) override;
  grpc::Status WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest* req,
                      v1::TokenInfo* resp) override;

 private:
  Authenticator* auth_;
  MetricsExporter* metrics_;
};

}  // namespace cyclr
