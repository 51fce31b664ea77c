// keel/log/detail/codec.hpp — internal: how each field value is encoded
// into a record (see record.hpp). The decoder is src/log/record_reader.cpp.
//
// Field: [tag u8][key size u8][key bytes][value]. Values: str [u32 size]
// [bytes]; i64/u64/f64/duration/timestamp 8 raw bytes; bool 1 byte; null
// nothing; error: padding to 8, then a keel::error constructed in place
// (the backend destroys it); object/array: [u16 count] then `count` fields
// (array elements have empty keys).
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <tuple>

#include "keel/log/detail/record.hpp"
#include "keel/log/field.hpp"

namespace keel {
class error;
}

namespace keel::log::detail {

// Copies `e` into `where` (aligned storage of error_storage_size bytes).
void construct_error_copy(void* where, const ::keel::error& e) noexcept;
// sizeof(keel::error), which this header cannot see.
std::size_t error_size() noexcept;

inline std::size_t clamp_size(std::size_t n, std::size_t limit) noexcept {
  return n < limit ? n : limit;
}

template <class V>
struct codec;

template <>
struct codec<std::string_view> {
  static constexpr tag t = tag::str;
  static std::size_t size(std::string_view v) noexcept {
    return 4 + clamp_size(v.size(), max_string_bytes);
  }
  static char* write(char* p, std::string_view v) noexcept {
    const auto n = static_cast<std::uint32_t>(clamp_size(v.size(), max_string_bytes));
    p = put_raw(p, n);
    return put(p, v.data(), n);
  }
};

template <class T, tag Tag>
struct raw_codec {
  static constexpr tag t = Tag;
  static constexpr std::size_t size(const T&) noexcept { return sizeof(T); }
  static char* write(char* p, const T& v) noexcept { return put_raw(p, v); }
};

template <>
struct codec<std::int64_t> : raw_codec<std::int64_t, tag::i64> {};
template <>
struct codec<std::uint64_t> : raw_codec<std::uint64_t, tag::u64> {};
template <>
struct codec<double> : raw_codec<double, tag::f64> {};
template <>
struct codec<bool> {
  static constexpr tag t = tag::boolean;
  static constexpr std::size_t size(bool) noexcept { return 1; }
  static char* write(char* p, bool v) noexcept {
    *p = v ? 1 : 0;
    return p + 1;
  }
};
template <>
struct codec<null_value> {
  static constexpr tag t = tag::null;
  static constexpr std::size_t size(null_value) noexcept { return 0; }
  static char* write(char* p, null_value) noexcept { return p; }
};
template <>
struct codec<duration_value> {
  static constexpr tag t = tag::duration;
  static constexpr std::size_t size(duration_value) noexcept { return 8; }
  static char* write(char* p, duration_value v) noexcept { return put_raw(p, v.ns); }
};
template <>
struct codec<timestamp_value> {
  static constexpr tag t = tag::timestamp;
  static constexpr std::size_t size(timestamp_value) noexcept { return 8; }
  static char* write(char* p, timestamp_value v) noexcept { return put_raw(p, v.ns); }
};
template <>
struct codec<error_value> {
  static constexpr tag t = tag::error;
  static std::size_t size(error_value) noexcept { return 7 + error_size(); }
  static char* write(char* p, error_value v) noexcept {
    auto addr = reinterpret_cast<std::uintptr_t>(p);
    char* aligned = p + ((8 - (addr & 7)) & 7);
    construct_error_copy(aligned, *v.e);
    return aligned + error_size();
  }
};

template <class V>
inline std::size_t field_size(std::string_view key, const V& v) noexcept {
  return 2 + clamp_size(key.size(), max_key_bytes) + codec<V>::size(v);
}

template <class V>
inline char* write_field(char* p, std::string_view key, const V& v) noexcept {
  *p++ = static_cast<char>(codec<V>::t);
  const auto k = static_cast<std::uint8_t>(clamp_size(key.size(), max_key_bytes));
  *p++ = static_cast<char>(k);
  p = put(p, key.data(), k);
  return codec<V>::write(p, v);
}

template <class... Kvs>
struct codec<object_value<Kvs...>> {
  static_assert(sizeof...(Kvs) < 65536);
  static constexpr tag t = tag::object;
  static std::size_t size(const object_value<Kvs...>& o) noexcept {
    return std::apply(
        [](const auto&... f) { return 2 + (std::size_t{0} + ... + field_size(f.key, f.value)); },
        o.fields);
  }
  static char* write(char* p, const object_value<Kvs...>& o) noexcept {
    p = put_raw(p, static_cast<std::uint16_t>(sizeof...(Kvs)));
    std::apply([&](const auto&... f) { ((p = write_field(p, f.key, f.value)), ...); }, o.fields);
    return p;
  }
};

template <class... Vs>
struct codec<array_value<Vs...>> {
  static_assert(sizeof...(Vs) < 65536);
  static constexpr tag t = tag::array;
  static std::size_t size(const array_value<Vs...>& a) noexcept {
    return std::apply(
        [](const auto&... v) { return 2 + (std::size_t{0} + ... + field_size({}, v)); }, a.values);
  }
  static char* write(char* p, const array_value<Vs...>& a) noexcept {
    p = put_raw(p, static_cast<std::uint16_t>(sizeof...(Vs)));
    std::apply([&](const auto&... v) { ((p = write_field(p, {}, v)), ...); }, a.values);
    return p;
  }
};

// True when a value of type V holds a keel::error (which the backend must destroy).
template <class V>
struct contains_error : std::is_same<V, error_value> {};
template <class... V>
struct contains_error<object_value<kv<V>...>>
    : std::bool_constant<(contains_error<V>::value || ...)> {};
template <class... V>
struct contains_error<array_value<V...>> : std::bool_constant<(contains_error<V>::value || ...)> {};

}  // namespace keel::log::detail
