#include "keel/alert/config.hpp"

#include "keel/config/yaml_reader.hpp"

#include <charconv>
#include <cmath>
#include <set>

namespace keel::alert {

namespace {

constexpr std::size_t kMaxText = 1024 * 1024;
constexpr std::size_t kMaxRules = 10'000;
constexpr int kMaxRouteDepth = 16;

using keel::config::allow_keys;
using keel::config::bad;
using keel::config::boolean;

std::string str(const YAML::Node& n, const std::string& path) {
  return keel::config::text(n, path);
}
double num(const YAML::Node& n, const std::string& path) { return keel::config::number(n, path); }
std::chrono::milliseconds dur(const YAML::Node& n, const std::string& path) {
  return keel::config::duration(n, path);
}
std::vector<std::string> str_list(const YAML::Node& n, const std::string& path) {
  return keel::config::text_list(n, path);
}

std::vector<std::string> label_list(const YAML::Node& n, const std::string& path) {
  auto out = str_list(n, path);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] != "..." && !is_valid_label_name(out[i])) {
      bad(n[i], path + "[" + std::to_string(i) + "]", "invalid label name '" + out[i] + "'");
    }
  }
  return out;
}

std::vector<matcher> matchers(const YAML::Node& n, const std::string& path) {
  if (!n.IsSequence()) bad(n, path, "expected a list of matchers like 'severity=\"critical\"'");
  std::vector<matcher> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const auto p = path + "[" + std::to_string(i) + "]";
    auto m = parse_matcher(str(n[i], p));
    if (!m) bad(n[i], p, m.error().message());
    out.push_back(std::move(*m));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> string_map(const YAML::Node& n,
                                                            const std::string& path) {
  if (!n.IsMap()) bad(n, path, "expected a mapping");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& kv : n) {
    const auto k = kv.first.as<std::string>();
    if (!is_valid_label_name(k)) bad(kv.first, path + "." + k, "invalid name '" + k + "'");
    out.emplace_back(k, str(kv.second, path + "." + k));
  }
  return out;
}

selector sel(const YAML::Node& n, const std::string& path) {
  if (n.IsScalar()) return {.metric = str(n, path)};
  allow_keys(n, path, {"metric", "matchers"});
  selector s;
  if (!n["metric"]) bad(n, path, "metric is required");
  s.metric = str(n["metric"], path + ".metric");
  if (n["matchers"]) s.matchers = matchers(n["matchers"], path + ".matchers");
  return s;
}

condition cond(const YAML::Node& n, condition_kind kind, const std::string& path) {
  const bool ratio = kind == condition_kind::ratio;
  allow_keys(n, path,
             {"metric", "matchers", "numerator", "denominator", "window", "by", "above", "at_least",
              "below", "at_most", "min_denominator", "quantile", "fields"});
  condition c;
  c.kind = kind;
  if (ratio) {
    if (!n["numerator"] || !n["denominator"]) {
      bad(n, path, "ratio needs numerator and denominator");
    }
    c.series = sel(n["numerator"], path + ".numerator");
    c.denominator = sel(n["denominator"], path + ".denominator");
    if (n["min_denominator"])
      c.min_denominator = num(n["min_denominator"], path + ".min_denominator");
  } else if (kind == condition_kind::events) {
    if (n["metric"]) bad(n["metric"], path + ".metric", "events conditions take matchers only");
    if (n["fields"]) c.fields = matchers(n["fields"], path + ".fields");
  } else {
    if (n["fields"]) bad(n["fields"], path + ".fields", "only events conditions take fields");
    if (!n["metric"]) bad(n, path, "metric is required");
    c.series.metric = str(n["metric"], path + ".metric");
  }
  if (n["matchers"]) {
    if (ratio) bad(n["matchers"], path + ".matchers", "put matchers in numerator/denominator");
    c.series.matchers = matchers(n["matchers"], path + ".matchers");
  }
  if (n["window"]) c.window = dur(n["window"], path + ".window");
  if (n["by"]) c.by = label_list(n["by"], path + ".by");
  if (n["quantile"]) {
    if (kind != condition_kind::histogram_quantile) {
      bad(n["quantile"], path + ".quantile", "only histogram_quantile takes a quantile");
    }
    c.quantile = num(n["quantile"], path + ".quantile");
  }
  int ops = 0;
  for (auto [key, op] :
       {std::pair{"above", compare::above}, std::pair{"at_least", compare::at_least},
        std::pair{"below", compare::below}, std::pair{"at_most", compare::at_most}}) {
    if (!n[key]) continue;
    ++ops;
    c.op = op;
    c.threshold = num(n[key], path + "." + key);
  }
  if (ops != 1) bad(n, path, "exactly one of above, at_least, below, at_most is required");
  return c;
}

