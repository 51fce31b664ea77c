// The follower against real files being appended to, rotated by rename and
// truncated, while it runs on another thread. Synchronisation is by bounded
// polling for the expected output, never by sleeping a fixed time.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "logq/line_reader.hpp"
#include "logq/query.hpp"
#include "temp_dir.hpp"

namespace keel::cli::logq {
namespace {

using keel::cli::testing::temp_dir;
using keel::cli::testing::write_gzip;
using namespace std::chrono_literals;

class collected {
 public:
  void add(std::string_view s) {
    std::lock_guard lock(mu_);
    lines_.emplace_back(s);
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }
  // Polls until `n` lines are in (bounded: 10 s).
  bool wait_for(std::size_t n) const {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (lines().size() >= n) return true;
      std::this_thread::sleep_for(2ms);
    }
    return false;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

void append(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

TEST(Follower, TailsAGrowingFile) {
  temp_dir d;
  const auto path = d.write("app.log", "one\n");
  collected got;
  std::atomic<bool> stop{false};
  follower f(path, {.poll_interval = 5ms});
  std::thread t([&] {
    auto r =
        f.run([&](std::string_view l, read_status) { got.add(l); }, [&] { return stop.load(); });
    EXPECT_TRUE(r);
  });
  ASSERT_TRUE(got.wait_for(1));
  append(path, "two\nthr");
  ASSERT_TRUE(got.wait_for(2));
  append(path, "ee\n");  // a line written in two pieces comes out whole
  ASSERT_TRUE(got.wait_for(3));
  stop = true;
  t.join();
  EXPECT_EQ(got.lines(), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(Follower, FollowsARenameRotationWithoutLosingLines) {
  temp_dir d;
  const auto path = d.write("app.log", "a1\n");
  collected got;
  std::atomic<bool> stop{false};
  follower f(path, {.poll_interval = 5ms});
  std::thread t([&] {
    auto r =
        f.run([&](std::string_view l, read_status) { got.add(l); }, [&] { return stop.load(); });
    EXPECT_TRUE(r);
  });
  ASSERT_TRUE(got.wait_for(1));
  // The writer keeps its descriptor across the rename, as a logger does
  // until it reopens: lines written after the rename land in the old file.
  std::ofstream writer(path, std::ios::app | std::ios::binary);
  writer << "a2\n" << std::flush;
  std::filesystem::rename(path, d.file("app.log.1"));
  writer << "a3\n" << std::flush;
  writer.close();
  append(path, "b1\nb2\n");  // the new file
  ASSERT_TRUE(got.wait_for(5));
  append(path, "b3\n");
  ASSERT_TRUE(got.wait_for(6));
  stop = true;
  t.join();
  EXPECT_EQ(got.lines(), (std::vector<std::string>{"a1", "a2", "a3", "b1", "b2", "b3"}));
  EXPECT_EQ(f.rotations(), 1u);
}

TEST(Follower, FollowsSeveralRotationsInARow) {
  temp_dir d;
  const auto path = d.write("app.log", "");
  collected got;
  std::atomic<bool> stop{false};
  follower f(path, {.poll_interval = 5ms});
  std::thread t([&] {
    auto r =
        f.run([&](std::string_view l, read_status) { got.add(l); }, [&] { return stop.load(); });
    EXPECT_TRUE(r);
  });
  std::vector<std::string> expected;
  for (int gen = 0; gen < 5; ++gen) {
    for (int i = 0; i < 3; ++i) {
      const std::string l = fmt::format("g{}-{}", gen, i);
      append(path, l + "\n");
      expected.push_back(l);
    }
    ASSERT_TRUE(got.wait_for(expected.size())) << gen;
    std::filesystem::rename(path, d.file(fmt::format("app.log.{}", gen)));
    append(path, "");  // the logger reopens: a new, empty file
  }
  stop = true;
  t.join();
  EXPECT_EQ(got.lines(), expected);
  EXPECT_GE(f.rotations(), 4u);
}

TEST(Follower, StartsOverAfterTruncation) {
  temp_dir d;
  const auto path = d.write("app.log", "old1\nold2\n");
  collected got;
  std::atomic<bool> stop{false};
  follower f(path, {.poll_interval = 5ms});
  std::thread t([&] {
    auto r =
        f.run([&](std::string_view l, read_status) { got.add(l); }, [&] { return stop.load(); });
    EXPECT_TRUE(r);
  });
  ASSERT_TRUE(got.wait_for(2));
  std::filesystem::resize_file(path, 0);  // copytruncate
  // Bounded polling until the follower has noticed the shrink.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (f.truncations() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(2ms);
  append(path, "new\n");
  ASSERT_TRUE(got.wait_for(3));
  stop = true;
  t.join();
  EXPECT_EQ(got.lines(), (std::vector<std::string>{"old1", "old2", "new"}));
}

TEST(Follower, WaitsForAFileThatDoesNotExistYet) {
  temp_dir d;
  const auto path = d.file("later.log");
  collected got;
  std::atomic<bool> stop{false};
  follower f(path, {.poll_interval = 5ms});
  std::thread t([&] {
    auto r =
        f.run([&](std::string_view l, read_status) { got.add(l); }, [&] { return stop.load(); });
    EXPECT_TRUE(r);
  });
  append(path, "hello\n");
  ASSERT_TRUE(got.wait_for(1));
  stop = true;
  t.join();
  EXPECT_EQ(got.lines(), (std::vector<std::string>{"hello"}));
}

TEST(LogqFollow, FiltersAcrossARotation) {
  temp_dir d;
  const auto path =
      d.write("app.log", "{\"level\":\"info\",\"n\":1}\n{\"level\":\"error\",\"n\":2}\n");
  std::mutex mu;
  std::string out;
  auto text = [&] {
    std::lock_guard lock(mu);
    return out;
  };
  std::atomic<bool> stop{false};
  std::thread t([&] {
    auto r = run_query(
        {.inputs = {path}, .expression = "level >= error", .follow = true, .poll_interval = 5ms},
        [&](std::string_view s) {
          std::lock_guard lock(mu);
          out += s;
        },
        stop);
    EXPECT_TRUE(r);
  });
  auto wait_text = [&](const std::string& want) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline && text() != want)
      std::this_thread::sleep_for(2ms);
    return text() == want;
  };
  ASSERT_TRUE(wait_text("{\"level\":\"error\",\"n\":2}\n"));
  std::filesystem::rename(path, d.file("app.log.1"));
  append(path, "{\"level\":\"debug\",\"n\":3}\nbroken\n{\"level\":\"critical\",\"n\":4}\n");
  EXPECT_TRUE(wait_text("{\"level\":\"error\",\"n\":2}\n{\"level\":\"critical\",\"n\":4}\n"));
  stop = true;
  t.join();
}

}  // namespace
}  // namespace keel::cli::logq
