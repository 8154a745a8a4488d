// Output of the read commands: a table for people, or the proto's JSON form for programs.
//
// JSON is google::protobuf's JSON mapping of the reply message with snake_case field names (the
// names of the .proto, the job files and the flags) and with zero-valued fields printed, so a
// script can rely on every field being there.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <vector>

#include "core/status.h"
#include "cyclr/v1/service.pb.h"

namespace cyclr::client {

enum class OutputFormat { kTable, kJson };
enum class PreviewFormat { kCsv, kTable, kJson };

// "table" | "json"; anything else is INVALID_ARGUMENT naming --output.
StatusOr<OutputFormat> ParseOutputFormat(const std::string& text);
// "csv" | "table" | "json"; anything else is INVALID_ARGUMENT naming --format.
StatusOr<PreviewFormat> ParsePreviewFormat(const std::string& text);

// The message as pretty-printed JSON ending in '\n'.
std::string ToJson(const google::protobuf::Message& message);

// `jobs get`: one field per line, then one row per rank.
std::string FormatJob(const v1::Job& job, OutputFormat format);
// `jobs list`: one row per job.
std::string FormatJobList(const v1::ListJobsResponse& jobs, OutputFormat format);
// `schedule get`: one row per revision.
std::string FormatTimeline(const v1::Timeline& timeline, OutputFormat format);
// `schedule set|undo`: the new revision.
std::string FormatRevision(const v1::Revision& revision, OutputFormat format);

// `schedule preview`. CSV: header `step,lr,momentum`, values with %.17g, the momentum cell empty
// when the point has none. Table adds cycle, position and (for a job) version.
std::string FormatPreview(const std::vector<v1::SchedulePoint>& points, PreviewFormat format);

// One line for a proto spec: core's SpecToString, or the raw fields if core rejects it.
std::string SpecText(const v1::ScheduleSpec& spec);
// "ranks 0, 1 (since 2026-12-02T05:20:11Z)", or "" when no rank is awaited.
std::string WaitingText(const v1::Job& job);

}  // namespace cyclr::client