rule one_rule(const YAML::Node& n, const std::string& path) {
  static constexpr std::pair<const char*, condition_kind> kKinds[] = {
      {"threshold", condition_kind::threshold},
      {"rate", condition_kind::rate},
      {"increase", condition_kind::increase},
      {"ratio", condition_kind::ratio},
      {"histogram_average", condition_kind::histogram_average},
      {"histogram_quantile", condition_kind::histogram_quantile},
      {"events", condition_kind::events}};
  allow_keys(n, path,
             {"alert", "for", "keep_firing_for", "labels", "annotations", "threshold", "rate",
              "increase", "ratio", "histogram_average", "histogram_quantile", "events"});
  rule r;
  if (!n["alert"]) bad(n, path, "alert (the rule's name) is required");
  r.name = str(n["alert"], path + ".alert");
  int kinds = 0;
  for (const auto& [key, kind] : kKinds) {
    if (!n[key]) continue;
    ++kinds;
    r.cond = cond(n[key], kind, path + "." + key);
  }
  if (kinds != 1) {
    bad(n, path,
        "exactly one condition is required: threshold, rate, increase, ratio, "
        "histogram_average, histogram_quantile or events");
  }
  if (n["for"]) r.for_duration = dur(n["for"], path + ".for");
  if (n["keep_firing_for"])
    r.keep_firing_for = dur(n["keep_firing_for"], path + ".keep_firing_for");
  if (n["labels"]) r.labels = string_map(n["labels"], path + ".labels");
  if (n["annotations"]) r.annotations = string_map(n["annotations"], path + ".annotations");
  if (auto c = compile(r); !c) bad(n, path, c.error().message());
  return r;
}

std::vector<rule> rules_of(const YAML::Node& n, const std::string& path) {
  if (!n.IsSequence()) bad(n, path, "expected a list of rules");
  if (n.size() > kMaxRules) bad(n, path, "more than 10000 rules");
  std::vector<rule> out;
  std::set<std::string> names;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const auto p = path + "[" + std::to_string(i) + "]";
    out.push_back(one_rule(n[i], p));
    if (!names.insert(out.back().name).second) {
      bad(n[i], p, "duplicate rule name '" + out.back().name + "'");
    }
  }
  return out;
}

route route_of(const YAML::Node& n, const std::string& path, int depth) {
  if (depth > kMaxRouteDepth) bad(n, path, "routes nested deeper than 16");
  allow_keys(n, path,
             {"receiver", "matchers", "continue", "group_by", "group_wait", "group_interval",
              "repeat_interval", "routes"});
  route r;
  if (n["receiver"]) r.receiver = str(n["receiver"], path + ".receiver");
  if (n["matchers"]) r.matchers = matchers(n["matchers"], path + ".matchers");
  if (n["continue"]) r.continue_matching = boolean(n["continue"], path + ".continue");
  if (n["group_by"]) r.group_by = label_list(n["group_by"], path + ".group_by");
  if (n["group_wait"]) r.group_wait = dur(n["group_wait"], path + ".group_wait");
  if (n["group_interval"]) r.group_interval = dur(n["group_interval"], path + ".group_interval");
  if (n["repeat_interval"]) {
    r.repeat_interval = dur(n["repeat_interval"], path + ".repeat_interval");
  }
  if (n["routes"]) {
    const auto& rs = n["routes"];
    if (!rs.IsSequence()) bad(rs, path + ".routes", "expected a list");
    for (std::size_t i = 0; i < rs.size(); ++i) {
      r.routes.push_back(route_of(rs[i], path + ".routes[" + std::to_string(i) + "]", depth + 1));
    }
  }
  return r;
}

