// process_collector on procfs fixtures and on the real /proc; build info.
#include "keel/metrics/process_collector.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "keel/core/error.hpp"
#include "keel/metrics/exposition.hpp"
#include "metrics/internal/procfs.hpp"

namespace keel::metrics {
namespace {

// Records what a collector produced, keyed by family name.
class recording_sink final : public metric_sink {
 public:
  struct fam {
    metric_type type = metric_type::gauge;
    std::string help;
    std::vector<std::pair<std::string, double>> samples;
  };
  std::map<std::string, fam> families;

  void begin_family(const family_info& i) override {
    cur_ = &families[std::string(i.name)];
    cur_->type = i.type;
    cur_->help = i.help;
  }
  void sample(std::string_view labels, double v) override {
    cur_->samples.emplace_back(std::string(labels), v);
  }
  void histogram(std::string_view, std::span<const double>, std::span<const std::uint64_t>,
                 double) override {}
  void end_family() override { cur_ = nullptr; }

 private:
  fam* cur_ = nullptr;
};

// A pid whose command name holds spaces and parentheses.
constexpr const char* kStat =
    "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 1000 0 0 0 "
    "250 150 0 0 20 0 7 0 12345 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 "
    "0 0 0 0 0 0\n";
constexpr const char* kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            1024                 524288               files     \n";

TEST(ProcStat, ParsesFieldsAfterTheCommandName) {
  auto st = internal::parse_proc_stat(kStat);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->utime_ticks, 250u);
  EXPECT_EQ(st->stime_ticks, 150u);
  EXPECT_EQ(st->threads, 7);
  EXPECT_EQ(st->start_ticks, 12345u);
  EXPECT_EQ(st->vsize_bytes, 104857600u);
  EXPECT_EQ(st->rss_pages, 2560);
}

TEST(ProcStat, RejectsTruncatedOrGarbledText) {
  EXPECT_FALSE(internal::parse_proc_stat(""));
  EXPECT_FALSE(internal::parse_proc_stat("1 (x) S 1 2 3"));
  EXPECT_FALSE(internal::parse_proc_stat("no parenthesis at all"));
  std::string bad = kStat;
  bad.replace(bad.find(" 250 "), 5, " 2x0 ");
  EXPECT_FALSE(internal::parse_proc_stat(bad));
}

TEST(ProcLimits, ReadsSoftMaxOpenFiles) {
  EXPECT_EQ(internal::parse_max_open_files(kLimits), 1024.0);
  EXPECT_TRUE(
      std::isinf(*internal::parse_max_open_files("Max open files  unlimited unlimited files")));
  EXPECT_FALSE(internal::parse_max_open_files("Max cpu time 1 1 seconds"));
}

TEST(ProcBootTime, ReadsBtimeLine) {
  EXPECT_EQ(internal::parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"),
            1700000000);
  EXPECT_FALSE(internal::parse_boot_time("cpu 1 2 3\n"));
}

class ProcFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("keel_proc_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(root_ / "4242" / "fd");
    write("4242/stat", kStat);
    write("4242/limits", kLimits);
    write("stat", "cpu 1 2 3\nbtime 1700000000\n");
    for (int i = 0; i < 5; ++i)
      write("4242/fd/" + std::to_string(i), "");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ / rel) << text;
  }
  std::filesystem::path root_;
};

TEST_F(ProcFixture, ExposesTheStandardProcessMetrics) {
  process_collector pc({.proc_root = root_.string(), .pid = "4242"});
  recording_sink s;
  pc.collect(s);
  const double tps = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(s.families["process_cpu_seconds"].type, metric_type::counter);
  EXPECT_DOUBLE_EQ(s.families["process_cpu_seconds"].samples.at(0).second, 400 / tps);
  EXPECT_DOUBLE_EQ(s.families["process_resident_memory_bytes"].samples.at(0).second, 2560 * page);
  EXPECT_DOUBLE_EQ(s.families["process_virtual_memory_bytes"].samples.at(0).second, 104857600);
  EXPECT_DOUBLE_EQ(s.families["process_open_fds"].samples.at(0).second, 5);
  EXPECT_DOUBLE_EQ(s.families["process_max_fds"].samples.at(0).second, 1024);
  EXPECT_DOUBLE_EQ(s.families["process_start_time_seconds"].samples.at(0).second,
                   1700000000 + 12345 / tps);
  EXPECT_DOUBLE_EQ(s.families["process_threads"].samples.at(0).second, 7);
  EXPECT_EQ(s.families.size(), pc.describe().size());
}

TEST_F(ProcFixture, LeavesOutWhatItCannotRead) {
  std::filesystem::remove(root_ / "4242" / "limits");
  std::filesystem::remove(root_ / "stat");
  process_collector pc({.proc_root = root_.string(), .pid = "4242"});
  recording_sink s;
  pc.collect(s);
  EXPECT_FALSE(s.families.contains("process_max_fds"));
  EXPECT_FALSE(s.families.contains("process_start_time_seconds"));
  EXPECT_TRUE(s.families.contains("process_cpu_seconds"));
}

TEST(ProcessCollector, MissingProcfsYieldsNothingAndDoesNotThrow) {
  process_collector pc({.proc_root = "/nonexistent/proc"});
  recording_sink s;
  pc.collect(s);
  EXPECT_TRUE(s.families.empty());
}

TEST(ProcessCollector, ReadsThisProcessFromRealProc) {
  process_collector pc;
  recording_sink s;
  pc.collect(s);
  ASSERT_EQ(s.families.size(), 7u);
  EXPECT_GT(s.families["process_resident_memory_bytes"].samples.at(0).second, 0);
  EXPECT_GE(s.families["process_open_fds"].samples.at(0).second, 3);
  EXPECT_GE(s.families["process_threads"].samples.at(0).second, 1);
  const double start = s.families["process_start_time_seconds"].samples.at(0).second;
  const double now = static_cast<double>(::time(nullptr));
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 24 * 3600 * 365.0);
}

TEST(BuildInfo, DefaultsToKeelVersionAndCompiler) {
  build_info_collector b;
  const std::string text = expose(b);
  EXPECT_NE(text.find("# TYPE keel_build_info gauge\n"), std::string::npos);
  EXPECT_NE(text.find("keel_build_info{version=\""), std::string::npos);
  EXPECT_NE(text.find(",compiler=\""), std::string::npos);
  EXPECT_NE(text.find("} 1\n"), std::string::npos);
}

TEST(BuildInfo, TakesNameAndLabels) {
  build_info_collector b(
      {.name = "keeld_build_info", .labels = {{"version", "1.2.3"}, {"revision", "abc"}}});
  EXPECT_EQ(b.describe(), std::vector<std::string>{"keeld_build_info"});
  EXPECT_NE(expose(b).find("keeld_build_info{version=\"1.2.3\",revision=\"abc\"} 1\n"),
            std::string::npos);
}

TEST(BuildInfo, RejectsInvalidNames) {
  EXPECT_THROW((build_info_collector(build_info_options{.name = "bad-name"})), keel::exception);
  build_info_options reserved_label;
  reserved_label.labels = {{"le", "x"}};
  EXPECT_THROW(build_info_collector{reserved_label}, keel::exception);
}

}  // namespace
}  // namespace keel::metrics
