// Error events as POST /api/v1/events receives them: any bytes either fail
// with a keel::error or give an event that validates and survives a round
// trip through its JSON shape unchanged.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "keel/alert/event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  auto e = keel::alert::event_from_json(in, now);
  if (!e) return 0;
  if (!keel::alert::validate(*e)) std::abort();
  auto again = keel::alert::event_from_json(keel::alert::to_json(*e).dump(), now);
  if (!again) std::abort();
  if (again->service != e->service || again->code != e->code || again->message != e->message ||
      again->fingerprint != e->fingerprint || again->timestamp != e->timestamp) {
    std::abort();
  }
  return 0;
}