receiver_config receiver_of(const YAML::Node& n, const std::string& path) {
  allow_keys(n, path,
             {"name", "webhook", "slack", "pagerduty", "email", "alertmanager", "send_resolved",
              "timeout"});
  receiver_config r;
  if (!n["name"]) bad(n, path, "name is required");
  r.name = str(n["name"], path + ".name");
  int kinds = 0;
  auto section = [&](const char* key, receiver_kind kind,
                     std::initializer_list<std::string_view> keys) -> YAML::Node {
    if (!n[key]) return YAML::Node();
    ++kinds;
    r.kind = kind;
    allow_keys(n[key], path + "." + key, keys);
    return n[key];
  };
  const std::string p = path + ".";
  if (auto s = section("webhook", receiver_kind::webhook, {"url", "secret", "external_url"})) {
    if (s["url"]) r.url = str(s["url"], p + "webhook.url");
    if (s["secret"]) r.secret = str(s["secret"], p + "webhook.secret");
    if (s["external_url"]) r.external_url = str(s["external_url"], p + "webhook.external_url");
  }
  if (auto s = section("slack", receiver_kind::slack, {"url"})) {
    if (s["url"]) r.url = str(s["url"], p + "slack.url");
  }
  if (auto s = section("pagerduty", receiver_kind::pagerduty, {"url", "routing_key"})) {
    if (s["url"]) r.url = str(s["url"], p + "pagerduty.url");
    if (s["routing_key"]) r.routing_key = str(s["routing_key"], p + "pagerduty.routing_key");
  }
  if (auto s = section("email", receiver_kind::email,
                       {"url", "from", "to", "smtp_user", "smtp_password"})) {
    if (s["url"]) r.url = str(s["url"], p + "email.url");
    if (s["from"]) r.from = str(s["from"], p + "email.from");
    if (s["to"]) r.to = str_list(s["to"], p + "email.to");
    if (s["smtp_user"]) r.smtp_user = str(s["smtp_user"], p + "email.smtp_user");
    if (s["smtp_password"]) r.smtp_password = str(s["smtp_password"], p + "email.smtp_password");
  }
  if (auto s = section("alertmanager", receiver_kind::alertmanager, {"url", "validity"})) {
    if (s["url"]) r.url = str(s["url"], p + "alertmanager.url");
    if (s["validity"]) r.am_validity = dur(s["validity"], p + "alertmanager.validity");
  }
  if (kinds != 1) {
    bad(n, path, "exactly one of webhook, slack, pagerduty, email, alertmanager is required");
  }
  if (n["send_resolved"]) r.send_resolved = boolean(n["send_resolved"], p + "send_resolved");
  if (n["timeout"]) r.timeout = dur(n["timeout"], p + "timeout");
  if (auto v = validate(r); !v) bad(n, path, v.error().message());
  return r;
}

void check_receivers(const route& r, const std::set<std::string>& known, const YAML::Node& n,
                     const std::string& path) {
  if (!r.receiver.empty() && !known.contains(r.receiver)) {
    bad(n, path, "route names unknown receiver '" + r.receiver + "'");
  }
  for (std::size_t i = 0; i < r.routes.size(); ++i) {
    check_receivers(r.routes[i], known, n["routes"][i],
                    path + ".routes[" + std::to_string(i) + "]");
  }
}

