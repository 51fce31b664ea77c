// keel/config/yaml_reader.hpp
//
// Reading a YAML configuration strictly, the one way keel does it (keeld's
// file, keel::alert's rules, routes and receivers, `keel load` scenarios):
// unknown and duplicate keys refused, every value checked, and the first
// problem reported as one VALIDATION_ERROR with its place:
// "line 3, column 5: server.io_thread: unknown key 'io_thread'", with
// details line, column, path and problem (what is wrong, which a problem+json
// response shows the client).
//
//   auto cfg = keel::config::read_yaml(text, [](const YAML::Node& doc) {
//     keel::config::allow_keys(doc, "", {"listen", "timeout"});
//     my_config c;
//     if (doc["timeout"]) c.timeout = keel::config::duration(doc["timeout"], "timeout");
//     return c;
//   });
//
// The readers (allow_keys, text, number, ...) throw yaml_error, which
// read_yaml catches; call them only inside read_yaml's function.
//
// Outside input is bounded before yaml-cpp builds a tree: a text over
// max_bytes is PAYLOAD_TOO_LARGE, and flow nesting deeper than max_depth
// or more than max_nodes collection entries is VALIDATION_ERROR (a 600 KB
// "[[[...]]]" would otherwise cost a hundred megabytes of nodes).
//
// Thread safety: functions of their arguments. Cost: one scan of the text,
// then yaml-cpp's parse.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/config/duration.hpp"
#include "keel/core/error.hpp"
#include "keel/core/result.hpp"

namespace keel::config {

// yaml_error — what the readers throw; read_yaml turns it into a keel::error.
struct yaml_error {
  YAML::Mark mark;
  std::string path;
  std::string what;
};

// Throws yaml_error at `n`'s position.
[[noreturn]] void bad(const YAML::Node& n, const std::string& path, std::string what);

// "path.key" ("key" at the root).
std::string child_path(std::string_view path, std::string_view key);

// A mapping whose keys are all in `keys`, each once.
void allow_keys(const YAML::Node& n, const std::string& path,
                std::initializer_list<std::string_view> keys);
// A scalar of at most max_bytes.
std::string text(const YAML::Node& n, const std::string& path, std::size_t max_bytes = 64 * 1024);
// A finite number within [lo, hi].
double number(const YAML::Node& n, const std::string& path,
              double lo = std::numeric_limits<double>::lowest(),
              double hi = std::numeric_limits<double>::max());
// true or false (YAML 1.1's yes/no/on/off too).
bool boolean(const YAML::Node& n, const std::string& path);
// A duration (duration.hpp).
std::chrono::milliseconds duration(const YAML::Node& n, const std::string& path);
// A list of scalars.
std::vector<std::string> text_list(const YAML::Node& n, const std::string& path);

struct yaml_limits {
  std::size_t max_bytes = 1 << 20;
  std::size_t max_depth = 64;               // nesting of flow collections
  std::size_t max_nodes = 100'000;          // collection entries
  std::string_view what = "configuration";  // names the document in errors
};

// The document parsed within `limits`, or the error saying which bound it
// broke or where yaml-cpp found it malformed.
[[nodiscard]] result<YAML::Node> load_bounded(std::string_view text, const yaml_limits& limits);
// The positioned VALIDATION_ERROR read_yaml returns.
keel::error positioned(const YAML::Mark& mark, std::string_view path, std::string_view what);

// f(document) inside the readers' error handling.
template <class F>
auto read_yaml(std::string_view text, F&& f, const yaml_limits& limits = {})
    -> result<decltype(f(std::declval<const YAML::Node&>()))> {
  auto doc = load_bounded(text, limits);
  if (!doc) return fail(std::move(doc.error()));
  try {
    return f(*doc);
  } catch (const yaml_error& e) {
    return fail(positioned(e.mark, e.path, e.what));
  } catch (const YAML::Exception& e) {
    return fail(positioned(e.mark, "", e.msg));
  }
}

}  // namespace keel::config
