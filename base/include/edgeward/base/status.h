// Status and StatusOr<T>: how every edgeward module reports failure across
// its public API. No exception crosses a module boundary.
//
// A Status carries a canonical code and a message that names the failing
// call and the input (file, line, field) it was working on. The CLI maps
// codes to exit status: kInvalidArgument and kDataLoss (bad input) → 2.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace edgeward {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // caller or outside input is malformed
  kNotFound,           // a named thing does not exist
  kAlreadyExists,
  kPermissionDenied,
  kFailedPrecondition, // state does not allow the operation
  kOutOfRange,
  kResourceExhausted,  // TPM slots, disk, memory
  kUnavailable,        // a device or peer can't be reached (retry may help)
  kDataLoss,           // stored or received data is corrupt/truncated
  kInternal,           // a library or syscall failed unexpectedly
  kUnimplemented,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: <message>"
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>", same code.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }

// Holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : v_(value) {}            // NOLINT: implicit by design
  StatusOr(T&& value) : v_(std::move(value)) {}      // NOLINT
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "StatusOr built from an OK Status");
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "StatusOr built from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace edgeward

#define EW_CONCAT_INNER_(a, b) a##b
#define EW_CONCAT_(a, b) EW_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define EW_RETURN_IF_ERROR(expr)                    \
  do {                                              \
    ::edgeward::Status ew_status_ = (expr);         \
    if (!ew_status_.ok()) return ew_status_;        \
  } while (0)

// `EW_ASSIGN_OR_RETURN(auto x, F());` — declares/assigns x or returns the error.
#define EW_ASSIGN_OR_RETURN(lhs, expr) \
  EW_ASSIGN_OR_RETURN_IMPL_(EW_CONCAT_(ew_statusor_, __LINE__), lhs, expr)
#define EW_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
