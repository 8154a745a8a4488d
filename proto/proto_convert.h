// Conversions between the API's proto messages and core's domain types, and between Status and
// grpc::Status. Specs coming from the wire go through core's one validator.
#pragma once

#include <grpcpp/support/status.h>

#include "core/status.h"
#include "core/timeline.h"
#include "cyclr/v1/schedule.pb.h"

namespace cyclr {

v1::ScheduleSpec ToProto(const ScheduleSpec& spec);
// Validates; INVALID_ARGUMENT names the field and the rule.
StatusOr<ScheduleSpec> FromProto(const v1::ScheduleSpec& spec);

v1::Revision ToProto(const Revision& rev);
StatusOr<Revision> FromProto(const v1::Revision& rev);

v1::Timeline ToProto(const Timeline& timeline);
// Rebuilds a timeline by appending every revision and its applied step; fails on any invalid one.
StatusOr<Timeline> FromProto(const v1::Timeline& timeline);

v1::SchedulePoint ToProto(const TimelinePoint& point, int64_t step);

grpc::Status ToGrpc(const Status& status);
Status FromGrpc(const grpc::Status& status);

}  // namespace cyclr
