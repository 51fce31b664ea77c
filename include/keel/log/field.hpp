// keel/log/field.hpp
//
// Typed key/value fields for a log call. A field is `kv(key, value)`; the
// value keeps its type all the way to the JSON line, so numbers are JSON
// numbers and booleans are JSON booleans — no format string is parsed, at
// compile time or at run time.
//
//   using keel::log::kv;
//   log.info("request done", kv("method", "GET"), kv("status_code", 200),
//            kv("duration_ms", 1.25), kv("cached", false), kv("user", nullptr),
//            kv("elapsed", 3ms), kv("at", std::chrono::system_clock::now()),
//            kv("err", some_keel_error),
//            kv("client", keel::log::object(kv("ip", "10.0.0.7"), kv("port", 51234))),
//            kv("tags", keel::log::array("a", "b", 3)));
//
// Value types and their JSON:
//   string_view / const char* / std::string   string (copied at the call)
//   signed / unsigned integers                  number
//   float / double                              number (NaN, ±inf: null)
//   bool, nullptr                               true/false, null
//   std::chrono::duration                       number of milliseconds (fractional)
//   std::chrono::system_clock::time_point       RFC 3339 string, UTC, microseconds
//   keel::error                                 object (code, category, severity,
//                                               message, details, where, cause…)
//   object(kv...), array(v...)                  nested object / array
//
// Keys longer than 255 bytes and strings longer than 32 KiB are truncated.
//
// Thread safety: fields are values that live for the duration of the call;
// they only view the caller's data, which is copied before the call returns.
// Cost: constructing a field is free (a view and a number); see logger.hpp.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace keel {
class error;
}

namespace keel::log {

// The JSON null value (kv("x", nullptr)).
struct null_value {};
// A duration, in nanoseconds.
struct duration_value {
  std::int64_t ns = 0;
};
// A wall-clock instant, in nanoseconds since the Unix epoch.
struct timestamp_value {
  std::int64_t ns = 0;
};
// A keel::error, viewed for the call (copied into the record, a reference
// count increment).
struct error_value {
  const ::keel::error* e = nullptr;
};

template <class... Kvs>
struct object_value;
template <class... Vs>
struct array_value;

namespace detail {

template <class T>
struct is_duration : std::false_type {};
template <class R, class P>
struct is_duration<std::chrono::duration<R, P>> : std::true_type {};

template <class T>
struct is_sys_time : std::false_type {};
template <class D>
struct is_sys_time<std::chrono::time_point<std::chrono::system_clock, D>> : std::true_type {};

template <class T>
struct is_nested : std::false_type {};
template <class... K>
struct is_nested<object_value<K...>> : std::true_type {};
template <class... V>
struct is_nested<array_value<V...>> : std::true_type {};

template <class T>
concept char_type = std::same_as<T, char> || std::same_as<T, signed char> ||
    std::same_as<T, unsigned char> || std::same_as<T, wchar_t> || std::same_as<T, char8_t> ||
    std::same_as<T, char16_t> || std::same_as<T, char32_t>;

// The stored type of a value of type T.
template <class T>
auto normalize_type() {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<U, bool>) {
    return std::type_identity<bool>{};
  } else if constexpr (std::is_same_v<U, std::nullptr_t>) {
    return std::type_identity<null_value>{};
  } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
    return std::type_identity<std::string_view>{};
  } else if constexpr (std::is_integral_v<U> && !char_type<U>) {
    if constexpr (std::is_signed_v<U>) {
      return std::type_identity<std::int64_t>{};
    } else {
      return std::type_identity<std::uint64_t>{};
    }
  } else if constexpr (std::is_floating_point_v<U>) {
    return std::type_identity<double>{};
  } else if constexpr (is_duration<U>::value) {
    return std::type_identity<duration_value>{};
  } else if constexpr (is_sys_time<U>::value) {
    return std::type_identity<timestamp_value>{};
  } else if constexpr (std::is_same_v<U, ::keel::error>) {
    return std::type_identity<error_value>{};
  } else if constexpr (is_nested<U>::value) {
    return std::type_identity<U>{};
  } else {
    static_assert(sizeof(U) == 0,
                  "keel::log: unsupported field type (use a string, number, bool, nullptr, "
                  "duration, system_clock time point, keel::error, object() or array())");
  }
}

template <class T>
using value_t = typename decltype(normalize_type<T>())::type;

template <class V, class T>
constexpr V to_value(const T& v) noexcept {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<V, std::string_view>) {
    if constexpr (std::is_pointer_v<U>) {
      return v == nullptr ? std::string_view{} : std::string_view(v);
    } else {
      return std::string_view(v);
    }
  } else if constexpr (std::is_same_v<V, null_value>) {
    return null_value{};
  } else if constexpr (std::is_same_v<V, duration_value>) {
    return duration_value{std::chrono::duration_cast<std::chrono::nanoseconds>(v).count()};
  } else if constexpr (std::is_same_v<V, timestamp_value>) {
    return timestamp_value{
        std::chrono::duration_cast<std::chrono::nanoseconds>(v.time_since_epoch()).count()};
  } else if constexpr (std::is_same_v<V, error_value>) {
    return error_value{&v};
  } else {
    return static_cast<V>(v);
  }
}

}  // namespace detail

// kv
//
// One field: a key and a typed value. Build it with kv(key, value); the
// deduction guide picks the stored type.
template <class V>
struct kv {
  template <class T>
  constexpr kv(std::string_view k, const T& v) noexcept : key(k), value(detail::to_value<V>(v)) {}

  std::string_view key;
  V value;
};

template <class T>
kv(std::string_view, const T&) -> kv<detail::value_t<T>>;

// object_value / object(kv...)
//
// A nested JSON object of fields: kv("client", object(kv("ip", ip), kv("port", 80))).
template <class... Kvs>
struct object_value {
  std::tuple<Kvs...> fields;
};

template <class... V>
constexpr object_value<kv<V>...> object(const kv<V>&... fields) noexcept {
  return object_value<kv<V>...>{std::tuple<kv<V>...>(fields...)};
}

// array_value / array(v...)
//
// A nested JSON array of values of the types kv accepts.
template <class... Vs>
struct array_value {
  std::tuple<Vs...> values;
};

template <class... T>
constexpr array_value<detail::value_t<T>...> array(const T&... values) noexcept {
  return array_value<detail::value_t<T>...>{
      std::tuple<detail::value_t<T>...>(detail::to_value<detail::value_t<T>>(values)...)};
}

}  // namespace keel::log
