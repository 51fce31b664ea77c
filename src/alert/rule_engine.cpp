#include "keel/alert/rule_engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace keel::alert {

std::string_view to_string(alert_state s) noexcept {
  switch (s) {
    case alert_state::inactive:
      return "inactive";
    case alert_state::pending:
      return "pending";
    case alert_state::firing:
      return "firing";
  }
  return "inactive";
}

std::string alert::fingerprint() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t h = labels.hash();
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4)
    s[static_cast<std::size_t>(i)] = kHex[h & 0xf];
  return s;
}

namespace {
using time_point = std::chrono::system_clock::time_point;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double seconds_between(time_point a, time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// histogram_quantile over cumulative bucket counts (last = +Inf).
double quantile_of(double q, const double* cumulative, const std::vector<double>& bounds) {
  const std::size_t n = bounds.size() + 1;
  const double total = cumulative[n - 1];
  if (!(total > 0)) return kNaN;
  const double rank = q * total;
  std::size_t i = 0;
  while (i < n - 1 && cumulative[i] < rank)
    ++i;
  if (i == n - 1) return bounds.empty() ? kNaN : bounds.back();
  const double lower = i == 0 ? 0.0 : bounds[i - 1];
  const double upper = bounds[i];
  const double below = i == 0 ? 0.0 : cumulative[i - 1];
  const double in_bucket = cumulative[i] - below;
  if (!(in_bucket > 0)) return upper;
  return lower + (upper - lower) * (rank - below) / in_bucket;
}
}  // namespace

// One series bound to a rule, with what is needed to turn its readings into
// monotonic totals (counter resets handled).
struct bound_series {
  std::shared_ptr<const series> s;
  std::uint32_t group = 0;
  bool denominator = false;
  // Present when the rule started: the first read sets `last*` and counts
  // nothing (its past is not part of any window). Read at the first cycle
  // rather than at bind, so binding never reads a series (reads happen only
  // inside a source's begin_reads/end_reads bracket).
  bool baseline = false;
  double last = 0;
  // histograms
  double last_sum = 0;
  double last_count = 0;
  std::vector<std::uint64_t> last_buckets;
};

struct sample {
  time_point t{};
  double num = 0, den = 0, sum = 0, count = 0;
};

// One alert instance (a group of series) of a rule.
struct alert_group {
  label_set key;  // group labels
  // totals since binding
  double raw = 0, num = 0, den = 0, sum = 0, count = 0;
  bool hist_init = false;  // bounds and bucket arrays sized from the first read
  std::vector<double> bounds;
  std::vector<double> buckets;  // cumulative totals, +Inf last
  // window ring of totals
  std::vector<sample> ring;
  std::vector<double> ring_buckets;  // ring.size() * buckets.size()
  std::size_t head = 0;              // next write
  std::size_t filled = 0;
  std::vector<double> scratch;  // window bucket deltas
  // alert state
  alert_state state = alert_state::inactive;
  time_point active_since{}, fired_at{}, last_true{};
  double value = kNaN;
  bool present = true;  // has series bound
};

struct carried_state {
  alert_state state = alert_state::inactive;
  time_point active_since{}, fired_at{}, last_true{};
};

struct rule_engine::slot {
  compiled_rule r;
  std::uint64_t generation = 0;
  bool bound_once = false;
  // Added before the engine's first cycle: the series it finds then hold
  // only what happened since the process started (every source starts at
  // zero), so they count from zero rather than from a baseline. Without
  // this the events of a crash loop's first seconds never count.
  bool counts_from_zero = false;
  std::vector<bound_series> series;
  std::vector<alert_group> groups;
  std::map<label_set, carried_state> carried;  // from a replaced rule, consumed at bind
  histogram_snapshot snap;                     // reused for reads
  std::size_t over_limit = 0;                  // series left out at bind
  std::size_t wrong_kind = 0;
};

rule_engine::rule_engine(std::vector<const series_source*> sources, const keel::clock& clock,
                         engine_options opts)
    : sources_(std::move(sources)), clock_(clock), opts_(opts) {
  if (opts_.interval.count() <= 0) opts_.interval = std::chrono::seconds(15);
}

rule_engine::~rule_engine() = default;

std::uint64_t rule_engine::source_generation() const noexcept {
  std::uint64_t g = 0;
  for (const auto* s : sources_)
    g += s->generation();
  return g;
}

namespace {
label_set alert_labels(const compiled_rule& r, const label_set& key, double value) {
  label_set l = key;
  for (const auto& [k, t] : r.labels)
    l.set(k, t.render(key, value));
  l.set("alertname", r.def.name);
  return l;
}
}  // namespace

result<void> rule_engine::upsert(rule r) {
  auto c = compile(std::move(r));
  if (!c) return fail(c.error());
  std::lock_guard lock(mu_);
  for (auto& s : slots_) {
    if (s->r.def.name != c->def.name) continue;
    auto fresh = std::make_unique<slot>();
    fresh->r = std::move(*c);
    fresh->counts_from_zero = !evaluated_once_;
    for (const auto& g : s->groups) {
      if (g.state == alert_state::inactive) continue;
      fresh->carried[g.key] = {g.state, g.active_since, g.fired_at, g.last_true};
    }
    s = std::move(fresh);
    changed_ = true;
    ++state_changes_;
    return ok();
  }
  if (slots_.size() >= opts_.max_rules) {
    return fail(error(codes::resource_exhausted, "too many rules")
                    .with_detail("max_rules", opts_.max_rules));
  }
  auto s = std::make_unique<slot>();
  s->r = std::move(*c);
  s->counts_from_zero = !evaluated_once_;
  slots_.push_back(std::move(s));
  return ok();
}

result<void> rule_engine::remove(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(slots_.begin(), slots_.end(),
                         [&](const auto& s) { return s->r.def.name == name; });
  if (it == slots_.end()) {
    return fail(codes::resource_not_found, "no rule " + std::string(name));
  }
  for (const auto& g : (*it)->groups) {
    if (g.state != alert_state::firing) continue;
    alert a;
    a.rule = (*it)->r.def.name;
    a.labels = alert_labels((*it)->r, g.key, g.value);
    for (const auto& [k, t] : (*it)->r.annotations)
      a.annotations.set(k, t.render(g.key, g.value));
    a.state = alert_state::firing;
    a.value = g.value;
    a.active_since = g.active_since;
    a.fired_at = g.fired_at;
    orphaned_.push_back(std::move(a));
  }
  slots_.erase(it);
  changed_ = true;
  ++state_changes_;
  return ok();
}

std::vector<rule> rule_engine::rules() const {
  std::lock_guard lock(mu_);
  std::vector<rule> out;
  out.reserve(slots_.size());
  for (const auto& s : slots_)
    out.push_back(s->r.def);
  return out;
}

std::size_t rule_engine::rule_count() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

std::uint64_t rule_engine::dropped_series() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void rule_engine::bind(slot& s, time_point now, std::uint64_t gen) {
  const auto& c = s.r.def.cond;
  const bool first = !s.bound_once;
  std::vector<std::shared_ptr<const series>> found;
  std::vector<std::pair<std::shared_ptr<const series>, bool>> wanted;
  auto pick = [&](const selector& sel, bool den) {
    found.clear();
    for (const auto* src : sources_)
      src->select(sel.metric, found);
    for (auto& f : found) {
      if (matches_all(sel.matchers, f->labels())) wanted.emplace_back(std::move(f), den);
    }
  };
  pick(c.series, false);
  if (c.kind == condition_kind::ratio) pick(c.denominator, true);
  s.over_limit = 0;
  s.wrong_kind = 0;
  if (wanted.size() > opts_.max_series_per_rule) {
    s.over_limit = wanted.size() - opts_.max_series_per_rule;
    dropped_ += s.over_limit;
    wanted.resize(opts_.max_series_per_rule);
  }

  // Existing groups by key; existing series by identity (their totals go on).
  std::map<label_set, std::uint32_t> group_of;
  for (std::uint32_t i = 0; i < s.groups.size(); ++i) {
    s.groups[i].present = false;
    group_of.emplace(s.groups[i].key, i);
  }
  std::unordered_map<const series*, std::size_t> previous[2];  // [denominator]
  for (std::size_t i = 0; i < s.series.size(); ++i) {
    previous[s.series[i].denominator ? 1 : 0].emplace(s.series[i].s.get(), i);
  }
  std::vector<bound_series> next;
  next.reserve(wanted.size());
  const bool hist =
      c.kind == condition_kind::histogram_average || c.kind == condition_kind::histogram_quantile;
  const std::size_t ring_size =
      c.window.count() > 0 ? static_cast<std::size_t>(c.window / opts_.interval) + 2 : 1;
  for (auto& [ser, den] : wanted) {
    if (hist != (ser->kind() == series_kind::histogram)) {
      ++s.wrong_kind;
      continue;
    }
    const label_set key = c.by ? ser->labels().project(*c.by) : ser->labels();
    auto [git, inserted] = group_of.emplace(key, static_cast<std::uint32_t>(s.groups.size()));
    if (inserted) {
      alert_group g;
      g.key = key;
      g.ring.resize(ring_size);
      if (auto cit = s.carried.find(key); cit != s.carried.end()) {
        g.state = cit->second.state;
        g.active_since = cit->second.active_since;
        g.fired_at = cit->second.fired_at;
        g.last_true = cit->second.last_true;
      }
      s.groups.push_back(std::move(g));
    }
    alert_group& g = s.groups[git->second];
    g.present = true;
    bound_series b;
    b.s = ser;
    b.group = git->second;
    b.denominator = den;
    const auto& prev = previous[den ? 1 : 0];
    if (auto pit = prev.find(ser.get()); pit != prev.end()) {
      auto old = s.series.begin() + static_cast<std::ptrdiff_t>(pit->second);
      b.last = old->last;
      b.last_sum = old->last_sum;
      b.last_count = old->last_count;
      b.last_buckets = std::move(old->last_buckets);
    } else if (first && !s.counts_from_zero) {
      b.baseline = true;
    }
    next.push_back(std::move(b));
  }
  s.series = std::move(next);
  // A carried alert whose series are gone (a restart before they came
  // back) is kept, without series: it resolves at its next cycle rather
  // than vanish without a `resolved`.
  for (const auto& [key, kept] : s.carried) {
    if (kept.state == alert_state::inactive || group_of.contains(key)) continue;
    alert_group g;
    g.key = key;
    g.ring.resize(ring_size);
    g.state = kept.state;
    g.active_since = kept.active_since;
    g.fired_at = kept.fired_at;
    g.last_true = kept.last_true;
    group_of.emplace(key, static_cast<std::uint32_t>(s.groups.size()));
    s.groups.push_back(std::move(g));
  }
  s.carried.clear();
  // New groups start their ring with a baseline sample: "since the rule started".
  for (auto& g : s.groups) {
    if (g.filled == 0) {
      g.ring[0] = sample{now, g.num, g.den, g.sum, g.count};
      g.head = 1 % g.ring.size();
      g.filled = 1;
    }
  }
  s.generation = gen;
  s.bound_once = true;
}

void rule_engine::eval_slot(slot& s, time_point now, evaluation& out) {
  const auto& c = s.r.def.cond;
  const bool hist =
      c.kind == condition_kind::histogram_average || c.kind == condition_kind::histogram_quantile;
  for (auto& g : s.groups)
    g.raw = 0;
  for (auto& b : s.series) {
    alert_group& g = s.groups[b.group];
    if (hist) {
      b.s->read_histogram(s.snap);
      const double count = static_cast<double>(s.snap.count);
      if (!g.hist_init) {
        // Totals start at zero when the group is made, so the ring's
        // bucket samples taken before this read are all zero too.
        g.hist_init = true;
        g.bounds = s.snap.upper_bounds;
        g.buckets.assign(g.bounds.size() + 1, 0);
        g.ring_buckets.assign(g.ring.size() * g.buckets.size(), 0);
        g.scratch.assign(g.buckets.size(), 0);
      }
      if (b.baseline) {
        b.baseline = false;
        b.last_sum = s.snap.sum;
        b.last_count = count;
        b.last_buckets = s.snap.cumulative;
        g.raw += count;
        continue;
      }
      // A series new since the rule started counts from zero.
      if (b.last_buckets.size() != s.snap.cumulative.size()) {
        b.last_buckets.assign(s.snap.cumulative.size(), 0);
      }
      const bool reset = count < b.last_count;
      g.sum += reset ? s.snap.sum : s.snap.sum - b.last_sum;
      g.count += reset ? count : count - b.last_count;
      if (s.snap.cumulative.size() == g.buckets.size() &&
          b.last_buckets.size() == g.buckets.size()) {
        for (std::size_t i = 0; i < g.buckets.size(); ++i) {
          const auto cur = static_cast<double>(s.snap.cumulative[i]);
          const auto prev = static_cast<double>(b.last_buckets[i]);
          g.buckets[i] += reset ? cur : cur - prev;
          b.last_buckets[i] = s.snap.cumulative[i];
        }
      }
      b.last_sum = s.snap.sum;
      b.last_count = count;
      g.raw += count;
    } else {
      const double v = b.s->value();
      if (b.baseline) {
        b.baseline = false;
        b.last = v;
      }
      const double delta = v >= b.last ? v - b.last : v;  // a drop is a counter reset
      b.last = v;
      (b.denominator ? g.den : g.num) += delta;
      if (!b.denominator) g.raw += v;
    }
  }
  out.series += s.series.size();

  for (auto& g : s.groups) {
    if (!g.present && g.state == alert_state::inactive) continue;
    ++out.alerts;
    // Window start: the newest sample at or before now - window, else the oldest.
    const std::size_t cap = g.ring.size();
    const std::size_t oldest = (g.head + cap - g.filled) % cap;
    std::size_t base = oldest;
    if (c.window.count() > 0) {
      const auto start = now - c.window;
      for (std::size_t k = 1; k < g.filled; ++k) {
        const std::size_t idx = (oldest + k) % cap;
        if (g.ring[idx].t > start) break;
        base = idx;
      }
    }
    const sample& old = g.ring[base];
    double value = kNaN;
    switch (c.kind) {
      case condition_kind::threshold:
        value = g.present ? g.raw : kNaN;
        break;
      case condition_kind::rate: {
        const double secs = seconds_between(old.t, now);
        if (secs > 0) value = (g.num - old.num) / secs;
        break;
      }
      case condition_kind::increase:
      case condition_kind::events:
        value = g.num - old.num;
        break;
      case condition_kind::ratio: {
        const double den = g.den - old.den;
        if (den > c.min_denominator && den > 0) value = (g.num - old.num) / den;
        break;
      }
      case condition_kind::histogram_average: {
        const double n = g.count - old.count;
        if (n > 0) value = (g.sum - old.sum) / n;
        break;
      }
      case condition_kind::histogram_quantile: {
        if (g.buckets.empty()) break;
        const double* ob = g.ring_buckets.data() + base * g.buckets.size();
        for (std::size_t i = 0; i < g.buckets.size(); ++i)
          g.scratch[i] = g.buckets[i] - ob[i];
        value = quantile_of(c.quantile, g.scratch.data(), g.bounds);
        break;
      }
    }
    // Sample the totals once per interval; a zero window keeps its baseline.
    if (c.window.count() > 0) {
      const std::size_t newest = (g.head + cap - 1) % cap;
      if (now - g.ring[newest].t >= opts_.interval) {
        g.ring[g.head] = sample{now, g.num, g.den, g.sum, g.count};
        if (!g.buckets.empty()) {
          std::copy(
              g.buckets.begin(), g.buckets.end(),
              g.ring_buckets.begin() + static_cast<std::ptrdiff_t>(g.head * g.buckets.size()));
        }
        g.head = (g.head + 1) % cap;
        g.filled = std::min(g.filled + 1, cap);
      }
    }

    const bool active = !std::isnan(value) && holds(c.op, value, c.threshold);
    const auto& d = s.r.def;
    if (active) {
      g.value = value;
      g.last_true = now;
      if (g.state == alert_state::inactive) {
        g.state = alert_state::pending;
        g.active_since = now;
        changed_ = true;
        ++state_changes_;
      }
      if (g.state == alert_state::pending && now - g.active_since >= d.for_duration) {
        g.state = alert_state::firing;
        changed_ = true;
        ++state_changes_;
        g.fired_at = now;
        alert a;
        a.rule = d.name;
        a.labels = alert_labels(s.r, g.key, value);
        for (const auto& [k, t] : s.r.annotations)
          a.annotations.set(k, t.render(g.key, value));
        a.state = alert_state::firing;
        a.value = value;
        a.active_since = g.active_since;
        a.fired_at = now;
        out.fired.push_back(std::move(a));
      }
    } else if (g.state == alert_state::pending) {
      g.state = alert_state::inactive;
      changed_ = true;
      ++state_changes_;
    } else if (g.state == alert_state::firing && now - g.last_true >= d.keep_firing_for) {
      g.state = alert_state::inactive;
      changed_ = true;
      ++state_changes_;
      alert a;
      a.rule = d.name;
      a.labels = alert_labels(s.r, g.key, g.value);
      for (const auto& [k, t] : s.r.annotations)
        a.annotations.set(k, t.render(g.key, g.value));
      a.state = alert_state::inactive;
      a.value = std::isnan(value) ? g.value : value;
      a.active_since = g.active_since;
      a.fired_at = g.fired_at;
      a.ends_at = now;
      out.resolved.push_back(std::move(a));
    }
  }
  // Groups whose series are gone and whose alert is over are dropped.
  if (std::any_of(s.groups.begin(), s.groups.end(), [](const alert_group& g) {
        return !g.present && g.state == alert_state::inactive;
      })) {
    std::vector<std::uint32_t> remap(s.groups.size());
    std::vector<alert_group> kept;
    for (std::uint32_t i = 0; i < s.groups.size(); ++i) {
      if (!s.groups[i].present && s.groups[i].state == alert_state::inactive) continue;
      remap[i] = static_cast<std::uint32_t>(kept.size());
      kept.push_back(std::move(s.groups[i]));
    }
    for (auto& b : s.series)
      b.group = remap[b.group];
    s.groups = std::move(kept);
  }
}

void rule_engine::evaluate(evaluation& out) {
  out.fired.clear();
  out.resolved.clear();
  out.failures.clear();
  out.rules = out.series = out.alerts = 0;
  const auto now = clock_.system_now();
  std::lock_guard lock(mu_);
  for (auto& a : orphaned_) {
    a.state = alert_state::inactive;
    a.ends_at = now;
    out.resolved.push_back(std::move(a));
  }
  orphaned_.clear();
  const auto gen = source_generation();
  // Bind first (select may lock inside a source), then read every bound
  // series inside the sources' read brackets.
  for (auto& s : slots_) {
    if (!s->bound_once || s->generation != gen) bind(*s, now, gen);
  }
  {
    struct read_bracket {
      const std::vector<const series_source*>& sources;
      explicit read_bracket(const std::vector<const series_source*>& src) : sources(src) {
        for (const auto* x : sources)
          x->begin_reads();
      }
      ~read_bracket() {
        for (auto it = sources.rbegin(); it != sources.rend(); ++it)
          (*it)->end_reads();
      }
      read_bracket(const read_bracket&) = delete;
      read_bracket& operator=(const read_bracket&) = delete;
    } bracket(sources_);
    for (auto& s : slots_)
      eval_slot(*s, now, out);
  }
  for (const auto& s : slots_) {
    if (s->over_limit > 0) out.failures.push_back({s->r.def.name, kSeriesLimit, s->over_limit});
    if (s->wrong_kind > 0) out.failures.push_back({s->r.def.name, kWrongKind, s->wrong_kind});
  }
  out.rules = slots_.size();
  evaluated_once_ = true;
  if (changed_) {
    changed_ = false;
    auto fresh = std::make_shared<const std::vector<alert>>(active_locked());
    std::lock_guard pub(pub_mu_);
    published_ = std::move(fresh);
  }
}

std::vector<alert> rule_engine::active() const {
  std::lock_guard lock(mu_);
  return active_locked();
}

std::shared_ptr<const std::vector<alert>> rule_engine::last_active() const {
  std::lock_guard lock(pub_mu_);
  return published_;
}

std::vector<alert> rule_engine::active_locked() const {
  std::vector<alert> out;
  for (const auto& s : slots_) {
    for (const auto& g : s->groups) {
      if (g.state == alert_state::inactive) continue;
      alert a;
      a.rule = s->r.def.name;
      a.labels = alert_labels(s->r, g.key, g.value);
      for (const auto& [k, t] : s->r.annotations)
        a.annotations.set(k, t.render(g.key, g.value));
      a.state = g.state;
      a.value = g.value;
      a.active_since = g.active_since;
      a.fired_at = g.fired_at;
      out.push_back(std::move(a));
    }
  }
  return out;
}

std::vector<saved_alert> rule_engine::saved() const {
  std::lock_guard lock(mu_);
  std::vector<saved_alert> out;
  for (const auto& s : slots_) {
    for (const auto& g : s->groups) {
      if (g.state == alert_state::inactive) continue;
      out.push_back({s->r.def.name, g.key, g.state, g.active_since, g.fired_at, g.last_true});
    }
    // Not bound yet (restored, no cycle since): still to be carried.
    if (!s->bound_once) {
      for (const auto& [key, c] : s->carried) {
        if (c.state == alert_state::inactive) continue;
        out.push_back({s->r.def.name, key, c.state, c.active_since, c.fired_at, c.last_true});
      }
    }
  }
  return out;
}

void rule_engine::restore(const std::vector<saved_alert>& alerts) {
  std::lock_guard lock(mu_);
  for (const auto& a : alerts) {
    if (a.state == alert_state::inactive) continue;
    for (auto& s : slots_) {
      if (s->r.def.name != a.rule || s->bound_once) continue;
      s->carried[a.key] = {a.state, a.active_since, a.fired_at, a.last_true};
    }
  }
}

std::uint64_t rule_engine::state_changes() const {
  std::lock_guard lock(mu_);
  return state_changes_;
}

std::vector<alerts_sample> rule_engine::alerts_series() const {
  std::vector<alerts_sample> out;
  for (auto& a : active()) {
    label_set l = std::move(a.labels);
    l.set("alertstate", to_string(a.state));
    out.push_back({std::move(l), 1});
  }
  return out;
}

}  // namespace keel::alert
