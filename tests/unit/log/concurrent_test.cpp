// keel::log on several threads at once, with the real backend thread: the
// stress test of the issue, flush from any thread, thread exit, level
// changes while logging. Run under ThreadSanitizer by `make test`.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/log/log.hpp"
#include "log_test_support.hpp"

namespace keel::log {
namespace {

using testing::read_lines;
using testing::temp_dir;

template <class F>
void on_threads(int n, F f) {
  std::vector<std::thread> ts;
  for (int i = 0; i < n; ++i)
    ts.emplace_back(f, i);
  for (auto& t : ts)
    t.join();
}

log_config base(std::shared_ptr<sink> s) {
  return {.sinks = {std::move(s)}, .install_signal_handlers = false};
}

// Sanitized builds run ~20x slower: the same test at a tenth of the volume.
#if defined(KEEL_SANITIZED)
constexpr int kStressLines = 100'000;
#else
constexpr int kStressLines = 1'000'000;
#endif

TEST(Concurrent, FourThreadsWithSizeRotationWriteEveryLineExactlyOnceUnsplit) {
  temp_dir dir;
  const std::string path = dir.file("stress.log");
  auto s =
      rotating_file_sink::create({.path = path, .max_bytes = 4u << 20, .max_files = 1000}).value();
  log_config c = base(s);
  c.thread_buffer_bytes = 256 * 1024;  // small enough that producers do wait on the backend
  ASSERT_TRUE(configure(c).has_value());
  const auto dropped_before = stats().dropped;
  on_threads(4, [](int t) {
    logger log("stress");
    for (int i = 0; i < kStressLines; ++i)
      log.info("stress line", kv("t", t), kv("i", i), kv("pad", "abcdefghijklmnopqrstuvwxyz"));
  });
  flush();
  EXPECT_EQ(stats().dropped, dropped_before);
  EXPECT_GT(s->rotations(), 2u);

  std::vector<std::vector<std::uint8_t>> seen(4, std::vector<std::uint8_t>(kStressLines, 0));
  std::size_t lines = 0, files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_LE(std::filesystem::file_size(entry.path()), 4u << 20);
    for (const auto& line : read_lines(entry.path().string())) {
      ++lines;
      const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(j.is_discarded()) << line;
      ASSERT_EQ(j["message"], "stress line");
      const int t = j["t"].get<int>();
      const int i = j["i"].get<int>();
      ASSERT_TRUE(t >= 0 && t < 4 && i >= 0 && i < kStressLines);
      ++seen[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)];
    }
  }
  EXPECT_EQ(lines, 4u * kStressLines);
  EXPECT_EQ(files, s->rotations() + 1);
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < kStressLines; ++i) {
      ASSERT_EQ(seen[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)], 1)
          << "thread " << t << " line " << i;
    }
  }
}

TEST(Concurrent, FlushFromAnyThreadWritesEveryLineLoggedBeforeIt) {
  temp_dir dir;
  const std::string path = dir.file("flush.log");
  ASSERT_TRUE(configure(base(file_sink::create({.path = path}).value())).has_value());
  std::atomic<int> failures{0};
  on_threads(3, [&](int t) {
    logger log("flush");
    for (int round = 0; round < 20; ++round) {
      log.info("before flush", kv("t", t), kv("round", round));
      flush();
      bool found = false;
      for (const auto& line : read_lines(path)) {
        // The backend may be appending another thread's batch while this
        // one reads: the last line can be cut short. Only this thread's
        // line, written before its flush() returned, must be whole.
        const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (j.is_object() && j["t"] == t && j["round"] == round) found = true;
      }
      if (!found) ++failures;
    }
  });
  EXPECT_EQ(failures.load(), 0);
}

TEST(Concurrent, BuffersOfExitedThreadsAreDrainedAndFreed) {
  temp_dir dir;
  const std::string path = dir.file("exit.log");
  ASSERT_TRUE(configure(base(file_sink::create({.path = path}).value())).has_value());
  on_threads(16, [](int t) {
    logger log("short.lived");
    for (int i = 0; i < 10; ++i)
      log.info("bye", kv("t", t), kv("i", i));
  });
  flush();
  flush();  // the buffer of a drained, exited thread goes on the pass after
  EXPECT_EQ(read_lines(path).size(), 160u);
  EXPECT_LE(stats().thread_buffers, 2u);  // this thread's, and none of the exited ones
}

TEST(Concurrent, LevelsAndSamplingChangeWhileOtherThreadsLog) {
  temp_dir dir;
  ASSERT_TRUE(
      configure(base(file_sink::create({.path = dir.file("lvl.log")}).value())).has_value());
  std::atomic<bool> stop{false};
  std::thread changer([&] {
    for (int i = 0; !stop.load(); ++i) {
      set_level("busy", i % 2 ? level::debug : level::warn);
      set_sampling("busy", {.first = static_cast<std::uint32_t>(1 + i % 5), .thereafter = 3});
    }
  });
  on_threads(3, [](int t) {
    logger log("busy.worker");
    for (int i = 0; i < 20'000; ++i)
      log.debug("d", kv("t", t));
  });
  stop = true;
  changer.join();
  flush();
  clear_sampling("busy");
  clear_level("busy");
  EXPECT_EQ(effective_level("busy.worker"), level::info);
}

TEST(Concurrent, ChildLoggersAndContextsFromManyThreads) {
  temp_dir dir;
  const std::string path = dir.file("ctx.log");
  ASSERT_TRUE(configure(base(file_sink::create({.path = path}).value())).has_value());
  on_threads(4, [](int t) {
    const logger child = logger("ctx").with(kv("worker", t));
    context_scope scope(request_context{.user_id = "u-" + std::to_string(t)});
    for (int i = 0; i < 1000; ++i)
      child.info("in request", kv("i", i));
  });
  flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 4000u);
  for (const auto& l : lines) {
    const auto j = nlohmann::json::parse(l);
    EXPECT_EQ(j["user_id"], "u-" + std::to_string(j["worker"].get<int>()));
  }
}

}  // namespace
}  // namespace keel::log
