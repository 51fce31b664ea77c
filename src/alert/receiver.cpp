#include "keel/alert/receiver.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

#include "alert/internal/crypto.hpp"
#include "keel/core/ids.hpp"
#include "keel/core/rfc3339.hpp"

namespace keel::alert {

std::string_view to_string(receiver_kind k) noexcept {
  switch (k) {
    case receiver_kind::webhook:
      return "webhook";
    case receiver_kind::slack:
      return "slack";
    case receiver_kind::pagerduty:
      return "pagerduty";
    case receiver_kind::email:
      return "email";
    case receiver_kind::alertmanager:
      return "alertmanager";
  }
  return "webhook";
}

namespace {

using json = nlohmann::ordered_json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json labels_json(const label_set& l) {
  json j = json::object();
  for (const auto& [k, v] : l)
    j[k] = v;
  return j;
}

bool has_scheme(std::string_view url, std::initializer_list<std::string_view> schemes) {
  for (auto s : schemes) {
    if (url.starts_with(s)) return true;
  }
  return false;
}

std::string truncate_utf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  // Do not split a multi-byte character.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;
  s.resize(cut);
  return s;
}

// Slack reads &, < and > as markup (<!channel> pings everyone).
std::string slack_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A header value must not carry a line break (header injection).
std::string header_safe(std::string_view s) {
  std::string out;
  for (char c : s)
    out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  return truncate_utf8(out, 900);
}

std::size_t count_firing(const notification& n) {
  std::size_t k = 0;
  for (const auto& a : n.alerts)
    k += a.resolved() ? 0 : 1;
  return k;
}

std::string title_of(const notification& n) {
  const auto firing = count_firing(n);
  std::string t = firing > 0 ? "[FIRING:" + std::to_string(firing) + "] " : "[RESOLVED] ";
  auto name = n.common_labels.get("alertname");
  t += name.empty() ? std::string_view("alerts") : name;
  for (const auto& [k, v] : n.group_labels) {
    if (k == "alertname") continue;
    t += " ";
    t += v;
  }
  return t;
}

std::string summary_of(const alert& a) {
  for (auto key : {"summary", "description", "message"}) {
    auto v = a.annotations.get(key);
    if (!v.empty()) return std::string(v);
  }
  return a.labels.to_string();
}

json webhook_body(const receiver_config& r, const notification& n) {
  json alerts = json::array();
  for (const auto& a : n.alerts) {
    alerts.push_back({{"status", a.resolved() ? "resolved" : "firing"},
                      {"labels", labels_json(a.labels)},
                      {"annotations", labels_json(a.annotations)},
                      {"startsAt", format_rfc3339(a.active_since)},
                      {"endsAt", a.ends_at ? format_rfc3339(*a.ends_at) : "0001-01-01T00:00:00Z"},
                      {"generatorURL", r.external_url},
                      {"fingerprint", a.fingerprint()},
                      {"value", a.value}});
  }
  return {{"version", "4"},
          {"groupKey", n.group_key},
          {"truncatedAlerts", 0},
          {"status", n.firing() ? "firing" : "resolved"},
          {"receiver", r.name},
          {"groupLabels", labels_json(n.group_labels)},
          {"commonLabels", labels_json(n.common_labels)},
          {"commonAnnotations", labels_json(n.common_annotations)},
          {"externalURL", r.external_url},
          {"alerts", std::move(alerts)}};
}

json slack_body(const notification& n) {
  const std::string title = title_of(n);
  json blocks = json::array();
  blocks.push_back(
      {{"type", "header"},
       {"text", {{"type", "plain_text"}, {"text", truncate_utf8(title, 150)}, {"emoji", true}}}});
  constexpr std::size_t kMaxAlerts = 10;
  for (std::size_t i = 0; i < n.alerts.size() && i < kMaxAlerts; ++i) {
    const auto& a = n.alerts[i];
    std::string text = a.resolved() ? ":white_check_mark: *" : ":rotating_light: *";
    text += slack_escape(a.labels.get("alertname"));
    text += "*";
    auto sev = a.labels.get("severity");
    if (!sev.empty()) text += " (" + slack_escape(sev) + ")";
    text += "\n" + slack_escape(summary_of(a));
    blocks.push_back(
        {{"type", "section"},
         {"text", {{"type", "mrkdwn"}, {"text", truncate_utf8(std::move(text), 3000)}}}});
  }
  std::string ctx = "group " + slack_escape(n.group_labels.to_string());
  if (n.alerts.size() > kMaxAlerts) {
    ctx += " · " + std::to_string(n.alerts.size() - kMaxAlerts) + " more alerts";
  }
  blocks.push_back(
      {{"type", "context"}, {"elements", json::array({{{"type", "mrkdwn"}, {"text", ctx}}})}});
  return {{"text", truncate_utf8(title, 3000)}, {"blocks", std::move(blocks)}};
}

std::string pd_severity(std::string_view s) {
  if (s == "critical") return "critical";
  if (s == "high" || s == "error") return "error";
  if (s == "medium" || s == "warning") return "warning";
  return "info";
}

json pagerduty_body(const receiver_config& r, const notification& n,
                    std::chrono::system_clock::time_point now) {
  const bool firing = n.firing();
  json j = {{"routing_key", r.routing_key},
            {"event_action", firing ? "trigger" : "resolve"},
            {"dedup_key", pagerduty_dedup_key(n.group_key)}};
  if (!firing) return j;  // resolve needs only the key
  std::string source(n.common_labels.get("service"));
  if (source.empty()) source = std::string(n.common_labels.get("instance"));
  if (source.empty()) source = "keel";
  json alerts = json::array();
  for (const auto& a : n.alerts) {
    alerts.push_back({{"status", a.resolved() ? "resolved" : "firing"},
                      {"labels", labels_json(a.labels)},
                      {"annotations", labels_json(a.annotations)}});
  }
  std::string summary = title_of(n);
  if (!n.alerts.empty()) summary += ": " + summary_of(n.alerts.front());
  j["payload"] = {{"summary", truncate_utf8(std::move(summary), 1024)},
                  {"source", source},
                  {"severity", pd_severity(n.common_labels.get("severity"))},
                  {"timestamp", format_rfc3339(now)},
                  {"group", std::string(n.common_labels.get("service"))},
                  {"class", std::string(n.common_labels.get("alertname"))},
                  {"custom_details",
                   {{"firing", count_firing(n)},
                    {"resolved", n.alerts.size() - count_firing(n)},
                    {"alerts", std::move(alerts)}}}};
  j["client"] = "keel";
  if (!r.external_url.empty()) j["client_url"] = r.external_url;
  return j;
}

json alertmanager_body(const receiver_config& r, const notification& n,
                       std::chrono::system_clock::time_point now) {
  json arr = json::array();
  for (const auto& a : n.alerts) {
    json j = {{"labels", labels_json(a.labels)},
              {"annotations", labels_json(a.annotations)},
              {"startsAt", format_rfc3339(a.active_since)},
              {"endsAt", format_rfc3339(a.ends_at ? *a.ends_at : now + r.am_validity)}};
    if (!r.external_url.empty()) j["generatorURL"] = r.external_url;
    arr.push_back(std::move(j));
  }
  return arr;
}

std::string email_message(const receiver_config& r, const notification& n,
                          std::chrono::system_clock::time_point now) {
  std::string to;
  for (const auto& t : r.to) {
    if (!to.empty()) to += ", ";
    to += header_safe(t);
  }
  char id[32];
  new_id128().to_hex(id);
  const auto at = r.from.find('@');
  const std::string domain = at == std::string::npos ? "keel.local" : r.from.substr(at + 1);
  // RFC 5322 wants "Mon, 23 Nov 2026 07:30:00 +0000", not RFC 3339.
  const std::time_t tt = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string m;
  m += "Date: " + std::string(date) + "\r\n";
  m += "From: " + header_safe(r.from) + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Message-ID: <" + std::string(id, 32) + "@" + header_safe(domain) + ">\r\n";
  m += "Subject: " + header_safe(title_of(n)) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n\r\n";
  for (const auto& a : n.alerts) {
    m += a.resolved() ? "RESOLVED " : "FIRING ";
    m += a.labels.to_string() + "\r\n";
    for (const auto& [k, v] : a.annotations) {
      std::string line = "  " + k + ": " + v;
      // One line per annotation; libcurl dot-stuffs the body for SMTP.
      for (auto& c : line) {
        if (c == '\r' || c == '\n') c = ' ';
      }
      m += line + "\r\n";
    }
    m += "  since: " + format_rfc3339(a.active_since) + "\r\n\r\n";
  }
  if (!r.external_url.empty()) m += r.external_url + "\r\n";
  return m;
}

}  // namespace

