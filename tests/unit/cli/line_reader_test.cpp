#include "logq/line_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace keel::cli::logq {
namespace {

using keel::cli::testing::temp_dir;
using keel::cli::testing::write_gzip;

struct read_result {
  std::vector<std::string> lines;
  int oversized = 0;
  bool error = false;
};

read_result read_all(const std::string& path, std::size_t max_line = 1 << 20) {
  read_result r;
  auto src = open_source(path);
  EXPECT_TRUE(src) << path;
  if (!src) return r;
  line_reader in(std::move(*src), {.max_line_bytes = max_line});
  std::string_view line;
  while (true) {
    const auto st = in.next(line);
    if (st == read_status::line)
      r.lines.emplace_back(line);
    else if (st == read_status::oversized)
      ++r.oversized;
    else {
      r.error = st == read_status::error;
      break;
    }
  }
  return r;
}

TEST(LineReader, SplitsLinesAndStripsCarriageReturns) {
  temp_dir d;
  const auto r = read_all(d.write("a.log", "one\r\ntwo\n\nthree"));
  EXPECT_EQ(r.lines, (std::vector<std::string>{"one", "two", "", "three"}));
}

TEST(LineReader, ReadsGzipByContentNotName) {
  temp_dir d;
  const auto r = read_all(write_gzip(d, "rotated.1", "{\"a\":1}\n{\"a\":2}\n"));
  EXPECT_EQ(r.lines, (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}"}));
}

TEST(LineReader, ReadsLinesLongerThanOneBuffer) {
  temp_dir d;
  const std::string big(700 * 1024, 'x');
  const auto r = read_all(d.write("big.log", "a\n" + big + "\nb\n"), 1 << 20);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[1], big);
}

TEST(LineReader, DropsOversizedLinesWithoutBufferingThem) {
  temp_dir d;
  const std::string huge(3 << 20, 'x');
  const auto r = read_all(d.write("huge.log", "a\n" + huge + "\nb\n" + huge), 4096);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.oversized, 2);
}

TEST(LineReader, ReportsCorruptGzipAsAnError) {
  temp_dir d;
  std::string gz;
  {
    const std::string p = write_gzip(d, "x.gz", std::string(100000, 'a') + "\n");
    gz.resize(std::filesystem::file_size(p));
    std::ifstream(p, std::ios::binary).read(gz.data(), static_cast<std::streamsize>(gz.size()));
  }
  gz.resize(gz.size() / 2);
  for (std::size_t i = 20; i < gz.size(); i += 7)
    gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  const auto r = read_all(d.write("bad.gz", gz));
  EXPECT_TRUE(r.error);
}

TEST(LineReader, MissingFileIsAnError) {
  auto src = open_source("/nonexistent/keel/file.log");
  ASSERT_FALSE(src);
  EXPECT_NE(src.error().message().find("/nonexistent/keel/file.log"), std::string::npos);
}

TEST(LineReader, ListsRotatedSiblingsOldestFirst) {
  temp_dir d;
  d.write("app.log", "");
  d.write("app.log.1", "");
  write_gzip(d, "app.log.2.gz", "");
  d.write("app.log.10", "");
  d.write("app.logger", "");  // another file, not a rotation
  d.write("other.log.1", "");
  namespace fs = std::filesystem;
  const auto t = fs::file_time_type::clock::now();
  fs::last_write_time(d.file("app.log.10"), t - std::chrono::hours(3));
  fs::last_write_time(d.file("app.log.2.gz"), t - std::chrono::hours(2));
  fs::last_write_time(d.file("app.log.1"), t - std::chrono::hours(1));
  EXPECT_EQ(with_rotated(d.file("app.log")),
            (std::vector<std::string>{d.file("app.log.10"), d.file("app.log.2.gz"),
                                      d.file("app.log.1"), d.file("app.log")}));
}

TEST(LineReader, RotatedSiblingsWithEqualTimesOrderByNumber) {
  temp_dir d;
  for (const char* n : {"s.log", "s.log.1", "s.log.2", "s.log.3"})
    d.write(n, "");
  namespace fs = std::filesystem;
  const auto t = fs::file_time_type::clock::now();
  for (const char* n : {"s.log.1", "s.log.2", "s.log.3"})
    fs::last_write_time(d.file(n), t);
  EXPECT_EQ(with_rotated(d.file("s.log")),
            (std::vector<std::string>{d.file("s.log.3"), d.file("s.log.2"), d.file("s.log.1"),
                                      d.file("s.log")}));
}

}  // namespace
}  // namespace keel::cli::logq
