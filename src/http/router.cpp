#include "keel/http/router.hpp"

#include <algorithm>

#include "keel/core/error.hpp"

namespace keel::http {

// One path segment level. Literal children are few per level in practice,
// so a vector scan beats a hash map (and allocates nothing when matching).
struct router::node {
  std::vector<std::pair<std::string, std::unique_ptr<node>>> literals;
  std::unique_ptr<node> param;
  std::string param_name;  // of `param`
  std::array<const route*, routable_method_count> routes{};
  std::string pattern;              // set when any route ends here
  std::uint32_t pattern_index = 0;  // its index in router::patterns_
  bool terminal = false;
};

namespace {

[[noreturn]] void bad_route(std::string message) {
  throw keel::exception(keel::error(codes::configuration_error, std::move(message)));
}

// Splits "/a/b" into "a", "b"; "/" into nothing. Calls f(segment, last).
template <class F>
bool for_each_segment(std::string_view path, F&& f) {
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  if (path.empty()) return true;
  while (true) {
    const auto slash = path.find('/');
    if (!f(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

constexpr std::size_t max_segments = 32;

}  // namespace

router::router() : root_(std::make_unique<node>()) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

router& router::add_route(http::method m, std::string_view pattern, any_handler h,
                          route_options opts) {
  if (m == http::method::other) bad_route("cannot route method OTHER");
  if (pattern.empty() || pattern.front() != '/') {
    bad_route("route pattern must start with '/': " + std::string(pattern));
  }
  node* at = root_.get();
  std::vector<std::string> names;
  const bool ok = for_each_segment(pattern, [&](std::string_view seg) {
    if (seg.empty()) return false;
    if (seg.front() == '{') {
      if (seg.size() < 3 || seg.back() != '}') return false;
      std::string name(seg.substr(1, seg.size() - 2));
      if (name.find_first_of("{}/") != std::string::npos) return false;
      if (std::find(names.begin(), names.end(), name) != names.end()) return false;
      names.push_back(name);
      if (!at->param) {
        at->param = std::make_unique<node>();
        at->param_name = name;
      } else if (at->param_name != name) {
        return false;  // /a/{id} and /a/{name}: one name per position
      }
      at = at->param.get();
      return true;
    }
    if (seg.find_first_of("{}") != std::string_view::npos) return false;
    auto it = std::find_if(at->literals.begin(), at->literals.end(),
                           [&](const auto& l) { return l.first == seg; });
    if (it == at->literals.end()) {
      at->literals.emplace_back(std::string(seg), std::make_unique<node>());
      it = std::prev(at->literals.end());
    }
    at = it->second.get();
    return true;
  });
  if (!ok) bad_route("malformed route pattern: " + std::string(pattern));
  auto& slot = at->routes[static_cast<std::size_t>(m)];
  if (slot != nullptr) {
    bad_route("duplicate route: " + std::string(to_string(m)) + " " + std::string(pattern));
  }
  routes_.push_back(std::make_unique<route>(route{
      .pattern = std::string(pattern), .verb = m, .tags = opts.tags, .handler = std::move(h)}));
  slot = routes_.back().get();
  if (!at->terminal) {
    at->pattern = std::string(pattern);
    at->pattern_index = static_cast<std::uint32_t>(patterns_.size());
    patterns_.push_back(&at->pattern);
    at->terminal = true;
  }
  return *this;
}

std::string router::allow_header(std::uint32_t allowed) {
  std::string out;
  for (std::size_t i = 0; i < routable_method_count; ++i) {
    if ((allowed & (1u << i)) == 0) continue;
    if (!out.empty()) out += ", ";
    out += to_string(static_cast<http::method>(i));
  }
  return out;
}

match router::find(request& req) const {
  match out;
  req.params_.clear();
  req.route_ = {};
  req.route_index_ = static_cast<std::uint32_t>(request::no_route);

  // Decode each segment once; literal comparison and parameter values use
  // the decoded text. decoded_ was reserved for the whole target.
  std::array<std::string_view, max_segments> segs{};
  std::size_t n = 0;
  bool too_many = false;
  const bool ok = for_each_segment(req.path(), [&](std::string_view raw) {
    if (n == max_segments) {
      too_many = true;
      return false;
    }
    if (raw.find('%') == std::string_view::npos) {
      segs[n++] = raw;
      return true;
    }
    if (req.decoded_.capacity() - req.decoded_.size() < raw.size()) return false;
    const std::size_t at = req.decoded_.size();
    if (!percent_decode(raw, req.decoded_, false)) return false;
    segs[n++] = std::string_view(req.decoded_.data() + at, req.decoded_.size() - at);
    return true;
  });
  if (!ok) {
    out.outcome = too_many ? match::kind::not_found : match::kind::bad_path;
    return out;
  }

  // Depth-first, literals before the parameter; `captured[i]` holds the
  // value taken by a parameter at depth i (or empty).
  std::array<const node*, max_segments + 1> stack{};
  std::array<std::uint8_t, max_segments + 1> tried{};  // 0: literals next, 1: param next, 2: done
  std::size_t depth = 0;
  stack[0] = root_.get();
  tried[0] = 0;
  const node* found = nullptr;
  while (true) {
    const node* at = stack[depth];
    if (depth == n) {
      if (at->terminal) {
        found = at;
        break;
      }
      // Dead end: back up.
    } else if (tried[depth] == 0) {
      tried[depth] = 1;
      const auto it = std::find_if(at->literals.begin(), at->literals.end(),
                                   [&](const auto& l) { return l.first == segs[depth]; });
      if (it != at->literals.end()) {
        stack[depth + 1] = it->second.get();
        tried[++depth] = 0;
        continue;
      }
    }
    if (depth < n && tried[depth] == 1) {
      tried[depth] = 2;
      if (at->param && !segs[depth].empty()) {
        stack[depth + 1] = at->param.get();
        tried[++depth] = 0;
        continue;
      }
    }
    if (depth == 0) break;
    --depth;
  }
  if (found == nullptr) return out;  // not_found

  // Recover the parameters along the path found.
  for (std::size_t i = 0; i < n; ++i) {
    if (stack[i]->param.get() == stack[i + 1]) {
      req.params_.push_back({stack[i]->param_name, segs[i]});
    }
  }
  for (std::size_t i = 0; i < routable_method_count; ++i) {
    if (found->routes[i] != nullptr) out.allowed |= 1u << i;
  }
  const auto get_bit = 1u << static_cast<unsigned>(http::method::get);
  const auto head_bit = 1u << static_cast<unsigned>(http::method::head);
  const auto options_bit = 1u << static_cast<unsigned>(http::method::options);
  if ((out.allowed & get_bit) != 0) out.allowed |= head_bit;
  out.allowed |= options_bit;
  out.pattern = &found->pattern;
  req.route_ = found->pattern;
  req.route_index_ = found->pattern_index;

  const http::method m = req.verb();
  const route* r = m == http::method::other ? nullptr : found->routes[static_cast<std::size_t>(m)];
  if (r == nullptr && m == http::method::head) {
    r = found->routes[static_cast<std::size_t>(http::method::get)];
  }
  if (r != nullptr) {
    out.outcome = match::kind::found;
    out.matched = r;
  } else if (m == http::method::options) {
    out.outcome = match::kind::options;
  } else {
    out.outcome = match::kind::method_not_allowed;
  }
  return out;
}

}  // namespace keel::http
