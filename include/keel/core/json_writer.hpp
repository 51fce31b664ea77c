// keel/core/json_writer.hpp
//
// Appending JSON text to a std::string, fast and always valid: strings are
// escaped per RFC 8259 (quotes, backslashes and every control character) and
// invalid UTF-8 is replaced by U+FFFD, so whatever bytes come in, what goes
// out parses. Numbers are written as JSON numbers; NaN and infinities, which
// JSON cannot express, become null.
//
//   std::string out;
//   keel::json_writer w(out);
//   w.begin_object();
//   w.key("status"); w.value(200);
//   w.key("path");   w.value(std::string_view("/health"));
//   w.end_object();                              // {"status":200,"path":"/health"}
//
// The writer tracks commas but does not check structure: callers pair
// begin/end and put a key before each value in an object.
//
// Thread safety: none; one writer per string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace keel {

// Appends `s` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

// Appends the escaped contents of `s` without quotes.
void append_json_escaped(std::string& out, std::string_view s);

// Appends `v` the way JSON needs it: shortest round-trip form, null for NaN/inf.
void append_json_number(std::string& out, double v);
void append_json_number(std::string& out, std::int64_t v);
void append_json_number(std::string& out, std::uint64_t v);

// True when `s` is valid UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  void begin_object() {
    separate();
    out_.push_back('{');
    first_ = true;
  }
  void end_object() {
    out_.push_back('}');
    first_ = false;
  }
  void begin_array() {
    separate();
    out_.push_back('[');
    first_ = true;
  }
  void end_array() {
    out_.push_back(']');
    first_ = false;
  }

  void key(std::string_view k) {
    separate();
    append_json_string(out_, k);
    out_.push_back(':');
    first_ = true;  // the value that follows takes no comma
  }

  void value(std::string_view s) {
    separate();
    append_json_string(out_, s);
  }
  void value(const char* s) { value(std::string_view(s)); }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(bool b) {
    separate();
    out_.append(b ? "true" : "false");
  }
  void value(double d) {
    separate();
    append_json_number(out_, d);
  }
  void value(std::int64_t i) {
    separate();
    append_json_number(out_, i);
  }
  void value(std::uint64_t u) {
    separate();
    append_json_number(out_, u);
  }
  void value(int i) { value(static_cast<std::int64_t>(i)); }
  void value(unsigned u) { value(static_cast<std::uint64_t>(u)); }
  void value(long long i) { value(static_cast<std::int64_t>(i)); }
  void value(unsigned long long u) { value(static_cast<std::uint64_t>(u)); }
  void null() {
    separate();
    out_.append("null");
  }
  // A nlohmann value, serialized with invalid UTF-8 replaced.
  void json(const nlohmann::ordered_json& j);
  // Already-valid JSON text, appended verbatim.
  void raw(std::string_view json) {
    separate();
    out_.append(json);
  }

  std::string& out() noexcept { return out_; }

 private:
  void separate() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  std::string& out_;
  bool first_ = true;
};

}  // namespace keel
