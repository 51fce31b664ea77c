// bench_cli — the `keel` command line's hot paths: logq filtering a JSON
// Lines file (page cache or tmpfs, one core), the line scanner against a
// DOM parse (nlohmann) as the peer, and the load generator's histogram.
//
//   build/release/bench/bench_cli --benchmark_filter=Logq --benchmark_min_time=0.2
//
// Target (issue 8): BM_Logq_FilterFile ≥ 1 M lines/s on one core (user
// counter lines_per_s). The file holds keel-shaped log lines of ~330 bytes:
// http access lines, 5 % slow warnings, 2 % errors with a nested error object.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "keel/core/random.hpp"
#include "keel/core/rfc3339.hpp"
#include "load/histogram.hpp"
#include "logq/line_reader.hpp"
#include "logq/query.hpp"

namespace {

namespace lq = keel::cli::logq;
constexpr int kLines = 200'000;

std::string make_line(keel::seeded_random& rng, int i) {
  const auto roll = rng.next_below(100);
  const char* level = roll < 2 ? "error" : (roll < 7 ? "warn" : "info");
  const double duration = roll < 7 ? 1000.0 + static_cast<double>(rng.next_below(5000))
                                   : static_cast<double>(rng.next_below(200000)) / 100.0;
  std::string error;
  if (roll < 2) {
    error = fmt::format(
        R"(,"error":{{"code":"{}","category":"systemic","message":"insert into orders failed"}})",
        roll == 0 ? "DATABASE_ERROR" : "TIMEOUT");
  }
  return fmt::format(
      R"({{"timestamp":"2026-11-23T06:{:02}:{:02}.{:06}Z","level":"{}","logger":"http.access",)"
      R"("message":"{}","service":"keeld","version":"0.1.0","environment":"production",)"
      R"("request_id":"{:016x}{:016x}","trace_id":"{:016x}{:016x}","span_id":"{:016x}",)"
      R"("method":"GET","path":"/api/v1/orders/{}","status_code":{},"duration_ms":{}{}}})",
      (i / 60000) % 60, (i / 1000) % 60, (i % 1000) * 1000, level,
      roll < 7 ? "request completed slowly" : "request completed", rng.next_u64(), rng.next_u64(),
      rng.next_u64(), rng.next_u64(), rng.next_u64(), i % 1000, roll < 2 ? 500 : 200, duration,
      error);
}

// The benchmark input, written once per process to tmpfs when there is one.
struct corpus {
  std::string dir;
  std::string plain;
  std::string gzip;
  std::size_t bytes = 0;
  std::string first_request_id;

  corpus() {
    const std::filesystem::path base =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::string tmpl = (base / "keel-bench-cli-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
    plain = dir + "/app.log";
    gzip = dir + "/app.log.1.gz";
    keel::seeded_random rng(42);
    std::string all;
    for (int i = 0; i < kLines; ++i) {
      all += make_line(rng, i);
      all += '\n';
    }
    first_request_id = all.substr(all.find("request_id\":\"") + 13, 32);
    bytes = all.size();
    std::ofstream(plain, std::ios::binary) << all;
    gzFile f = gzopen(gzip.c_str(), "wb6");
    gzwrite(f, all.data(), static_cast<unsigned>(all.size()));
    gzclose(f);
  }
  ~corpus() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

const corpus& input() {
  static corpus c;
  return c;
}

// One pass of `keel logq` minus the output: read, scan, filter.
void filter_file(benchmark::State& state, const std::string& path, lq::query_options o) {
  auto filter = lq::line_filter::create(o);
  if (!filter) {
    state.SkipWithError(filter.error().message().c_str());
    return;
  }
  std::uint64_t lines = 0, matched = 0;
  for (auto _ : state) {
    lq::query_stats stats;
    auto src = lq::open_source(path);
    lq::line_reader in(std::move(*src), {});
    std::string_view line;
    while (in.next(line) == lq::read_status::line) {
      if (filter->accept(line, stats)) ++matched;
    }
    lines += stats.lines;
  }
  state.counters["lines_per_s"] =
      benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
  state.counters["matched_per_pass"] =
      static_cast<double>(matched) /
      static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
  state.SetItemsProcessed(static_cast<std::int64_t>(lines));
  state.SetBytesProcessed(static_cast<std::int64_t>(input().bytes) * state.iterations());
}

void BM_Logq_FilterFile(benchmark::State& state) {
  filter_file(state, input().plain, {.expression = "duration_ms > 1000 and level >= warn"});
}
BENCHMARK(BM_Logq_FilterFile)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Logq_FilterFileNested(benchmark::State& state) {
  filter_file(state, input().plain, {.expression = "error.code = DATABASE_ERROR"});
}
BENCHMARK(BM_Logq_FilterFileNested)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Logq_FilterFileRegex(benchmark::State& state) {
  filter_file(state, input().plain,
              {.expression = "message =~ /slowly$/ and path =~ /orders\\/9/"});
}
BENCHMARK(BM_Logq_FilterFileRegex)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Logq_FilterFileSince(benchmark::State& state) {
  filter_file(
      state, input().plain,
      {.expression = "level >= error", .since = keel::parse_rfc3339("2026-11-23T06:01:00Z")});
}
BENCHMARK(BM_Logq_FilterFileSince)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Logq_FilterFileRequest(benchmark::State& state) {
  filter_file(state, input().plain, {.request_id = input().first_request_id});
}
BENCHMARK(BM_Logq_FilterFileRequest)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Logq_FilterGzip(benchmark::State& state) {
  filter_file(state, input().gzip, {.expression = "duration_ms > 1000 and level >= warn"});
}
BENCHMARK(BM_Logq_FilterGzip)->Unit(benchmark::kMillisecond)->UseRealTime();

// Peer: a DOM parse per line, what a naive tool does.
void BM_Logq_NlohmannDomFilter(benchmark::State& state) {
  std::uint64_t lines = 0;
  for (auto _ : state) {
    auto src = lq::open_source(input().plain);
    lq::line_reader in(std::move(*src), {});
    std::string_view line;
    while (in.next(line) == lq::read_status::line) {
      ++lines;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      const auto d = j.find("duration_ms");
      const auto l = j.find("level");
      bool m = d != j.end() && d->is_number() && d->get<double>() > 1000 && l != j.end() &&
               l->is_string() && (*l == "warn" || *l == "error" || *l == "critical");
      benchmark::DoNotOptimize(m);
    }
  }
  state.counters["lines_per_s"] =
      benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<std::int64_t>(lines));
}
BENCHMARK(BM_Logq_NlohmannDomFilter)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Logq_ParseExpression(benchmark::State& state) {
  for (auto _ : state) {
    lq::field_set f;
    auto e = lq::expression::parse(
        "duration_ms > 1000 and (level >= warn or error.code = DATABASE_ERROR) and path =~ /api/",
        f);
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_Logq_ParseExpression);

void BM_Load_HistogramRecord(benchmark::State& state) {
  keel::cli::load::latency_histogram h;
  keel::seeded_random rng(1);
  std::uint64_t v = 0;
  for (auto _ : state) {
    v = (v + 7919) & ((1u << 26) - 1);  // up to 67 ms, cheap to generate
    h.record(v);
  }
  benchmark::DoNotOptimize(h);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Load_HistogramRecord);

}  // namespace

BENCHMARK_MAIN();