template <class F>
auto guarded(std::string_view text, F&& f) {
  return keel::config::read_yaml(text, std::forward<F>(f),
                                 {.max_bytes = kMaxText, .what = "alerting configuration"});
}

}  // namespace

result<std::vector<rule>> load_rules_yaml(std::string_view text) {
  return guarded(text, [](const YAML::Node& doc) {
    if (doc.IsMap() && doc["alert"]) return std::vector<rule>{one_rule(doc, "rule")};
    if (!doc.IsMap()) bad(doc, "", "expected a mapping with 'rules:'");
    allow_keys(doc, "", {"rules"});
    if (!doc["rules"]) return std::vector<rule>{};
    return rules_of(doc["rules"], "rules");
  });
}

namespace {

// The handling part of a policy: ack_timeout, escalation and on_open, read
// into `p` (the default policy and each named one share it).
void handling_of(const YAML::Node& n, const std::string& path,
                 const std::set<std::string>& receivers, incident_policy& p) {
  const auto known = [&](const YAML::Node& at, const std::string& where, const std::string& name) {
    if (!receivers.contains(name)) bad(at, where, "unknown receiver '" + name + "'");
  };
  if (n["ack_timeout"]) {
    p.ack_timeout = dur(n["ack_timeout"], path + ".ack_timeout");
    if (p.ack_timeout <= std::chrono::milliseconds::zero()) {
      bad(n["ack_timeout"], path + ".ack_timeout", "must be positive");
    }
  }
  if (const auto& e = n["escalation"]) {
    p.escalation = str_list(e, path + ".escalation");
    for (std::size_t i = 0; i < p.escalation.size(); ++i)
      known(e[i], path + ".escalation[" + std::to_string(i) + "]", p.escalation[i]);
  }
  if (const auto& o = n["on_open"]) {
    if (!o.IsSequence()) bad(o, path + ".on_open", "expected a list");
    for (std::size_t i = 0; i < o.size(); ++i) {
      const auto at = path + ".on_open[" + std::to_string(i) + "]";
      allow_keys(o[i], at, {"notify", "open_breaker", "run_handler"});
      if (o[i].size() != 1) bad(o[i], at, "one of notify, open_breaker or run_handler");
      if (o[i]["notify"]) {
        action act{.kind = action_kind::notify, .name = str(o[i]["notify"], at + ".notify")};
        known(o[i]["notify"], at + ".notify", act.name);
        p.on_open.push_back(std::move(act));
      } else if (o[i]["open_breaker"]) {
        p.on_open.push_back({.kind = action_kind::open_breaker,
                             .name = str(o[i]["open_breaker"], at + ".open_breaker")});
      } else {
        p.on_open.push_back({.kind = action_kind::run_handler,
                             .name = str(o[i]["run_handler"], at + ".run_handler")});
      }
    }
  }
}

incidents_config incidents_of(const YAML::Node& n, const std::string& path,
                              const std::set<std::string>& receivers) {
  allow_keys(n, path, {"ack_timeout", "escalation", "on_open", "policies"});
  incident_policy dflt;
  handling_of(n, path, receivers, dflt);
  incidents_config c{.ack_timeout = dflt.ack_timeout,
                     .escalation = std::move(dflt.escalation),
                     .on_open = std::move(dflt.on_open)};
  if (const auto& ps = n["policies"]) {
    if (!ps.IsSequence()) bad(ps, path + ".policies", "expected a list");
    if (ps.size() > 64) bad(ps, path + ".policies", "at most 64 policies");
    std::set<std::string> names;
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const auto p = path + ".policies[" + std::to_string(i) + "]";
      allow_keys(ps[i], p, {"name", "matchers", "ack_timeout", "escalation", "on_open"});
      incident_policy policy;
      if (!ps[i]["name"]) bad(ps[i], p, "name is required");
      policy.name = str(ps[i]["name"], p + ".name");
      if (!is_valid_label_name(policy.name)) {
        bad(ps[i]["name"], p + ".name", "a name of [a-zA-Z_][a-zA-Z0-9_]*");
      }
      if (!names.insert(policy.name).second) {
        bad(ps[i]["name"], p + ".name", "duplicate policy name '" + policy.name + "'");
      }
      if (!ps[i]["matchers"])
        bad(ps[i], p, "matchers are required (e.g. ['severity=\"critical\"'])");
      policy.matchers = matchers(ps[i]["matchers"], p + ".matchers");
      handling_of(ps[i], p, receivers, policy);
      c.policies.push_back(std::move(policy));
    }
  }
  return c;
}

