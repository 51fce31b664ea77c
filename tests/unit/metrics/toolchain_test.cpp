// The output of a registry with every metric type, odd label values and the
// process and build-info collectors passes `promtool check metrics` (the
// Prometheus toolchain's own parser and linter) with no finding at all, and
// the OpenMetrics output passes the strict OpenMetrics parser of the
// reference Python client, giving back the exact label values put in.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "keel/metrics/exposition.hpp"
#include "keel/metrics/process_collector.hpp"
#include "keel/metrics/registry.hpp"

namespace keel::metrics {
namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

struct run_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `command` with `text` on its stdin (through a temporary file).
run_result run_with_input(const std::string& command, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto file = dir / ("keel_metrics_toolchain_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file, std::ios::binary);
    out << text;
  }
  const std::string cmd = command + " < '" + file.string() + "' 2>&1";
  run_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::filesystem::remove(file);
  return r;
}

run_result promtool_check(const std::string& text) {
  return run_with_input(std::string(kPromtool) + " check metrics", text);
}

constexpr const char* kPython = "/usr/bin/python3";

// Parses stdin with prometheus_client's parser for `format` ("openmetrics"
// or "text") and prints, one per line, the `note` and `path` label values
// of the http_requests family, as JSON strings.
std::string python_parse_command(const std::string& format) {
  const std::string module =
      format == "openmetrics" ? "prometheus_client.openmetrics.parser" : "prometheus_client.parser";
  return std::string(kPython) +
         " -c '"
         "import sys, json\n"
         "from " +
         module +
         " import text_string_to_metric_families as parse\n"
         "for f in parse(sys.stdin.buffer.read().decode(\"utf-8\")):\n"
         "  for s in f.samples:\n"
         "    if s.name == \"http_requests_total\":\n"
         "      print(json.dumps(s.labels[\"note\"]) + \" \" + json.dumps(s.labels[\"path\"]))\n"
         "'";
}

void fill(registry& reg) {
  auto* requests = *reg.add_counter({.name = "http_requests_total",
                                     .help = "HTTP requests with \"quotes\" and \\ in help.\nok",
                                     .labels = {"method", "path", "note"}});
  requests->labels("GET", "/", "plain").inc(10);
  requests->labels("POST", "/a\"b", "quote").inc();
  requests->labels("PUT", "C:\\temp\\x", "backslash").add(2.5);
  requests->labels("GET", "/multi\nline", "newline").inc(3);
  requests->labels("GET", "/gr\xc3\xbc\xc3\x9f/\xe2\x82\xac/\xf0\x9f\x98\x80", "utf8").inc();
  requests->labels("GET", "/bad\xff\xfe", "invalid utf8").inc();
  requests->labels("GET", "", "empty value").inc();
  requests->labels("GET", "{x=\"y\"} 1 # not a comment", "injection").inc();

  auto* bytes = *reg.add_counter({.name = "sent_bytes", .help = "Bytes sent."});
  bytes->labels().add(1e21);

  auto* temp =
      *reg.add_gauge({.name = "temperature_celsius", .help = "Temperature.", .labels = {"room"}});
  temp->labels("lab").set(-12.25);
  temp->labels("inf").set(std::numeric_limits<double>::infinity());
  temp->labels("nan").set(std::numeric_limits<double>::quiet_NaN());
  temp->labels("tiny").set(1e-300);

  auto* latency = *reg.add_histogram(
      {.name = "http_request_duration_seconds", .help = "Request latency.", .labels = {"route"}});
  for (double v : {0.001, 0.02, 0.2, 0.7, 3.0, 42.0})
    latency->labels("/orders").observe(v);
  latency->labels("/empty\"route");  // a histogram with no observations

  auto* sizes = *reg.add_histogram({.name = "payload_size_bytes",
                                    .help = "Payload sizes.",
                                    .buckets = exponential_buckets(64, 4, 8)});
  sizes->labels().observe(100);

  ASSERT_TRUE(reg.add_gauge({.name = "idle_seconds", .help = "A family with no children."}));
  ASSERT_TRUE(reg.add_collector(std::make_shared<process_collector>()));
  ASSERT_TRUE(reg.add_collector(std::make_shared<build_info_collector>()));
}

TEST(Promtool, IsInstalled) {
  ASSERT_TRUE(std::filesystem::exists(kPromtool))
      << "promtool is missing: apt-get install prometheus (scripts/install-deps.sh)";
}

TEST(Promtool, AcceptsTextFormatOfEveryMetricTypeWithoutFindings) {
  registry reg;
  fill(reg);
  const std::string text = expose(reg, format::prometheus_text_0_0_4);
  ASSERT_NE(text.find("process_cpu_seconds_total"), std::string::npos);
  ASSERT_NE(text.find("keel_build_info{"), std::string::npos);
  const run_result r = promtool_check(text);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- input ---\n" << text;
  EXPECT_EQ(r.output, "") << text;
}

// note label -> path label as a parser must read it back.
std::map<std::string, std::string> expected_paths() {
  return {{"plain", "/"},
          {"quote", "/a\"b"},
          {"backslash", "C:\\temp\\x"},
          {"newline", "/multi\nline"},
          {"utf8", "/gr\xc3\xbc\xc3\x9f/\xe2\x82\xac/\xf0\x9f\x98\x80"},
          {"invalid utf8", "/bad\xEF\xBF\xBD\xEF\xBF\xBD"},
          {"empty value", ""},
          {"injection", "{x=\"y\"} 1 # not a comment"}};
}

std::map<std::string, std::string> parse_paths(const std::string& python_output) {
  std::map<std::string, std::string> got;
  std::istringstream in(python_output);
  std::string line;
  while (std::getline(in, line)) {
    // Each line: two JSON strings separated by a space.
    auto parsed = nlohmann::json::parse("[" + line.replace(line.find("\" \""), 3, "\",\"") + "]");
    got[parsed[0].get<std::string>()] = parsed[1].get<std::string>();
  }
  return got;
}

TEST(PythonClientParser, IsInstalled) {
  const run_result r = run_with_input(std::string(kPython) + " -c 'import prometheus_client'", "");
  ASSERT_EQ(r.exit_code, 0)
      << "apt-get install python3-prometheus-client (scripts/install-deps.sh)\n"
      << r.output;
}

TEST(PythonClientParser, StrictOpenMetricsParserReadsBackEveryLabelValue) {
  registry reg;
  fill(reg);
  const std::string text = expose(reg, format::openmetrics_1_0);
  const run_result r = run_with_input(python_parse_command("openmetrics"), text);
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n--- input ---\n" << text;
  EXPECT_EQ(parse_paths(r.output), expected_paths());
}

TEST(PythonClientParser, TextFormatParserReadsBackEveryLabelValue) {
  registry reg;
  fill(reg);
  const std::string text = expose(reg, format::prometheus_text_0_0_4);
  const run_result r = run_with_input(python_parse_command("text"), text);
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n--- input ---\n" << text;
  EXPECT_EQ(parse_paths(r.output), expected_paths());
}

TEST(PythonClientParser, RejectsOpenMetricsWithoutEofSoTheCheckIsReal) {
  const run_result r =
      run_with_input(python_parse_command("openmetrics"), "# TYPE a counter\na_total 1\n");
  EXPECT_NE(r.exit_code, 0);
}

TEST(Promtool, RejectsBrokenInputSoTheCheckIsReal) {
  const run_result r = promtool_check("# TYPE x counter\nx{a=\"unterminated} 1\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output, "");
  const run_result lint = promtool_check("# HELP a_ms x\n# TYPE a_ms gauge\na_ms 1\n");
  EXPECT_NE(lint.exit_code, 0);
}

}  // namespace
}  // namespace keel::metrics
