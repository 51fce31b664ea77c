#include "keel/log/routing_sink.hpp"

#include <algorithm>

namespace keel::log {

routing_sink::routing_sink(config c)
    : sink({.name = "routing"}), routes_(std::move(c.routes)), fallback_(std::move(c.fallback)) {
  std::erase_if(routes_, [](const route& r) { return !r.target; });
  auto add = [&](sink* s) {
    if (s && std::find(distinct_.begin(), distinct_.end(), s) == distinct_.end()) {
      distinct_.push_back(s);
    }
  };
  for (const auto& r : routes_)
    add(r.target.get());
  add(fallback_.get());
}

bool routing_sink::in_category(std::string_view logger, std::string_view category) noexcept {
  if (category.empty()) return true;
  if (!logger.starts_with(category)) return false;
  return logger.size() == category.size() || logger[category.size()] == '.';
}

void routing_sink::consume(const log_line& line) {
  bool taken = false;
  for (const auto& r : routes_) {
    if (line.lvl >= r.min_level && line.lvl <= r.max_level &&
        in_category(line.logger, r.category)) {
      r.target->consume(line);
      taken = true;
    }
  }
  if (!taken && fallback_) fallback_->consume(line);
}

void routing_sink::commit() {
  for (sink* s : distinct_)
    s->commit();
}

void routing_sink::flush() {
  for (sink* s : distinct_)
    s->flush();
}

format_set routing_sink::formats() const noexcept {
  format_set f = 0;
  for (sink* s : distinct_)
    f |= s->formats();
  return f;
}

}  // namespace keel::log
