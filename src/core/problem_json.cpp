#include "keel/core/problem_json.hpp"

#include "keel/core/context.hpp"
#include "keel/core/json_writer.hpp"
#include "keel/core/rfc3339.hpp"

namespace keel {

std::string code_to_kebab(std::string_view name) {
  std::string s;
  s.reserve(name.size());
  for (char c : name) {
    s.push_back(c == '_' ? '-' : (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c);
  }
  return s;
}

std::string render_problem(const error& e, const problem_options& options,
                           std::string_view instance, std::string_view request_id) {
  const redactor& r = options.redact ? *options.redact : redactor::standard();
  const error_code& code = e.code();
  std::string out;
  out.reserve(512);
  json_writer w(out);
  w.begin_object();
  w.key("type");
  w.value(std::string(options.type_base) + code_to_kebab(code.name));
  w.key("title");
  w.value(code.title);
  w.key("status");
  w.value(code.http_status);
  w.key("detail");
  w.value(code.public_message);
  if (!instance.empty()) {
    w.key("instance");
    w.value(r.redact(instance));
  }
  w.key("code");
  w.value(code.name);
  if (request_id.empty()) {
    if (const request_context* ctx = current_context()) request_id = ctx->request_id.view();
  }
  if (!request_id.empty()) {
    w.key("request_id");
    w.value(request_id);
  }
  char ts[rfc3339_size];
  format_rfc3339(e.timestamp(), ts);
  w.key("timestamp");
  w.value(std::string_view(ts, rfc3339_size));
  w.key("retryable");
  w.value(e.retryable());
  if (auto ra = e.retry_after()) {
    w.key("retry_after_ms");
    w.value(static_cast<std::int64_t>(ra->count()));
  }
  nlohmann::ordered_json details = e.details();
  r.redact_json(details);
  w.key("details");
  w.json(details);
  if (options.mode == render_mode::development) {
    w.key("internal_message");
    w.value(r.redact(e.message()));
    w.key("where");
    w.value(std::string(e.where().file_name()) + ":" + std::to_string(e.where().line()));
    w.key("causes");
    w.begin_array();
    for (const error* c = e.cause(); c != nullptr; c = c->cause()) {
      w.begin_object();
      w.key("code");
      w.value(c->name());
      w.key("message");
      w.value(r.redact(c->message()));
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  return out;
}

}  // namespace keel
