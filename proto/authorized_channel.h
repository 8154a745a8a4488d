// AuthorizedChannel: a gRPC channel whose every call carries `authorization: Bearer <token>`
// (a client interceptor adds it, so call sites stay unchanged). An empty token adds nothing.
// Used by cyclrctl (a person's token) and cyclr-worker (its job's worker credential).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace cyclr {

std::shared_ptr<grpc::Channel> CreateAuthorizedChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const grpc::ChannelArguments& args, const std::string& token);

// A token from a file: its first line, trimmed; INVALID_ARGUMENT naming `flag` and the file when
// it cannot be read, is larger than 4 KiB, or is empty.
StatusOr<std::string> ReadTokenFile(const std::string& path, const std::string& flag);

}  // namespace cyclr