result<void> validate(const receiver_config& r) {
  auto bad = [](std::string what) { return fail(codes::validation_error, std::move(what)); };
  if (r.name.empty() || r.name.size() > 128) return bad("receiver name must be 1-128 bytes");
  if (r.timeout.count() <= 0 || r.timeout > std::chrono::minutes(5)) {
    return bad("receiver " + r.name + ": timeout must be within (0, 5 min]");
  }
  switch (r.kind) {
    case receiver_kind::webhook:
    case receiver_kind::slack:
    case receiver_kind::alertmanager:
      if (!has_scheme(r.url, {"http://", "https://"})) {
        return bad("receiver " + r.name + ": url must be http:// or https://");
      }
      break;
    case receiver_kind::pagerduty:
      if (r.routing_key.empty() || r.routing_key.size() > 128) {
        return bad("receiver " + r.name + ": routing_key is required");
      }
      if (!r.url.empty() && !has_scheme(r.url, {"http://", "https://"})) {
        return bad("receiver " + r.name + ": url must be http:// or https://");
      }
      break;
    case receiver_kind::email:
      if (!has_scheme(r.url, {"smtp://", "smtps://"})) {
        return bad("receiver " + r.name + ": url must be smtp:// or smtps://");
      }
      if (r.from.empty() || r.to.empty()) {
        return bad("receiver " + r.name + ": from and to are required");
      }
      break;
  }
  return ok();
}

