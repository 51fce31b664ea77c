// apps/keel/logq/json_scan.hpp
//
// line_scanner reads one JSON Lines record and extracts only the fields a
// query needs, without building a document: one pass over the bytes that
// validates the whole line (so malformed lines are detected and skipped) and
// records, for each wanted dotted path, where its value sits in the line.
//
//   keel::cli::logq::field_set fields;
//   auto level = fields.add("level");
//   auto code = fields.add("error.code");
//   keel::cli::logq::line_scanner scan(fields);
//   if (scan.scan(line) == scan_status::ok && scan.value(code).kind == value_kind::string) ...
//
// A dotted path matches nested objects ({"error":{"code":..}}) and flat keys
// holding dots ({"error.code":..}) alike. Arrays are validated, not descended.
// Limits: nesting depth (default 64) — deeper lines are malformed, never a
// stack overflow. Strings are checked for JSON escapes and control bytes; the
// bytes of non-ASCII text are passed through unvalidated.
//
// Thread safety: a field_set is read-only once scanning starts; a scanner is
// for one thread. Cost: no allocation per line; about 1 ns per byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keel::cli::logq {

// The JSON type of an extracted value; `missing` when the line lacks it.
enum class value_kind : std::uint8_t { missing, string, number, boolean, null, object, array };

// field_value
//
// A view into the scanned line. For strings, `raw` is the text between the
// quotes, still escaped when `escaped` is set; for everything else it is the
// JSON text of the value.
struct field_value {
  value_kind kind = value_kind::missing;
  bool escaped = false;
  std::string_view raw{};
};

// field_set
//
// The dotted paths to extract, each given a slot number (the same path gets
// the same slot). At most `max_fields` paths.
class field_set {
 public:
  static constexpr std::size_t max_fields = 256;

  // The slot of `dotted_path`; adds it when new. Empty segments are refused
  // by the expression parser before they get here.
  std::size_t add(std::string_view dotted_path);
  std::size_t size() const noexcept { return paths_.size(); }
  const std::string& path(std::size_t slot) const { return paths_[slot]; }

  // Trie walk used by the scanner: the child of `node` for `key` (which may
  // itself hold dots), or -1.
  int child(int node, std::string_view key) const noexcept;
  int slot_of(int node) const noexcept { return nodes_[static_cast<std::size_t>(node)].slot; }
  bool has_children(int node) const noexcept {
    return !nodes_[static_cast<std::size_t>(node)].children.empty();
  }

 private:
  struct node_t {
    std::string key{};
    int slot = -1;
    std::vector<int> children{};
  };
  int child_segment(int node, std::string_view segment) const noexcept;
  std::vector<node_t> nodes_{node_t{}};
  std::vector<std::string> paths_{};
};

enum class scan_status : std::uint8_t { ok, malformed, too_deep };

class line_scanner {
 public:
  explicit line_scanner(const field_set& fields, int max_depth = 64);

  // Validates `line` (one JSON object, surrounding whitespace allowed) and
  // fills every slot. Values view into `line`, valid until it changes.
  scan_status scan(std::string_view line) noexcept;

  const field_value& value(std::size_t slot) const noexcept { return values_[slot]; }

 private:
  bool parse_value(int node, int depth) noexcept;
  bool parse_object(int node, int depth) noexcept;
  bool parse_array(int depth) noexcept;
  bool parse_string(std::string_view& content, bool& escaped) noexcept;
  bool parse_number() noexcept;
  bool parse_literal(std::string_view word) noexcept;
  void skip_ws() noexcept;

  const field_set& fields_;
  int max_depth_;
  bool too_deep_ = false;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  std::vector<field_value> values_;
};

// The decoded text of a string value (escapes resolved, invalid \u
// surrogates replaced by U+FFFD) — `raw` itself when it holds no escape,
// else written into `scratch`. For non-strings, the JSON text.
std::string_view decoded(const field_value& v, std::string& scratch);

// Decodes the escaped contents of a JSON string into `out` (appending).
// Returns false on an invalid escape.
bool unescape_json(std::string_view escaped, std::string& out);

}  // namespace keel::cli::logq
