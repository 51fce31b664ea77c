// keel::log: what a call writes, levels, child loggers, sampling, redaction
// and the queue-full policy. The backend runs in manual mode on the test
// thread and time comes from a manual clock, so every test is deterministic.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <limits>
#include <thread>

#include "keel/core/context.hpp"
#include "keel/core/error.hpp"
#include "keel/core/redactor.hpp"
#include "keel/core/rfc3339.hpp"
#include "keel/log/log.hpp"
#include "log_test_support.hpp"

namespace keel::log {
namespace {

using namespace std::chrono_literals;
using testing::memory_sink;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { reconfigure({}); }
  void TearDown() override { ASSERT_TRUE(configure({.mode = backend_mode::manual}).has_value()); }

  void reconfigure(log_config c) {
    sink_ = std::make_shared<memory_sink>();
    c.mode = backend_mode::manual;
    c.clock = &clock_;
    c.install_signal_handlers = false;
    if (c.sinks.empty()) c.sinks = {sink_};
    ASSERT_TRUE(configure(std::move(c)).has_value());
  }
  nlohmann::json last() {
    poll();
    EXPECT_FALSE(sink_->lines.empty());
    return sink_->lines.empty() ? nlohmann::json() : nlohmann::json::parse(sink_->lines.back());
  }
  std::size_t count() {
    poll();
    return sink_->lines.size();
  }

