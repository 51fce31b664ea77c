#include "keel/alert/event.hpp"

#include "keel/core/code_registry.hpp"
#include "keel/core/ids.hpp"
#include "keel/core/json_writer.hpp"
#include "keel/core/rfc3339.hpp"

namespace keel::alert {
namespace {

struct problems {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  void add(std::string_view field, std::string_view problem) {
    list.push_back({{"field", field}, {"problem", problem}});
  }
  bool empty() const { return list.empty(); }
};

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void check_text(problems& p, std::string_view field, const std::string& v, std::size_t max,
                bool required) {
  if (v.empty()) {
    if (required) p.add(field, "required");
    return;
  }
  if (v.size() > max) {
    p.add(field, "longer than " + std::to_string(max) + " bytes");
  } else if (!is_valid_utf8(v)) {
    p.add(field, "not valid UTF-8");
  }
}

}  // namespace

result<void> validate(const error_event& e, const event_limits& limits) {
  problems p;
  check_text(p, "service", e.service, limits.max_service, true);
  check_text(p, "environment", e.environment, limits.max_environment, false);
  check_text(p, "release", e.release, limits.max_release, false);
  check_text(p, "message", e.message, limits.max_message, true);
  check_text(p, "fingerprint", e.fingerprint, limits.max_fingerprint, false);
  if (e.code.empty()) {
    p.add("code", "required");
  } else if (!is_valid_code_name(e.code)) {
    p.add("code", "not a SCREAMING_SNAKE code name of at most 64 characters");
  }
  if (!e.request_id.empty() && !request_id::is_valid(e.request_id)) {
    p.add("request_id", "not 1-128 characters of [A-Za-z0-9._-]");
  }
  if (!e.event_id.empty() && !request_id::is_valid(e.event_id)) {
    p.add("event_id", "not 1-128 characters of [A-Za-z0-9._-]");
  }
  if (!e.trace_id.empty() && (e.trace_id.size() != 32 || !is_lower_hex(e.trace_id))) {
    p.add("trace_id", "not 32 lowercase hex characters");
  }
  if (!e.span_id.empty() && (e.span_id.size() != 16 || !is_lower_hex(e.span_id))) {
    p.add("span_id", "not 16 lowercase hex characters");
  }
  if (!e.details.is_object()) {
    p.add("details", "not an object");
  } else if (!e.details.empty() &&
             e.details.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                     .size() > limits.max_details_bytes) {
    p.add("details", "larger than " + std::to_string(limits.max_details_bytes) + " bytes");
  }
  if (e.frames.size() > limits.max_frames) {
    p.add("frames", "more than " + std::to_string(limits.max_frames) + " frames");
  } else {
    for (const auto& f : e.frames) {
      if (f.function.size() > limits.max_frame_field || f.file.size() > limits.max_frame_field ||
          !is_valid_utf8(f.function) || !is_valid_utf8(f.file)) {
        p.add("frames", "a frame's function or file is too long or not UTF-8");
        break;
      }
    }
  }
  if (e.timestamp.time_since_epoch().count() <= 0) p.add("timestamp", "required");
  if (p.empty()) return ok();
  return fail(error(codes::field_validation_error, "invalid error event")
                  .with_detail("errors", std::move(p.list)));
}

result<error_event> event_from_json(std::string_view json,
                                    std::chrono::system_clock::time_point now,
                                    const event_limits& limits) {
  if (json.size() > limits.max_json_bytes) {
    return fail(error(codes::payload_too_large, "event JSON too large")
                    .with_detail("limit_bytes", limits.max_json_bytes));
  }
  const auto j = nlohmann::ordered_json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(codes::validation_error, "event is not a JSON object");
  return event_from_json_value(j, now, limits);
}

result<error_event> event_from_json_value(const nlohmann::ordered_json& j,
                                          std::chrono::system_clock::time_point now,
                                          const event_limits& limits) {
  if (!j.is_object()) return fail(codes::validation_error, "event is not a JSON object");
  problems p;
  error_event e;
  auto str = [&](const char* k, std::string& out) {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_string()) {
      p.add(k, "not a string");
      return;
    }
    out = it->get<std::string>();
  };
  str("service", e.service);
  str("environment", e.environment);
  str("release", e.release);
  str("code", e.code);
  str("message", e.message);
  str("request_id", e.request_id);
  str("trace_id", e.trace_id);
  str("span_id", e.span_id);
  str("fingerprint", e.fingerprint);
  str("event_id", e.event_id);

