// Conversions between the API's proto messages and core's domain types, and between Status and
// grpc::Status. Specs coming from the wire go through core's one validator.
#pragma once

#include <grpcpp/support/status.h>

#include "core/status.h"
#include "core/timeline.h"
#include "cyclr/v1/schedule.pb.h"

namespace cyclr {

v1::ScheduleSpec ToProto(const ScheduleSpec& spec);
// Validates; INVALID_ARGUMENT names the field and the rule. Enum-like text fields (policy,
// scale_mode, decay, anneal) longer than limits::kMaxEnumBytes are refused before parsing, so an
// error message never quotes a huge value.
StatusOr<ScheduleSpec> FromProto(const v1::ScheduleSpec& spec);

// UNSPECIFIED and CONTINUE are `continue`; a value outside the enum (a client built from a newer
// or hostile proto) is INVALID_ARGUMENT naming `phase`, never taken as a default.
StatusOr<PhaseMode> FromProto(v1::PhaseMode phase);

v1::Revision ToProto(const Revision& rev);
// Validates the spec and the phase (as above).
StatusOr<Revision> FromProto(const v1::Revision& rev);

v1::Timeline ToProto(const Timeline& timeline);
// Rebuilds a timeline by appending every revision and its applied step; fails on any invalid one.
StatusOr<Timeline> FromProto(const v1::Timeline& timeline);

v1::SchedulePoint ToProto(const TimelinePoint& point, int64_t step);

grpc::Status ToGrpc(const Status& status);
Status FromGrpc(const grpc::Status& status);

}  // namespace cyclr
