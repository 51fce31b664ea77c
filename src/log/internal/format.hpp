// Internal: decoding records (include/keel/log/detail/record.hpp) and
// formatting them as JSON Lines or console text. Used by the backend thread
// and by logger::with() (bound fields).
#pragma once

#include <chrono>
#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/redactor.hpp"
#include "keel/log/backend.hpp"
#include "keel/log/detail/record.hpp"
#include "keel/log/level.hpp"
#include "keel/log/logger.hpp"

namespace keel::log::internal {

// A record, decoded in place (views into the ring buffer).
struct decoded {
  level lvl = level::info;
  std::uint8_t flags = 0;
  std::chrono::system_clock::time_point time{};
  const detail::logger_entry* logger = nullptr;
  std::string_view message{};
  std::string_view bound{};
  std::source_location where{};
  const char* context = nullptr;  // the context block, or nullptr
  const char* fields = nullptr;
  std::uint16_t field_count = 0;
};

// Maps a record's stamp to wall-clock time.
class time_converter {
 public:
  virtual ~time_converter() = default;
  virtual std::chrono::system_clock::time_point to_time(std::uint64_t stamp,
                                                        std::uint8_t flags) const noexcept = 0;
};

decoded decode(const char* record, const time_converter& tc) noexcept;

// Destroys the keel::error objects a record's fields hold (once, after use).
void destroy_errors(const char* fields, std::size_t count) noexcept;

// member_bit — the members a JSON line has of its own, as a set: a field
// named like one of those present on its line is renamed (json_fields).
namespace member_bit {
inline constexpr std::uint16_t timestamp = 1, level = 2, logger = 4, message = 8, service = 16,
                               version = 32, environment = 64, request_id = 128, trace_id = 256,
                               span_id = 512, user_id = 1024, source = 2048;
inline constexpr std::uint16_t always = timestamp | level | logger | message;
}  // namespace member_bit

// The member_bit of `key`, 0 when it is not one of a line's own members.
std::uint16_t reserved_member(std::string_view key) noexcept;

struct format_settings {
  std::shared_ptr<const ::keel::redactor> redactor{};  // nullptr: no redaction
  std::string static_fields{};       // ,"service":..,"version":..,"environment":..
  std::uint16_t static_members = 0;  // member_bit of those static_fields has
  source_mode source = source_mode::warn_and_above;
};

class formatter {
 public:
  explicit formatter(format_settings s = {});

  const format_settings& settings() const noexcept { return s_; }

  // Appends one JSON line (with '\n').
  void json(const decoded& r, std::string& out);
  // Appends one console line (with '\n').
  void console(const decoded& r, std::string& out, bool color);
  // Appends `count` encoded fields as JSON members, each preceded by ','.
  // A field named like one of the members in `taken` (member_bit; the line's
  // own level, message, request_id...) is written as "fields.<name>", as
  // logrus does, so it can neither duplicate nor shadow it; 0 for nested
  // objects. Returns the end of the fields.
  const char* json_fields(const char* p, std::size_t count, std::string& out, std::uint16_t taken);

  // Appends the synthetic line a backend writes about itself.
  void json_internal(std::chrono::system_clock::time_point t, level l, std::string_view message,
                     std::string_view extra_members, std::string& out);

  bool sensitive(std::string_view key);

 private:
  struct key_slot {
    std::string key;
    std::string member;  // ,"key":
    bool sensitive = false;
    std::uint16_t reserved = 0;  // its member_bit
    bool used = false;
  };
  // The cached facts about a key (nullptr for keys too long to cache).
  const key_slot* key_info(std::string_view key);
  // Appends ,"key": (,"fields.key": when `taken` has the key's member_bit)
  // and says whether its value must be masked.
  void member(std::string_view key, std::string& out, bool& is_sensitive, std::uint16_t taken);
  // Appends the context block's members; returns their member_bits.
  std::uint16_t json_context(const char* c, std::string& out, std::uint16_t taken);

  void timestamp(std::chrono::system_clock::time_point t, std::string& out);
  void string_value(std::string_view v, std::string& out);
  const char* json_value(std::uint8_t t, const char* p, std::string& out);
  const char* skip_value(std::uint8_t t, const char* p) noexcept;
  const char* console_fields(const char* p, std::size_t count, std::string& out, bool nested);
  void console_context(const char* c, std::string& out);

  format_settings s_;
  std::string scratch_;
  std::int64_t cached_second_ = INT64_MIN;
  char cached_prefix_[20] = {};
  // Whether a key is sensitive, remembered per key: a direct-mapped cache,
  // because the redactor's own test allocates and field keys repeat.
  std::vector<key_slot> key_cache_ = std::vector<key_slot>(512);
};

}  // namespace keel::log::internal