  manual_clock clock_{std::chrono::system_clock::time_point(1'795'000'000'123'456us)};
  std::shared_ptr<memory_sink> sink_;
};

TEST(Level, ParsesNamesInAnyCaseAndAliases) {
  EXPECT_EQ(parse_level("TRACE"), level::trace);
  EXPECT_EQ(parse_level("Warning"), level::warn);
  EXPECT_EQ(parse_level("err"), level::error);
  EXPECT_EQ(parse_level("fatal"), level::critical);
  EXPECT_EQ(parse_level("off"), level::off);
  EXPECT_FALSE(parse_level("loud").has_value());
  EXPECT_FALSE(parse_level(std::string(100, 'x')).has_value());
}

TEST(Level, NamesAreLowerCaseWords) {
  EXPECT_EQ(to_string(level::trace), "trace");
  EXPECT_EQ(to_string(level::warn), "warn");
  EXPECT_EQ(to_string(level::critical), "critical");
}

TEST_F(LogTest, LineHasTimestampLevelLoggerMessageInThatOrder) {
  logger("orders").info("order placed");
  poll();
  ASSERT_EQ(sink_->lines.size(), 1u);
  EXPECT_EQ(sink_->lines[0],
            R"({"timestamp":"2026-11-18T11:06:40.123456Z","level":"info","logger":"orders",)"
            R"("message":"order placed"})");
}

TEST_F(LogTest, TimestampIsRfc3339UtcWithMicroseconds) {
  clock_.advance(1500us);
  logger("t").info("x");
  const auto j = last();
  EXPECT_EQ(j["timestamp"], "2026-11-18T11:06:40.124956Z");
}

TEST_F(LogTest, NumbersBooleansAndNullKeepTheirJsonTypes) {
  logger("t").info("typed", kv("status_code", 200), kv("bytes", 18446744073709551615ull),
                   kv("neg", -5), kv("duration_ms", 1.25), kv("ok", true), kv("none", nullptr),
                   kv("nan", std::numeric_limits<double>::quiet_NaN()));
  const auto j = last();
  EXPECT_TRUE(j["status_code"].is_number_integer());
  EXPECT_EQ(j["status_code"], 200);
  EXPECT_EQ(j["bytes"].get<std::uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(j["neg"], -5);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 1.25);
  EXPECT_EQ(j["ok"], true);
  EXPECT_TRUE(j["none"].is_null());
  EXPECT_TRUE(j["nan"].is_null());
}

TEST_F(LogTest, StringFieldsAcceptEveryStringType) {
  const std::string s = "from std::string";
  const char* null_ptr = nullptr;
  logger("t").info("strings", kv("a", "literal"), kv("b", s), kv("c", std::string_view("view")),
                   kv("d", null_ptr));
  const auto j = last();
  EXPECT_EQ(j["a"], "literal");
  EXPECT_EQ(j["b"], "from std::string");
  EXPECT_EQ(j["c"], "view");
  EXPECT_EQ(j["d"], "");
}

TEST_F(LogTest, DurationIsMillisecondsAndTimePointIsRfc3339) {
  const auto at = std::chrono::system_clock::time_point(1'795'000'000'000'001us);
  logger("t").info("d", kv("elapsed", 1500us), kv("at", at));
  const auto j = last();
  EXPECT_DOUBLE_EQ(j["elapsed"].get<double>(), 1.5);
  EXPECT_EQ(j["at"], "2026-11-18T11:06:40.000001Z");
}

TEST_F(LogTest, ControlCharactersQuotesAreEscapedAndInvalidUtf8Replaced) {
  logger("t").info("line1\nline2 \"q\" \\ \x01", kv("bad", "\xff\xfeok"));
  poll();
  const std::string& line = sink_->lines.back();
  EXPECT_NE(line.find(R"(line1\nline2 \"q\" \\ \u0001)"), std::string::npos);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["bad"], "\xEF\xBF\xBD\xEF\xBF\xBDok");
}

TEST_F(LogTest, NestedObjectsAndArrays) {
  logger("t").info("nested", kv("client", object(kv("ip", "10.0.0.7"), kv("port", 51234))),
                   kv("tags", array("a", 2, true)), kv("empty", object()));
  const auto j = last();
  EXPECT_EQ(j["client"]["ip"], "10.0.0.7");
  EXPECT_EQ(j["client"]["port"], 51234);
  EXPECT_EQ(j["tags"], nlohmann::json::parse(R"(["a",2,true])"));
  EXPECT_EQ(j["empty"], nlohmann::json::object());
}

TEST_F(LogTest, ErrorFieldIsAnObjectWithCodeCategorySeverityMessageDetailsCauseAndWhere) {
  const keel::error e = keel::error(codes::database_error, "insert failed")
                            .with_detail("table", "orders")
                            .with_cause(keel::error(codes::timeout, "socket timed out"));
  logger("t").error("write failed", kv("error", e));
  const auto j = last();
  const auto& ej = j["error"];
  EXPECT_EQ(ej["code"], "DATABASE_ERROR");
  EXPECT_EQ(ej["category"], "systemic");
  EXPECT_EQ(ej["severity"], "high");
  EXPECT_EQ(ej["message"], "insert failed");
  EXPECT_EQ(ej["details"]["table"], "orders");
  EXPECT_EQ(ej["cause"]["code"], "TIMEOUT");
  EXPECT_TRUE(ej["where"]["line"].is_number());
}

TEST_F(LogTest, ServiceVersionAndEnvironmentFollowTheMessage) {
  reconfigure({.service = "keeld", .version = "0.1.0", .environment = "test"});
  logger("t").info("m", kv("k", 1));
  poll();
  EXPECT_NE(sink_->lines.back().find(
                R"("message":"m","service":"keeld","version":"0.1.0","environment":"test","k":1)"),
            std::string::npos);
}

TEST_F(LogTest, RequestContextIdsAreAddedAutomatically) {
  const auto trace =
      trace_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(trace.has_value());
  context_scope scope(request_context{.request_id = *request_id::parse("req-7"),
                                      .trace = *trace,
                                      .user_id = "u-42",
                                      .fields = {{"tenant", "acme"}}});
  logger("t").info("in request", kv("k", 1));
  poll();
  EXPECT_NE(
      sink_->lines.back().find(
          R"("message":"in request","request_id":"req-7","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","user_id":"u-42","tenant":"acme","k":1)"),
      std::string::npos);
}

// A field may not duplicate or shadow a member the line has of its own (a
// log store keeping the last of two "level" members would file the line
// under the field's value): it is renamed "fields.<name>", as logrus does.
// A name the line does not use stays as it is.
TEST_F(LogTest, FieldsNamedLikeTheLinesOwnMembersAreRenamed) {
  reconfigure({.service = "keeld"});
  logger("t").info("real", kv("message", "fake"), kv("level", "debug"), kv("service", "other"),
                   kv("version", 2), kv("request_id", "r-1"));
  poll();
  const std::string line = sink_->lines.back();
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["message"], "real");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["service"], "keeld");
  EXPECT_EQ(j["fields.message"], "fake");
  EXPECT_EQ(j["fields.level"], "debug");
  EXPECT_EQ(j["fields.service"], "other");
  EXPECT_EQ(j["version"], 2);         // no version configured: not taken
  EXPECT_EQ(j["request_id"], "r-1");  // no request context: not taken
  EXPECT_EQ(line.find("\"message\":"), line.rfind("\"message\":")) << line;