std::string pagerduty_dedup_key(std::string_view group_key) {
  const auto d = internal::sha256(group_key);
  return "keel-" + internal::to_hex(d.data(), 16);
}

std::string webhook_signature(std::string_view secret, std::string_view body,
                              std::int64_t unix_seconds) {
  std::string signed_text = std::to_string(unix_seconds);
  signed_text.push_back('.');
  signed_text.append(body);
  return "t=" + std::to_string(unix_seconds) +
         ",v1=" + internal::to_hex(internal::hmac_sha256(secret, signed_text));
}

result<rendered> render(const receiver_config& r, const notification& n,
                        std::chrono::system_clock::time_point now) {
  if (auto v = validate(r); !v) return fail(v.error());
  rendered out;
  out.dedup_key = n.id;
  switch (r.kind) {
    case receiver_kind::webhook:
      out.content_type = "application/json";
      out.body = dump(webhook_body(r, n));
      break;
    case receiver_kind::slack:
      out.content_type = "application/json";
      out.body = dump(slack_body(n));
      break;
    case receiver_kind::pagerduty:
      out.content_type = "application/json";
      out.body = dump(pagerduty_body(r, n, now));
      out.dedup_key = pagerduty_dedup_key(n.group_key);
      break;
    case receiver_kind::alertmanager:
      out.content_type = "application/json";
      out.body = dump(alertmanager_body(r, n, now));
      break;
    case receiver_kind::email:
      out.content_type = "message/rfc822";
      out.body = email_message(r, n, now);
      break;
  }
  return out;
}

}  // namespace keel::alert
