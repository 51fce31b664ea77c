#include "keel/alert/pipeline_checks.hpp"

#include <string>

namespace keel::alert {

namespace {

using keel::health::check_context;
using keel::health::check_result;

// Names in a check's output are bounded: a thousand failing rules must not
// make a health document of a thousand lines.
constexpr std::size_t kNamed = 10;

// `head` then each item described, " and N more" past kNamed.
template <typename T, typename F>
std::string listing(std::string head, const std::vector<T>& items, F describe) {
  for (std::size_t i = 0; i < items.size() && i < kNamed; ++i) {
    head += ' ';
    describe(items[i], head);
  }
  if (items.size() > kNamed) {
    head += " and ";
    head += std::to_string(items.size() - kNamed);
    head += " more";
  }
  return head;
}

check_result store_check(const pipeline& p) {
  const auto h = p.health();
  if (!h.store_open) return check_result::fail("store not open (degraded)");
  if (!h.store_problem.empty())
    return check_result::fail("store refuses writes: " + h.store_problem);
  return check_result::pass();
}

check_result receivers_check(const pipeline& p) {
  const auto h = p.health();
  if (h.failing_receivers.empty()) return check_result::pass();
  return check_result::warn(
      listing("failing:", h.failing_receivers, [](const receiver_state& r, std::string& out) {
        out += r.name;
        out += " (";
        out += std::to_string(r.consecutive_failures);
        out += "x, ";
        out += r.last_error;
        out += ')';
      }));
}

check_result rules_check(const pipeline& p) {
  const auto h = p.health();
  if (h.failing_rules.empty()) return check_result::pass();
  return check_result::warn(listing("not evaluated in full:", h.failing_rules,
                                    [](const rule_failure& f, std::string& out) {
                                      out += f.rule;
                                      out += " (";
                                      out += f.reason;
                                      out += ", ";
                                      out += std::to_string(f.series);
                                      out += " series left out)";
                                    }));
}

check_result loop_check(const pipeline& p) {
  const auto h = p.health();
  if (!h.loop_started || h.loop_running) return check_result::pass();
  return check_result::fail("alert loop not running (last round " +
                            std::to_string(h.since_loop_beat.count() / 1000) + " s ago)");
}

}  // namespace

result<void> add_pipeline_checks(keel::health::registry& reg, const pipeline& p) {
  struct entry {
    keel::health::check_options options;
    check_result (*fn)(const pipeline&);
  };
  const entry checks[] = {
      {{.name = "store", .component_type = "datastore", .critical = false}, store_check},
      {{.name = "receivers", .component_type = "component", .critical = false}, receivers_check},
      {{.name = "rules", .component_type = "component", .critical = false}, rules_check},
      {{.name = "alert_loop",
        .component_type = "component",
        .probes = keel::health::probe::liveness | keel::health::probe::readiness},
       loop_check},
  };
  for (const auto& c : checks) {
    if (auto r = reg.add(c.options, [&p, fn = c.fn](const check_context&) { return fn(p); }); !r)
      return r;
  }
  return {};
}

}  // namespace keel::alert
