#include "keel/core/error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <new>
#include <typeinfo>

#include "keel/core/rfc3339.hpp"

namespace keel {

struct error::rep {
  const error_code* code = &codes::internal_error;
  std::string message;
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
  std::optional<error> cause;
  std::source_location where;
  clock::time_point timestamp;
  std::optional<keel::severity> severity;
  std::optional<std::chrono::milliseconds> retry_after;
};

namespace {
// What a moved-from error reads as, instead of crashing.
const error& moved_from() {
  static const error e(codes::internal_error, "use of a moved-from keel::error");
  return e;
}
}  // namespace

error::error(const error_code& code, std::string message, std::source_location where)
    : rep_(std::make_shared<rep>()) {
  rep_->code = &code;
  rep_->message = std::move(message);
  rep_->where = where;
  rep_->timestamp = clock::now();
}

const error_code& error::code() const noexcept {
  return rep_ ? *rep_->code : codes::internal_error;
}
keel::severity error::severity() const noexcept {
  if (!rep_) return codes::internal_error.severity;
  return rep_->severity.value_or(rep_->code->severity);
}
const std::string& error::message() const noexcept {
  return rep_ ? rep_->message : moved_from().message();
}
const nlohmann::ordered_json& error::details() const noexcept {
  return rep_ ? rep_->details : moved_from().details();
}
const error* error::cause() const noexcept {
  if (!rep_) return nullptr;
  const std::optional<error>& c = rep_->cause;
  return c.has_value() ? &*c : nullptr;
}
const std::source_location& error::where() const noexcept {
  return rep_ ? rep_->where : moved_from().where();
}
error::clock::time_point error::timestamp() const noexcept {
  return rep_ ? rep_->timestamp : clock::time_point{};
}
std::optional<std::chrono::milliseconds> error::retry_after() const noexcept {
  return rep_ ? rep_->retry_after : std::nullopt;
}

error::rep& error::mutable_rep() {
  if (!rep_) {
    rep_ = std::make_shared<rep>(*moved_from().rep_);
  } else if (rep_.use_count() > 1) {
    rep_ = std::make_shared<rep>(*rep_);  // copy on write: other holders keep theirs
  }
  return *rep_;
}

error& error::with_detail(std::string key, nlohmann::ordered_json value) & {
  mutable_rep().details[std::move(key)] = std::move(value);
  return *this;
}
error& error::with_cause(error cause) & {
  mutable_rep().cause.emplace(std::move(cause));
  return *this;
}
error& error::with_severity(keel::severity s) & {
  mutable_rep().severity = s;
  return *this;
}
error& error::with_retry_after(std::chrono::milliseconds d) & {
  mutable_rep().retry_after = d;
  return *this;
}

std::string error::to_string() const {
  std::string out;
  for (const error* e = this; e != nullptr; e = e->cause()) {
    if (e != this) out += "; caused by: ";
    out += e->name();
    if (!e->message().empty()) {
      out += ": ";
      out += e->message();
    }
  }
  return out;
}

nlohmann::ordered_json to_json(const error& e) {
  nlohmann::ordered_json j;
  j["code"] = e.name();
  j["category"] = to_string(e.category());
  j["severity"] = to_string(e.severity());
  j["status"] = e.http_status();
  j["retryable"] = e.retryable();
  j["message"] = e.message();
  if (!e.details().empty()) j["details"] = e.details();
  const auto& w = e.where();
  j["where"] = {{"file", w.file_name()}, {"line", w.line()}, {"function", w.function_name()}};
  j["timestamp"] = format_rfc3339(e.timestamp());
  if (auto ra = e.retry_after()) j["retry_after_ms"] = ra->count();
  if (const error* c = e.cause()) j["cause"] = to_json(*c);
  return j;
}

const char* exception::what() const noexcept {
  return error_.message().empty() ? error_.name().data() : error_.message().c_str();
}

namespace {
// Built before main and handed out by copy (a reference-count increment):
// reporting out-of-memory must not itself allocate.
const error& out_of_memory_error() {
  static const error oom(codes::resource_exhausted, "out of memory (std::bad_alloc)");
  return oom;
}
[[maybe_unused]] const bool oom_ready = (out_of_memory_error(), true);

const error_code& code_for(std::error_code ec) {
  if (ec.category() != std::generic_category() && ec.category() != std::system_category()) {
    return codes::io_error;
  }
  switch (static_cast<std::errc>(ec.value())) {
    case std::errc::timed_out:
      return codes::timeout;
    case std::errc::connection_refused:
    case std::errc::connection_reset:
    case std::errc::connection_aborted:
    case std::errc::host_unreachable:
    case std::errc::network_unreachable:
    case std::errc::network_down:
    case std::errc::network_reset:
    case std::errc::not_connected:
    case std::errc::broken_pipe:
      return codes::network_error;
    case std::errc::operation_canceled:
      return codes::cancelled;
    case std::errc::not_enough_memory:
    case std::errc::no_buffer_space:
    case std::errc::too_many_files_open:
    case std::errc::too_many_files_open_in_system:
      return codes::resource_exhausted;
    case std::errc::resource_unavailable_try_again:
    case std::errc::device_or_resource_busy:
      return codes::service_unavailable;
    default:
      return codes::io_error;
  }
}
}  // namespace

error from_error_code(std::error_code ec, std::string_view what, std::source_location where) {
  std::string message = what.empty() ? ec.message() : fmt::format("{}: {}", what, ec.message());
  error e(code_for(ec), std::move(message), where);
  e.with_detail("errno", ec.value()).with_detail("error_category", ec.category().name());
  return e;
}

error from_exception(const std::exception& ex, std::source_location where) {
  if (const auto* k = dynamic_cast<const keel::exception*>(&ex)) return k->error();
  if (const auto* se = dynamic_cast<const std::system_error*>(&ex)) {
    return from_error_code(se->code(), se->what(), where);
  }
  if (dynamic_cast<const std::bad_alloc*>(&ex) != nullptr) return out_of_memory_error();
  return error(codes::internal_error, fmt::format("{}: {}", typeid(ex).name(), ex.what()), where);
}

error from_exception_ptr(const std::exception_ptr& p, std::source_location where) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const std::bad_alloc&) {
    return out_of_memory_error();
  } catch (const std::exception& ex) {
    return from_exception(ex, where);
  } catch (...) {
    return error(codes::internal_error, "unknown exception (not derived from std::exception)",
                 where);
  }
  return error(codes::internal_error, "empty exception_ptr", where);
}

}  // namespace keel
