// Status / StatusOr: the error type at every module and RPC boundary of cyclr.
//
// Error policy (docs/errors.md has the long form):
//  - Bad input from a user or a peer is a Status with a code and a message that names the field
//    and the rule ("max_lr (0.001) must be >= base_lr (0.01)"); nothing is changed.
//  - Broken invariants (a bug) abort via CYCLR_CHECK with file:line.
//  - No exceptions cross a module boundary; foreign APIs that throw are wrapped at the edge.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace cyclr {

// Codes mirror the gRPC codes they map to, so the service layer converts one to one.
enum class StatusCode {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kInternal = 13,
  kUnavailable = 14,
  kUnauthenticated = 16,
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  // A limit (docs/limits.md) or a quota was reached; the message names it and its value.
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: max_lr ..." — for logs; user-facing output prints message() alone.
  std::string ToString() const;
  // Returns a copy whose message is "context: message" (keeps the code).
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

const char* StatusCodeName(StatusCode code);

// A value or the Status that explains why there is none.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status::Internal("StatusOr built from an OK status");
  }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, const std::string& msg);

}  // namespace cyclr

// Invariant check: aborts with file:line. For bugs only, never for user input.
#define CYCLR_CHECK(cond)                                             \
  do {                                                                \
    if (!(cond)) ::cyclr::CheckFailed(__FILE__, __LINE__, #cond, ""); \
  } while (0)
#define CYCLR_CHECK_MSG(cond, msg)                                      \
  do {                                                                  \
    if (!(cond)) ::cyclr::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
  } while (0)

// Early return of a non-OK Status.
#define CYCLR_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::cyclr::Status _st = (expr);            \
    if (!_st.ok()) return _st;               \
  } while (0)

#define CYCLR_CONCAT_INNER(a, b) a##b
#define CYCLR_CONCAT(a, b) CYCLR_CONCAT_INNER(a, b)
// CYCLR_ASSIGN_OR_RETURN(auto x, MakeX()); returns the Status if MakeX() failed.
#define CYCLR_ASSIGN_OR_RETURN(lhs, expr)                                \
  auto CYCLR_CONCAT(_so_, __LINE__) = (expr);                            \
  if (!CYCLR_CONCAT(_so_, __LINE__).ok())                                \
    return CYCLR_CONCAT(_so_, __LINE__).status();                        \
  lhs = std::move(CYCLR_CONCAT(_so_, __LINE__)).value()
