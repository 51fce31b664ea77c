// bench_metrics — keel::metrics hot paths beside the seeds' design.
//
//   build/release/bench/bench_metrics --benchmark_min_time=0.2 --benchmark_repetitions=5
//
// Targets (issue 4), real time per operation:
//   BM_Counter_Inc             1 thread ≤ 2 ns, 2 threads ≤ 4 ns
//   BM_Histogram_Observe       1 thread ≤ 10 ns, 2 threads ≤ 15 ns
//   BM_Counter_LabelLookupInc  ≤ 60 ns (find a child by three label values, increment)
//   BM_Expose_10k              ≤ 3 ms (10 000 counter series to text)
// BM_Baseline_* run the same operations on the seeds' MetricsCollector
// (one mutex, std::map keyed by "name{k=v,...}", histograms as bounded
// deques of timestamped points) translated to C++, so ratios come from one
// run. BM_Design_FetchAdd_Inc is the design keel did not choose: one
// std::atomic per counter incremented with fetch_add (what most client
// libraries do); it is here so the choice stays measured.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "keel/metrics/exposition.hpp"
#include "keel/metrics/registry.hpp"

namespace {

using namespace keel::metrics;

// ---- the seeds' MetricsCollector, translated --------------------------------

class seed_metrics_collector {
 public:
  using labels_t = std::map<std::string, std::string>;

  void increment_counter(const std::string& name, double value = 1.0, const labels_t& labels = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    counters_[make_key(name, labels)] += value;
  }

  void observe_histogram(const std::string& name, double value, const labels_t& labels = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& points = histograms_[make_key(name, labels)];
    points.push_back({value, std::chrono::system_clock::now()});
    if (points.size() > max_points_) points.pop_front();
  }

  // The seed's /metrics text: one "key value" line per counter.
  void render(std::string& out) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, value] : counters_) {
      out.append(key);
      out.push_back(' ');
      out.append(std::to_string(value));
      out.push_back('\n');
    }
  }

 private:
  struct point {
    double value;
    std::chrono::system_clock::time_point timestamp;
  };
  static std::string make_key(const std::string& name, const labels_t& labels) {
    if (labels.empty()) return name;
    std::string key = name + "{";
    bool first = true;
    for (const auto& [k, v] : labels) {  // std::map: already sorted, as the seed sorts
      if (!first) key.push_back(',');
      first = false;
      key += k + "=" + v;
    }
    key.push_back('}');
    return key;
  }

  mutable std::mutex mu_;
  std::map<std::string, double> counters_;
  std::map<std::string, std::deque<point>> histograms_;
  std::size_t max_points_ = 10000;
};

seed_metrics_collector& seed() {
  static seed_metrics_collector s;
  return s;
}

registry& bench_registry() {
  static registry* r = new registry();
  return *r;
}

// ---- counter increment -------------------------------------------------------

counter& shared_counter() {
  static counter& c =
      (*bench_registry().add_counter({.name = "bench_ops_total", .help = "Ops."}))->labels();
  return c;
}

void BM_Counter_Inc(benchmark::State& state) {
  counter& c = shared_counter();
  for (auto _ : state) {
    c.inc();
  }
  benchmark::ClobberMemory();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Counter_Inc)->Threads(1)->Threads(2)->UseRealTime();