// The alerting document rooted at `doc`; `pre` prefixes every error path
// ("alerting." when the document is a section of a larger one).
alerting_config config_of(const YAML::Node& doc, const std::string& pre) {
  alerting_config cfg;
  if (!doc || doc.IsNull()) return cfg;
  if (!doc.IsMap()) bad(doc, pre, "expected a mapping");
  allow_keys(doc, pre, {"rules", "route", "receivers", "inhibit_rules", "incidents"});
  if (doc["rules"]) cfg.rules = rules_of(doc["rules"], pre + "rules");
  std::set<std::string> names;
  if (const auto& rs = doc["receivers"]) {
    if (!rs.IsSequence()) bad(rs, pre + "receivers", "expected a list");
    for (std::size_t i = 0; i < rs.size(); ++i) {
      const auto p = pre + "receivers[" + std::to_string(i) + "]";
      cfg.receivers.push_back(receiver_of(rs[i], p));
      if (!names.insert(cfg.receivers.back().name).second) {
        bad(rs[i], p, "duplicate receiver name '" + cfg.receivers.back().name + "'");
      }
    }
  }
  if (const auto& r = doc["route"]) {
    cfg.root = route_of(r, pre + "route", 0);
    if (cfg.root->receiver.empty()) bad(r, pre + "route", "the root route needs a receiver");
    check_receivers(*cfg.root, names, r, pre + "route");
  }
  if (const auto& ir = doc["inhibit_rules"]) {
    if (!ir.IsSequence()) bad(ir, pre + "inhibit_rules", "expected a list");
    for (std::size_t i = 0; i < ir.size(); ++i) {
      const auto p = pre + "inhibit_rules[" + std::to_string(i) + "]";
      allow_keys(ir[i], p, {"source_matchers", "target_matchers", "equal"});
      inhibit_rule rule;
      if (!ir[i]["source_matchers"] || !ir[i]["target_matchers"]) {
        bad(ir[i], p, "source_matchers and target_matchers are required");
      }
      rule.source_matchers = matchers(ir[i]["source_matchers"], p + ".source_matchers");
      rule.target_matchers = matchers(ir[i]["target_matchers"], p + ".target_matchers");
      if (ir[i]["equal"]) rule.equal = label_list(ir[i]["equal"], p + ".equal");
      cfg.inhibit_rules.push_back(std::move(rule));
    }
  }
  if (const auto& inc = doc["incidents"])
    cfg.incidents = incidents_of(inc, pre + "incidents", names);
  return cfg;
}

}  // namespace

result<alerting_config> load_config_yaml(std::string_view text) {
  return guarded(text, [](const YAML::Node& doc) { return config_of(doc, ""); });
}

result<alerting_config> load_config_yaml(std::string_view text, std::string_view section) {
  return guarded(text, [section](const YAML::Node& doc) {
    if (!doc.IsNull() && !doc.IsMap()) bad(doc, "", "expected a mapping");
    const std::string key(section);
    return config_of(doc.IsMap() ? doc[key] : YAML::Node(), key + ".");
  });
}

}  // namespace keel::alert
