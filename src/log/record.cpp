// The call-side helpers of the record format (detail/record.hpp, codec.hpp)
// that need what the headers do not include: keel::error, the context.
#include <cstdlib>
#include <new>

#include "keel/core/error.hpp"
#include "keel/log/detail/codec.hpp"
#include "keel/log/logger.hpp"

namespace keel::log::detail {

thread_buffer::thread_buffer(std::size_t capacity_pow2)
    : capacity_(capacity_pow2),
      mask_(capacity_pow2 - 1),
      data_(static_cast<char*>(::operator new (capacity_pow2, std::align_val_t{64}))) {}

thread_buffer::~thread_buffer() { ::operator delete (data_, std::align_val_t{64}); }

void construct_error_copy(void* where, const ::keel::error& e) noexcept {
  ::new (where)::keel::error(e);  // copying an error is a reference-count increment
}

std::size_t error_size() noexcept { return sizeof(::keel::error); }

// Context block: [u8 request id size][id][u8 has trace]([u64 hi][u64 lo][u64 span])
// [u16 user size][user][u8 field count]([u8 key size][key][u16 value size][value])*
std::size_t context_size(const request_context& c) noexcept {
  std::size_t n = 1 + c.request_id.size() + 1 + 2 + 1;
  if (c.trace.is_valid()) n += 24;
  n += clamp_size(c.user_id.size(), max_user_id_bytes);
  const std::size_t fields = clamp_size(c.fields.size(), max_context_fields);
  for (std::size_t i = 0; i < fields; ++i) {
    n += 1 + clamp_size(c.fields[i].first.size(), max_key_bytes) + 2 +
         clamp_size(c.fields[i].second.size(), max_context_value_bytes);
  }
  return n;
}

char* write_context(char* p, const request_context& c) noexcept {
  const std::string_view rid = c.request_id.view();
  *p++ = static_cast<char>(static_cast<std::uint8_t>(rid.size()));
  p = put(p, rid.data(), rid.size());
  if (c.trace.is_valid()) {
    *p++ = 1;
    p = put_raw(p, c.trace.trace_id.hi);
    p = put_raw(p, c.trace.trace_id.lo);
    p = put_raw(p, c.trace.span_id);
  } else {
    *p++ = 0;
  }
  const auto un = static_cast<std::uint16_t>(clamp_size(c.user_id.size(), max_user_id_bytes));
  p = put_raw(p, un);
  p = put(p, c.user_id.data(), un);
  const std::size_t fields = clamp_size(c.fields.size(), max_context_fields);
  *p++ = static_cast<char>(static_cast<std::uint8_t>(fields));
  for (std::size_t i = 0; i < fields; ++i) {
    const auto& [k, v] = c.fields[i];
    const auto kn = static_cast<std::uint8_t>(clamp_size(k.size(), max_key_bytes));
    *p++ = static_cast<char>(kn);
    p = put(p, k.data(), kn);
    const auto vn = static_cast<std::uint16_t>(clamp_size(v.size(), max_context_value_bytes));
    p = put_raw(p, vn);
    p = put(p, v.data(), vn);
  }
  return p;
}

}  // namespace keel::log::detail
