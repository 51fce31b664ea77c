#include "keel/core/json_shape.hpp"

#include <algorithm>
#include <vector>

namespace keel {

// One pass that skips strings and counts, per open container, its
// separators (items = commas + 1).
std::string json_shape_problem(std::string_view s, const json_shape_limits& limits) {
  struct open_container {
    bool object;
    std::size_t items;
  };
  std::vector<open_container> open;
  open.reserve(std::min<std::size_t>(limits.max_depth + 1, 65));
  std::size_t values = 1;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (open.size() == limits.max_depth) {
          return "JSON nested deeper than " + std::to_string(limits.max_depth) + " levels";
        }
        open.push_back({c == '{', 1});
        ++values;  // its first item, if it has one
        break;
      case ']':
      case '}':
        if (!open.empty()) open.pop_back();
        break;
      case ',':
        if (open.empty()) break;  // not JSON: the parser says so
        ++values;
        if (++open.back().items >
            (open.back().object ? limits.max_object_members : limits.max_array_items)) {
          return open.back().object ? "a JSON object holds more than " +
                                          std::to_string(limits.max_object_members) + " members"
                                    : "a JSON array holds more than " +
                                          std::to_string(limits.max_array_items) + " items";
        }
        break;
      default:
        break;
    }
    if (limits.max_values != 0 && values > limits.max_values) {
      return "JSON holds more than " + std::to_string(limits.max_values) + " values";
    }
  }
  return {};
}

}  // namespace keel