  const error_code* known = code_registry::global().find(e.code);
  if (known != nullptr) {
    e.category = known->category;
    e.severity = known->severity;
  }
  std::string cat, sev, ts;
  str("category", cat);
  str("severity", sev);
  str("timestamp", ts);
  if (!cat.empty()) {
    if (auto c = parse_category(cat)) {
      e.category = *c;
    } else {
      p.add("category", "not one of transient, permanent, systemic, business");
    }
  }
  if (!sev.empty()) {
    if (auto s = parse_severity(sev)) {
      e.severity = *s;
    } else {
      p.add("severity", "not one of low, medium, high, critical");
    }
  }
  e.timestamp = now;
  if (!ts.empty()) {
    if (auto t = parse_rfc3339(ts)) {
      e.timestamp = *t;
    } else {
      p.add("timestamp", "not an RFC 3339 timestamp");
    }
  }
  if (auto it = j.find("details"); it != j.end() && !it->is_null()) {
    if (it->is_object()) {
      e.details = *it;
    } else {
      p.add("details", "not an object");
    }
  }
  if (auto it = j.find("frames"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) {
      p.add("frames", "not an array");
    } else if (it->size() > limits.max_frames) {
      p.add("frames", "more than " + std::to_string(limits.max_frames) + " frames");
    } else {
      for (const auto& f : *it) {
        if (!f.is_object()) {
          p.add("frames", "a frame is not an object");
          break;
        }
        stack_frame sf;
        if (auto v = f.find("function"); v != f.end() && v->is_string()) sf.function = *v;
        if (auto v = f.find("file"); v != f.end() && v->is_string()) sf.file = *v;
        if (auto v = f.find("line"); v != f.end() && v->is_number_unsigned()) {
          sf.line = static_cast<std::uint32_t>(
              std::min<std::uint64_t>(v->get<std::uint64_t>(), UINT32_MAX));
        }
        if (auto v = f.find("in_app"); v != f.end() && v->is_boolean()) sf.in_app = *v;
        e.frames.push_back(std::move(sf));
      }
    }
  }
  if (!p.empty()) {
    return fail(error(codes::field_validation_error, "invalid error event")
                    .with_detail("errors", std::move(p.list)));
  }
  if (auto v = validate(e, limits); !v) return fail(v.error());
  return e;
}

result<std::vector<error_event>> events_from_json(const nlohmann::ordered_json& body,
                                                  std::chrono::system_clock::time_point now,
                                                  const event_limits& limits,
                                                  std::size_t max_batch) {
  const nlohmann::ordered_json* list = &body;
  if (body.is_object() && body.contains("events")) list = &body["events"];
  if (list->is_object()) {
    auto e = event_from_json_value(*list, now, limits);
    if (!e) return fail(std::move(e.error()));
    std::vector<error_event> one;
    one.push_back(std::move(*e));
    return one;
  }
  if (!list->is_array()) {
    return fail(codes::validation_error,
                "expected an event object, an array or {\"events\": [...]}");
  }
  if (list->empty() || list->size() > max_batch) {
    return fail(
        error(codes::validation_error, "a batch holds 1.." + std::to_string(max_batch) + " events")
            .with_detail("size", list->size()));
  }
  std::vector<error_event> events;
  events.reserve(list->size());
  auto errors = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto e = event_from_json_value((*list)[i], now, limits);
    if (e) {
      events.push_back(std::move(*e));
      continue;
    }
    // The event's own field errors, each with the event's index.
    const auto& fields = e.error().details().value("errors", nlohmann::ordered_json::array());
    for (const auto& f : fields) {
      nlohmann::ordered_json entry{{"index", i}};
      entry.update(f);
      errors.push_back(std::move(entry));
    }
    if (fields.empty()) {
      errors.push_back({{"index", i}, {"problem", std::string(e.error().name())}});
    }
  }
  if (!errors.empty()) {
    return fail(error(codes::field_validation_error, "invalid events")
                    .with_detail("errors", std::move(errors)));
  }
  return events;
}

nlohmann::ordered_json to_json(const error_event& e) {
  nlohmann::ordered_json j = {{"service", e.service},
                              {"environment", e.environment},
                              {"release", e.release},
                              {"code", e.code},
                              {"category", to_string(e.category)},
                              {"severity", to_string(e.severity)},
                              {"message", e.message},
                              {"details", e.details},
                              {"request_id", e.request_id},
                              {"trace_id", e.trace_id},
                              {"span_id", e.span_id}};
  auto frames = nlohmann::ordered_json::array();
  for (const auto& f : e.frames) {
    frames.push_back(
        {{"function", f.function}, {"file", f.file}, {"line", f.line}, {"in_app", f.in_app}});
  }
  j["frames"] = std::move(frames);
  j["fingerprint"] = e.fingerprint;
  if (!e.event_id.empty()) j["event_id"] = e.event_id;
  j["timestamp"] = format_rfc3339(e.timestamp);
  return j;
}

void append_json(std::string& out, const error_event& e) {
  json_writer w(out);
  w.begin_object();
  w.key("service");
  w.value(e.service);
  w.key("environment");
  w.value(e.environment);
  w.key("release");
  w.value(e.release);
  w.key("code");
  w.value(e.code);
  w.key("category");
  w.value(to_string(e.category));
  w.key("severity");
  w.value(to_string(e.severity));
  w.key("message");
  w.value(e.message);
  w.key("details");
  if (e.details.empty()) {
    w.raw("{}");
  } else {
    w.json(e.details);
  }
  w.key("request_id");
  w.value(e.request_id);
  w.key("trace_id");
  w.value(e.trace_id);
  w.key("span_id");
  w.value(e.span_id);
  w.key("frames");
  w.begin_array();
  for (const auto& f : e.frames) {
    w.begin_object();
    w.key("function");
    w.value(f.function);
    w.key("file");
    w.value(f.file);
    w.key("line");
    w.value(static_cast<std::uint64_t>(f.line));
    w.key("in_app");
    w.value(f.in_app);
    w.end_object();
  }
  w.end_array();
  w.key("fingerprint");
  w.value(e.fingerprint);
  if (!e.event_id.empty()) {
    w.key("event_id");
    w.value(e.event_id);
  }
  w.key("timestamp");
  char ts[rfc3339_size];
  format_rfc3339(e.timestamp, ts);
  w.value(std::string_view(ts, rfc3339_size));
  w.end_object();
}

}  // namespace keel::alert