void BM_Baseline_Counter_Inc(benchmark::State& state) {
  const std::string name = "bench_ops_total";
  for (auto _ : state) {
    seed().increment_counter(name);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_Counter_Inc)->Threads(1)->Threads(2)->UseRealTime();

std::atomic<std::uint64_t> fetch_add_counter{0};

void BM_Design_FetchAdd_Inc(benchmark::State& state) {
  for (auto _ : state) {
    fetch_add_counter.fetch_add(1, std::memory_order_relaxed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Design_FetchAdd_Inc)->Threads(1)->Threads(2)->UseRealTime();

// ---- histogram observe -------------------------------------------------------

histogram& shared_histogram() {
  static histogram& h = (*bench_registry().add_histogram(
                             {.name = "bench_op_duration_seconds", .help = "Op latency."}))
                            ->labels();
  return h;
}

// Latencies spread over the default buckets, so the bucket scan varies.
const std::vector<double>& sample_latencies() {
  static const std::vector<double> v = [] {
    std::vector<double> out;
    for (int i = 0; i < 64; ++i)
      out.push_back(0.0005 * static_cast<double>((i * 37) % 64) * static_cast<double>(i % 7 + 1));
    return out;
  }();
  return v;
}

void BM_Histogram_Observe(benchmark::State& state) {
  histogram& h = shared_histogram();
  const auto& vs = sample_latencies();
  std::size_t i = 0;
  for (auto _ : state) {
    h.observe(vs[i++ & 63]);
  }
  benchmark::ClobberMemory();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Histogram_Observe)->Threads(1)->Threads(2)->UseRealTime();

void BM_Baseline_Histogram_Observe(benchmark::State& state) {
  const std::string name = "bench_op_duration_seconds";
  const auto& vs = sample_latencies();
  std::size_t i = 0;
  for (auto _ : state) {
    seed().observe_histogram(name, vs[i++ & 63]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_Histogram_Observe)->Threads(1)->Threads(2)->UseRealTime();

// ---- labelled lookup + increment ---------------------------------------------

counter_family& lookup_family() {
  static counter_family* f = [] {
    auto* fam = *bench_registry().add_counter({.name = "bench_requests_total",
                                               .help = "Requests.",
                                               .labels = {"method", "route", "code"}});
    // A realistic population: 200 children.
    for (const char* m : {"GET", "POST", "PUT", "DELETE"})
      for (int r = 0; r < 10; ++r)
        for (const char* c : {"200", "201", "404", "500", "503"})
          fam->labels(m, "/api/v1/resource" + std::to_string(r), c);
    return fam;
  }();
  return *f;
}

void BM_Counter_LabelLookupInc(benchmark::State& state) {
  counter_family& f = lookup_family();
  const std::string method = "POST", route = "/api/v1/resource7", code = "201";
  for (auto _ : state) {
    f.labels(method, route, code).inc();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Counter_LabelLookupInc)->UseRealTime();

void BM_Baseline_Counter_LabelLookupInc(benchmark::State& state) {
  const std::string name = "bench_requests_total";
  const seed_metrics_collector::labels_t labels = {
      {"method", "POST"}, {"route", "/api/v1/resource7"}, {"code", "201"}};
  for (auto _ : state) {
    seed().increment_counter(name, 1.0, labels);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_Counter_LabelLookupInc)->UseRealTime();

// ---- exposition of 10 000 series ---------------------------------------------

constexpr int kSeries = 10000;

registry& expose_registry() {
  static registry* r = [] {
    auto* reg = new registry();
    auto* f = *reg->add_counter({.name = "bench_expose_requests_total",
                                 .help = "Requests by route and code.",
                                 .labels = {"route", "code"}});
    for (int i = 0; i < kSeries; ++i)
      f->labels("/api/v1/items/" + std::to_string(i / 5), std::to_string(200 + i % 5))
          .inc(static_cast<std::uint64_t>(i));
    return reg;
  }();
  return *r;
}

void BM_Expose_10k(benchmark::State& state) {
  registry& reg = expose_registry();
  const auto fmt = state.range(0) == 0 ? format::prometheus_text_0_0_4 : format::openmetrics_1_0;
  std::string out;
  for (auto _ : state) {
    out.clear();
    expose(reg, fmt, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["series_per_s"] =
      benchmark::Counter(static_cast<double>(kSeries) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["bytes"] = static_cast<double>(out.size());
  state.SetLabel(state.range(0) == 0 ? "text-0.0.4" : "openmetrics-1.0");
}
BENCHMARK(BM_Expose_10k)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

seed_metrics_collector& expose_seed() {
  static seed_metrics_collector* s = [] {
    auto* c = new seed_metrics_collector();
    for (int i = 0; i < kSeries; ++i)
      c->increment_counter("bench_expose_requests_total", static_cast<double>(i),
                           {{"route", "/api/v1/items/" + std::to_string(i / 5)},
                            {"code", std::to_string(200 + i % 5)}});
    return c;
  }();
  return *s;
}

void BM_Baseline_Expose_10k(benchmark::State& state) {
  seed_metrics_collector& s = expose_seed();
  std::string out;
  for (auto _ : state) {
    out.clear();
    s.render(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["series_per_s"] =
      benchmark::Counter(static_cast<double>(kSeries) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_Baseline_Expose_10k)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
