// bench_alert — keel::alert: rule evaluation and durable error-event ingestion.
//
//   build/rel/bench/bench_alert --benchmark_min_time=0.2
//
// Targets (issue 6):
//   BM_Rules_Evaluate   10 000 rules over 100 000 series, one cycle ≤ 50 ms.
//   BM_Events_Ingest    validation + fingerprint + durable store (SQLite, WAL, synchronous=FULL,
//                       batches of 1000) ≥ 50 000 events/s (counter events_per_s).
// BM_Events_Ingest_NoStore is the same without the store, to show what the store costs.
// BM_Pipeline_Ingest is keeld's path: batches stored with their groups before counting.
// BM_Rules_Evaluate_Metrics is BM_Rules_Evaluate over a keel::metrics registry
// (metrics_source): what reading the metrics' own cells costs.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "keel/alert/error_tracker.hpp"
#include "keel/alert/metrics_source.hpp"
#include "keel/alert/pipeline.hpp"
#include "keel/alert/rule_engine.hpp"
#include "keel/alert/store.hpp"
#include "keel/metrics/registry.hpp"

// GCC pairs the replaced operator new with its inlined free() and warns; the
// pair is consistent (malloc/free) by construction.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// Counts heap allocations so BM_Rules_Evaluate can show a steady-state cycle
// allocates nothing (counter allocs_per_cycle).
namespace {
std::atomic<std::uint64_t> g_allocs{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace std::chrono_literals;
using namespace keel::alert;

template <class Name>
void add_rules(rule_engine& engine, int metrics, benchmark::State& state, Name name_of) {
  for (int m = 0; m < metrics; ++m) {
    rule r;
    r.name = "rule_" + std::to_string(m);
    r.cond.series.metric = name_of(m);
    r.cond.op = compare::above;
    r.cond.threshold = 1e12;  // steady state: nothing fires
    switch (m % 4) {
      case 0:
        r.cond.kind = condition_kind::threshold;
        break;
      case 1:
        r.cond.kind = condition_kind::rate;
        r.cond.window = 5min;
        break;
      case 2:
        r.cond.kind = condition_kind::increase;
        r.cond.window = 10min;
        break;
      case 3:
        r.cond.kind = condition_kind::ratio;
        r.cond.denominator.metric = name_of((m + 1) % metrics);
        r.cond.window = 5min;
        r.cond.min_denominator = 10;
        break;
    }
    if (!engine.upsert(std::move(r))) state.SkipWithError("upsert failed");
  }
}

template <class Bump>
void run_cycles(benchmark::State& state, rule_engine& engine, keel::manual_clock& clock,
                Bump bump) {
  evaluation ev;
  engine.evaluate(ev);  // binding: not part of the steady-state cycle
  std::size_t series = 0;
  std::uint64_t tick = 0;
  std::uint64_t allocs = 0;
  for (auto _ : state) {
    state.PauseTiming();
    clock.advance(15s);
    bump(tick);
    ++tick;
    const auto before = g_allocs.load(std::memory_order_relaxed);
    state.ResumeTiming();
    engine.evaluate(ev);
    allocs += g_allocs.load(std::memory_order_relaxed) - before;
    series = ev.series;
    benchmark::DoNotOptimize(ev);
  }
  state.counters["allocs_per_cycle"] =
      static_cast<double>(allocs) /
      static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
  state.counters["rules"] = static_cast<double>(ev.rules);
  state.counters["series_read"] = static_cast<double>(series);
  state.counters["series_per_s"] =
      benchmark::Counter(static_cast<double>(series) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

// 10 000 metrics × 10 series each; rule i watches metric i, cycling through
// threshold (gauge), rate over 5 min, increase over 10 min and a ratio of
// metric i over metric i+1 (both bound: 20 series), so a cycle reads every
// series at least once and keeps a window ring for three rules in four.
void BM_Rules_Evaluate(benchmark::State& state) {
  const int metrics = static_cast<int>(state.range(0));
  constexpr int kPerMetric = 10;
  keel::manual_clock clock;
  series_table table;
  std::vector<std::shared_ptr<value_series>> all;
  all.reserve(static_cast<std::size_t>(metrics * kPerMetric));
  for (int m = 0; m < metrics; ++m) {
    const std::string name = "metric_" + std::to_string(m);
    for (int i = 0; i < kPerMetric; ++i) {
      label_set l{{"instance", "host-" + std::to_string(i)}, {"job", "bench"}};
      all.push_back(m % 4 == 0 ? table.gauge(name, std::move(l))
                               : table.counter(name, std::move(l)));
    }
  }
  rule_engine engine({&table}, clock, {.interval = 15s});
  add_rules(engine, metrics, state, [](int m) { return "metric_" + std::to_string(m); });
  run_cycles(state, engine, clock, [&](std::uint64_t tick) {
    for (std::size_t i = tick % 7; i < all.size(); i += 7)
      all[i]->add(1);
  });
}
BENCHMARK(BM_Rules_Evaluate)->Arg(10'000)->Unit(benchmark::kMillisecond);

// The same 10 000 metrics × 10 series as keel::metrics families (gauges for
// one metric in four, counters exposed as metric_N_total otherwise).
void BM_Rules_Evaluate_Metrics(benchmark::State& state) {
  const int metrics = static_cast<int>(state.range(0));
  constexpr int kPerMetric = 10;
  keel::manual_clock clock;
  keel::metrics::registry reg;
  std::vector<keel::metrics::counter*> counters;
  std::vector<keel::metrics::gauge*> gauges;
  for (int m = 0; m < metrics; ++m) {
    const std::string name = "metric_" + std::to_string(m);
    for (int i = 0; i < kPerMetric; ++i) {
      const std::string host = "host-" + std::to_string(i);
      if (m % 4 == 0) {
        auto g = reg.add_gauge({.name = name, .help = "Bench.", .labels = {"instance", "job"}});
        if (!g) return state.SkipWithError("add_gauge failed");
        gauges.push_back(&(*g)->labels(host, "bench"));
      } else {
        auto c = reg.add_counter({.name = name, .help = "Bench.", .labels = {"instance", "job"}});
        if (!c) return state.SkipWithError("add_counter failed");
        counters.push_back(&(*c)->labels(host, "bench"));
      }
    }
  }
  metrics_source source(reg);
  rule_engine engine({&source}, clock, {.interval = 15s});
  add_rules(engine, metrics, state,
            [](int m) { return "metric_" + std::to_string(m) + (m % 4 == 0 ? "" : "_total"); });
  run_cycles(state, engine, clock, [&](std::uint64_t tick) {
    for (std::size_t i = tick % 7; i < counters.size(); i += 7)
      counters[i]->inc();
    for (std::size_t i = tick % 7; i < gauges.size(); i += 7)
      gauges[i]->add(1);
  });
}
BENCHMARK(BM_Rules_Evaluate_Metrics)->Arg(10'000)->Unit(benchmark::kMillisecond);

error_event sample_event(std::uint64_t i, const keel::clock& clock) {
  static const char* kCodes[] = {"DATABASE_ERROR", "TIMEOUT", "NETWORK_ERROR", "INTERNAL_ERROR"};
  error_event e;
  e.service = "svc-" + std::to_string(i % 8);
  e.environment = "production";
  e.release = "1.4.2";
  e.code = kCodes[i % 4];
  e.category = keel::category::systemic;
  e.severity = keel::severity::high;
  e.message = "query " + std::to_string(i) + " on shard " + std::to_string(i % 16) +
              " failed after " + std::to_string(i % 1000) + " ms from 10.0.0." +
              std::to_string(i % 250);
  e.request_id = "req-" + std::to_string(i);
  e.details = {{"attempt", i % 3}};
  e.frames = {{.function = "orders::save", .file = "orders.cpp", .line = 42, .in_app = true}};
  e.timestamp = clock.system_now();
  return e;
}

void ingest(benchmark::State& state, bool durable) {
  keel::manual_clock clock;
  const auto dir =
      std::filesystem::temp_directory_path() / ("keel-bench-alert-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::unique_ptr<store> st;
  if (durable) {
    auto s = store::open({.data_dir = dir, .event_batch = 1000, .full_sync = true}, clock);
    if (!s) {
      state.SkipWithError(s.error().to_string().c_str());
      return;
    }
    st = std::move(*s);
  }
  error_tracker tracker(clock, {}, st.get());
  // Events are built outside the timed region: the target is the tracker's work.
  std::vector<error_event> events;
  for (std::uint64_t i = 0; i < 4096; ++i)
    events.push_back(sample_event(i, clock));
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto r = tracker.record(events[i++ & 4095]);
    benchmark::DoNotOptimize(r);
  }
  if (st && !st->flush()) state.SkipWithError("flush failed");
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  st.reset();
  std::filesystem::remove_all(dir);
}

void BM_Events_Ingest(benchmark::State& state) { ingest(state, true); }
BENCHMARK(BM_Events_Ingest)->UseRealTime();

void BM_Events_Ingest_NoStore(benchmark::State& state) { ingest(state, false); }
BENCHMARK(BM_Events_Ingest_NoStore)->UseRealTime();

// What keeld runs since the pipeline: each batch (as one POST of
// `range(0)` events) is committed with its groups' counts before it is
// counted, one transaction per batch (group commit across threads), against
// BM_Events_Ingest's buffered writes that count first and store later.
void BM_Pipeline_Ingest(benchmark::State& state) {
  static keel::manual_clock clock;
  static std::unique_ptr<pipeline> p;
  static std::filesystem::path dir;
  static std::vector<error_event> events;
  if (state.thread_index() == 0) {
    dir = std::filesystem::temp_directory_path() /
          ("keel-bench-pipeline-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    events.clear();
    for (std::uint64_t i = 0; i < 4096; ++i)
      events.push_back(sample_event(i, clock));
    auto made = pipeline::create(clock, {.data_dir = dir}, {});
    if (!made) {
      state.SkipWithError(made.error().to_string().c_str());
      return;
    }
    p = std::move(*made);
  }
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 997;
  std::vector<error_event> one;
  for (auto _ : state) {
    state.PauseTiming();
    one.assign(events.begin() + static_cast<std::ptrdiff_t>(i % (4096 - batch)),
               events.begin() + static_cast<std::ptrdiff_t>(i % (4096 - batch) + batch));
    i += batch;
    state.ResumeTiming();
    auto r = p->ingest(std::move(one));
    if (!r) state.SkipWithError(r.error().to_string().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) {
    p.reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_Pipeline_Ingest)->Arg(100)->Arg(1000)->UseRealTime();
BENCHMARK(BM_Pipeline_Ingest)->Arg(100)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
