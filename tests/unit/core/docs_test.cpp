// docs/errors.md must stay true: its code table lists every built-in code
// with the status, category, severity, retry advice and public message the
// code has.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "keel/core/error_code.hpp"

namespace keel {
namespace {

TEST(DocsErrors, TableMatchesBuiltinCodes) {
  std::ifstream in(KEEL_SOURCE_DIR "/docs/errors.md");
  ASSERT_TRUE(in) << "docs/errors.md not found";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const error_code* c : codes::builtin) {
    const std::string row = fmt::format(
        "| `{}` | {} | {} | {} | {} | {} |", c->name, c->http_status, to_string(c->category),
        to_string(c->severity), c->retryable ? "yes" : "no", c->public_message);
    EXPECT_NE(doc.find(row), std::string::npos) << "missing or stale row: " << row;
  }
}

}  // namespace
}  // namespace keel