  context_scope scope(
      request_context{.request_id = *request_id::parse("req-7"), .fields = {{"level", "ctx"}}});
  logger("t").info("in request", kv("request_id", "r-2"));
  const auto in_request = last();
  EXPECT_EQ(in_request["request_id"], "req-7");
  EXPECT_EQ(in_request["fields.request_id"], "r-2");
  EXPECT_EQ(in_request["fields.level"], "ctx");
  EXPECT_EQ(in_request["level"], "info");

  logger("t").with(kv("logger", "bound")).info("bound");
  const auto bound = last();
  EXPECT_EQ(bound["logger"], "t");
  EXPECT_EQ(bound["fields.logger"], "bound");
}

TEST_F(LogTest, NoContextNoIds) {
  logger("t").info("outside");
  const auto j = last();
  EXPECT_FALSE(j.contains("request_id"));
  EXPECT_FALSE(j.contains("trace_id"));
}

TEST_F(LogTest, SourceLocationOnWarnAndAboveByDefault) {
  logger("t").info("no source");
  EXPECT_FALSE(last().contains("source"));
  const int line = __LINE__ + 1;
  logger("t").warn("with source");
  const auto j = last();
  EXPECT_EQ(j["source"]["line"], line);
  EXPECT_NE(j["source"]["file"].get<std::string>().find("logger_test.cpp"), std::string::npos);
  EXPECT_NE(j["source"]["function"].get<std::string>().find("TestBody"), std::string::npos);
}

TEST_F(LogTest, SourceLocationAlwaysOrNever) {
  reconfigure({.source = source_mode::always});
  logger("t").debug("x");
  logger("t").info("y");
  EXPECT_TRUE(last().contains("source"));
  reconfigure({.source = source_mode::never});
  logger("t").critical("z");
  EXPECT_FALSE(last().contains("source"));
}

TEST_F(LogTest, SecretsInMessageAndStringFieldsAreRedacted) {
  logger("t").info("login password=hunter2 ok", kv("auth", "Bearer abc.def.ghi"));
  poll();
  const std::string& line = sink_->lines.back();
  EXPECT_EQ(line.find("hunter2"), std::string::npos);
  EXPECT_EQ(line.find("abc.def.ghi"), std::string::npos);
  EXPECT_NE(line.find("[REDACTED]"), std::string::npos);
}

TEST_F(LogTest, ValuesOfSensitiveKeysAreMaskedWhatEverTheirType) {
  logger("t").info("m", kv("password", "x"), kv("api_key", 12345), kv("user", "bob"));
  const auto j = last();
  EXPECT_EQ(j["password"], "[REDACTED]");
  EXPECT_EQ(j["api_key"], "[REDACTED]");
  EXPECT_EQ(j["user"], "bob");
}

TEST_F(LogTest, ConfiguredRedactorAddsPatternsAndFieldNames) {
  reconfigure({.redactor = std::make_shared<const redactor>(
                   redactor_config{.patterns = {R"(acct-\d{6})"}, .field_names = {"iban"}})});
  logger("t").info("moved acct-123456", kv("iban", "DE00"));
  const auto j = last();
  EXPECT_EQ(j["message"], "moved [REDACTED]");
  EXPECT_EQ(j["iban"], "[REDACTED]");
}

TEST_F(LogTest, RedactionCanBeTurnedOff) {
  reconfigure({.redact = false});
  logger("t").info("password=hunter2", kv("password", "x"));
  const auto j = last();
  EXPECT_EQ(j["message"], "password=hunter2");
  EXPECT_EQ(j["password"], "x");
}

TEST_F(LogTest, LinesBelowTheLoggerLevelAreDiscarded) {
  logger log("lvl");
  log.debug("hidden");
  log.info("shown");
  poll();
  ASSERT_EQ(sink_->lines.size(), 1u);
  EXPECT_FALSE(log.enabled(level::debug));
  EXPECT_TRUE(log.enabled(level::info));
}

TEST_F(LogTest, SetLevelAppliesToDescendantsAndTheMostSpecificWins) {
  set_level("http", level::debug);
  set_level("http.access", level::error);
  EXPECT_EQ(effective_level("http"), level::debug);
  EXPECT_EQ(effective_level("http.router"), level::debug);
  EXPECT_EQ(effective_level("http.access"), level::error);
  EXPECT_EQ(effective_level("http.access.slow"), level::error);
  EXPECT_EQ(effective_level("httpx"), level::info);
  logger("http.router").debug("shown");
  logger("http.access").warn("hidden");
  EXPECT_EQ(count(), 1u);
}

TEST_F(LogTest, ClearLevelInheritsFromTheParentAgain) {
  logger child("db.pool");
  set_level("db", level::warn);
  set_level("db.pool", level::trace);
  EXPECT_TRUE(child.enabled(level::trace));
  clear_level("db.pool");
  EXPECT_FALSE(child.enabled(level::info));
  EXPECT_TRUE(child.enabled(level::warn));
}

TEST_F(LogTest, ConfigureSetsDefaultAndPerLoggerLevels) {
  reconfigure(
      {.default_level = level::warn, .loggers = {{.name = "chatty", .min_level = level::trace}}});
  EXPECT_FALSE(logger("quiet").enabled(level::info));
  EXPECT_TRUE(logger("chatty.sub").enabled(level::trace));
}

TEST_F(LogTest, OffSilencesALogger) {
  set_level("mute", level::off);
  logger("mute").critical("nothing");
  EXPECT_EQ(count(), 0u);
}

TEST_F(LogTest, LoggersAreListedWithTheirLevels) {
  logger("listed.one");
  set_level("listed", level::error);
  bool found = false;
  for (const auto& l : loggers()) {
    if (l.name == "listed.one") {
      found = true;
      EXPECT_EQ(l.effective, level::error);
      EXPECT_FALSE(l.explicit_level.has_value());
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(LogTest, LoggerNamesAreSanitized) {
  logger log("bad name/\"x\"");
  EXPECT_EQ(log.name(), "bad_name__x_");
  EXPECT_EQ(logger(std::string(300, 'a')).name().size(), 128u);
}

TEST_F(LogTest, ChildLoggerAddsBoundFieldsToEveryLine) {
  logger parent("deploy");
  const logger child = parent.with(kv("service", "api"), kv("attempt", 2));
  const logger grandchild = child.with(kv("step", "build"));
  child.info("one");
  grandchild.info("two", kv("k", true));
  parent.info("three");
  poll();
  ASSERT_EQ(sink_->lines.size(), 3u);
  EXPECT_NE(sink_->lines[0].find(R"("message":"one","service":"api","attempt":2})"),
            std::string::npos);
  EXPECT_NE(sink_->lines[1].find(
                R"("message":"two","service":"api","attempt":2,"step":"build","k":true})"),
            std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(sink_->lines[2]).contains("service"));
}

TEST_F(LogTest, BoundFieldsAreRedacted) {
  const logger child = logger("b").with(kv("token", "s3cret"), kv("note", "password=abc"));
  child.info("x");
  const auto j = last();
  EXPECT_EQ(j["token"], "[REDACTED]");
  EXPECT_EQ(j["note"], "password=[REDACTED]");
}

TEST_F(LogTest, ChildSharesTheParentsLevel) {
  const logger child = logger("shared").with(kv("a", 1));
  set_level("shared", level::error);
  EXPECT_FALSE(child.enabled(level::warn));
}

TEST_F(LogTest, SamplingPassesTheFirstNThenOneInM) {
  set_sampling("sampled", {.first = 3, .thereafter = 4});
  logger log("sampled");
  for (int i = 0; i < 15; ++i)
    log.info("x", kv("i", i));
  poll();
  std::vector<int> kept;
  for (std::size_t i = 0; i < sink_->lines.size(); ++i)
    kept.push_back(sink_->json(i)["i"].get<int>());
  EXPECT_EQ(kept, (std::vector<int>{0, 1, 2, 6, 10, 14}));
}

TEST_F(LogTest, SamplingStartsOverEachSecond) {
  set_sampling("persec", {.first = 2, .thereafter = 0});
  logger log("persec");
  for (int i = 0; i < 5; ++i)
    log.info("x");
  clock_.advance(1s);
  for (int i = 0; i < 5; ++i)
    log.info("x");
  EXPECT_EQ(count(), 4u);
}

TEST_F(LogTest, WarnAndAboveAreNeverSampled) {
  set_sampling("strict", {.first = 1, .thereafter = 0});
  logger log("strict");
  for (int i = 0; i < 5; ++i) {
    log.warn("w");
    log.error("e");
    log.critical("c");
  }
  EXPECT_EQ(count(), 15u);
}

TEST_F(LogTest, SampledOutLinesAreCounted) {
  set_sampling("counted", {.first = 1, .thereafter = 0});
  logger log("counted");
  const auto before = stats().sampled_out;
  for (int i = 0; i < 10; ++i)
    log.debug("d");
  set_level("counted", level::trace);
  for (int i = 0; i < 10; ++i)
    log.debug("d");
  EXPECT_EQ(count(), 1u);  // the level was info for the first ten: not sampled, filtered
  EXPECT_EQ(stats().sampled_out - before, 9u);
}

TEST_F(LogTest, ConsoleFormatIsHumanReadable) {
  auto console = std::make_shared<memory_sink>(format::console);
  reconfigure({.sinks = {console}});
  logger("http").warn("slow request", kv("path", "/a b"), kv("ms", 12));
  poll();
  ASSERT_EQ(console->lines.size(), 1u);
  EXPECT_EQ(console->lines[0],
            "2026-11-18T11:06:40.123456Z WARN  http: slow request "
            "path=\"/a b\" ms=12");
}

TEST_F(LogTest, ConsoleColourOnlyWhenAsked) {
  auto colour = std::make_shared<memory_sink>(format::console_color);
  reconfigure({.sinks = {colour}});
  logger("c").error("red");
  poll();
  EXPECT_NE(colour->lines[0].find("\x1b[31mERROR\x1b[0m"), std::string::npos);
  // A stream sink on a file (not a TTY) in automatic mode writes no colour.
  testing::temp_dir dir;
  const int fd = ::open(dir.file("out").c_str(), O_WRONLY | O_CREAT, 0600);
  stream_sink s(fd, {.format = format::console});
  EXPECT_EQ(s.formats(), format_bit(format::console));
  ::close(fd);
}

TEST_F(LogTest, DropPolicyCountsDroppedLinesAndReportsThemOncePerInterval) {
  reconfigure({.on_full = queue_full_policy::drop,
               .thread_buffer_bytes = 64 * 1024,
               .drop_report_interval = 1s});
  const std::string big(1000, 'x');
  // A thread of its own, so that its ring buffer has the configured size.
  std::thread([&] {
    logger log("flood");
    for (int i = 0; i < 200; ++i)
      log.info("flood", kv("pad", big));
  }).join();
  poll();
  const std::size_t written = sink_->lines.size();
  EXPECT_LT(written, 200u);
  EXPECT_GT(written, 0u);
  EXPECT_EQ(stats().dropped >= 200 - written, true);
  clock_.advance(1s);
  poll();
  const auto j = nlohmann::json::parse(sink_->lines.back());
  EXPECT_EQ(j["message"], "log lines dropped: queue full");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["logger"], "keel.log");
  EXPECT_EQ(j["dropped"].get<std::size_t>(), 200 - written);
  clock_.advance(1s);
  poll();
  EXPECT_EQ(sink_->lines.size(), written + 1);  // nothing new dropped: no new report
}

TEST_F(LogTest, OversizeLinesAreDroppedAndCounted) {
  reconfigure({.thread_buffer_bytes = 64 * 1024});
  const auto before = stats().dropped;
  std::thread([] {
    const std::string big(30 * 1024, 'y');
    logger("big").info("m", kv("a", big), kv("b", big));
  }).join();
  EXPECT_EQ(count(), 0u);
  EXPECT_EQ(stats().dropped - before, 1u);
}

TEST_F(LogTest, LongStringsAreTruncated) {
  const std::string big(40 * 1024, 'z');
  logger("t").info("m", kv("s", big));
  EXPECT_EQ(last()["s"].get<std::string>().size(), 32u * 1024);
}

TEST_F(LogTest, FlushInManualModeWritesAndCommits) {
  logger("t").info("a");
  flush();
  EXPECT_EQ(sink_->lines.size(), 1u);
}

TEST_F(LogTest, ConfigureRejectsInvalidValues) {
  EXPECT_FALSE(configure({.thread_buffer_bytes = 10}).has_value());
  EXPECT_FALSE(configure({.batch_bytes = 1}).has_value());
  EXPECT_FALSE(configure({.sinks = {nullptr}}).has_value());
  EXPECT_FALSE(configure({.idle_sleep = std::chrono::microseconds(0)}).has_value());
}

// The block policy on the real backend thread: a call that finds its
// buffer full waits for the backend up to max_block, then drops its line
// and counts it; what was queued is written once the sink moves again.
// stats() answers meanwhile (it once waited for the stuck sink, and so
// would a /metrics scrape).
class gated_sink final : public sink {
 public:
  gated_sink() : sink({.name = "gated"}) {}
  std::promise<void> entered;
  std::promise<void> open;
  std::atomic<int> fills{0};
  std::atomic<int> firsts{0};

 protected:
  int write_out(std::string_view text) override {
    if (!entered_once_.exchange(true)) {
      entered.set_value();
      opened_.wait();
    }
    for (auto at = text.find("\"fill\""); at != std::string_view::npos;
         at = text.find("\"fill\"", at + 1))
      ++fills;
    if (text.find("\"first\"") != std::string_view::npos) ++firsts;
    return 0;
  }

 private:
  std::atomic<bool> entered_once_{false};
  std::shared_future<void> opened_ = open.get_future().share();
};

TEST(LogBlockPolicy, FullBufferWaitsUpToMaxBlockThenDrops) {
  auto gate = std::make_shared<gated_sink>();
  ASSERT_TRUE(configure({.sinks = {gate},
                         .on_full = queue_full_policy::block,
                         .max_block = 100ms,
                         .thread_buffer_bytes = 64 * 1024,
                         .install_signal_handlers = false}));
  const std::string pad(1000, 'x');
  int queued = 0;
  std::chrono::steady_clock::duration dropping_call{};
  std::uint64_t dropped = 0;
  std::thread([&] {
    logger log("blocked");
    log.info("first");
    gate->entered.get_future().wait();  // the backend is held in the sink
    const std::uint64_t before = stats().dropped;
    for (int i = 0; i < 2'000 && stats().dropped == before; ++i) {
      const auto start = std::chrono::steady_clock::now();
      log.info("fill", kv("pad", pad));
      dropping_call = std::chrono::steady_clock::now() - start;
      ++queued;
    }
    dropped = stats().dropped - before;
  }).join();
  EXPECT_EQ(dropped, 1u);           // the one call that waited
  EXPECT_GE(dropping_call, 100ms);  // max_block, then the drop
  EXPECT_LT(dropping_call, 2s);     // not for ever
  EXPECT_GT(queued, 10);            // the buffer took lines before it was full
  gate->open.set_value();
  flush();
  EXPECT_EQ(gate->firsts.load(), 1);
  EXPECT_EQ(gate->fills.load(), queued - 1);  // everything but the dropped line
  ASSERT_TRUE(configure({.mode = backend_mode::manual}).has_value());
}

}  // namespace
}  // namespace keel::log
