// keel/core/result.hpp
//
// result<T> is how keel functions report failure: std::expected<T, keel::error>
// marked [[nodiscard]], so ignoring a result is a compile warning (an error in
// keel's own build) and never a silent failure.
//
//   keel::result<user> find_user(std::string_view id) {
//     if (!valid(id)) return keel::fail(keel::codes::validation_error, "bad user id");
//     ...
//     return u;
//   }
//   keel::result<void> save() { ...; return keel::ok(); }
//
//   auto r = keel::try_call([&] { return parse_or_throw(text); });  // exceptions -> error
//
// Thread safety: as std::expected.
#pragma once

#include <expected>
#include <functional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "keel/core/error.hpp"

namespace keel {

template <class T>
class [[nodiscard]] result : public std::expected<T, error> {
 public:
  using std::expected<T, error>::expected;
  using value_type = T;

  // From a plain std::expected with the same types (e.g. from and_then()).
  constexpr result(std::expected<T, error> e) : std::expected<T, error>(std::move(e)) {}
};

template <class T>
struct is_result : std::false_type {};
template <class T>
struct is_result<result<T>> : std::true_type {};
template <class T>
inline constexpr bool is_result_v = is_result<std::remove_cvref_t<T>>::value;

// ok() — the success value of result<void>.
inline result<void> ok() noexcept { return {}; }

// fail — the failure side of any result<T>.
inline std::unexpected<error> fail(error e) { return std::unexpected<error>(std::move(e)); }
inline std::unexpected<error> fail(const error_code& code, std::string message = {},
                                   std::source_location where = std::source_location::current()) {
  return std::unexpected<error>(error(code, std::move(message), where));
}

// try_call
//
// Calls f, turning any exception into an error (from_exception_ptr). If f
// returns result<U>, that result is passed through; otherwise its value is
// wrapped. Use it at the edge between throwing code and keel.
namespace detail {
template <class R>
struct try_call_value {
  using type = R;
};
template <class U>
struct try_call_value<result<U>> {
  using type = U;
};
}  // namespace detail

template <class F>
auto try_call(F&& f) noexcept -> result<
    typename detail::try_call_value<std::remove_cvref_t<std::invoke_result_t<F&>>>::type> {
  using R = std::invoke_result_t<F&>;
  try {
    if constexpr (std::is_void_v<R>) {
      std::invoke(f);
      return {};
    } else {
      return std::invoke(f);  // a result<U> passes through; a U is wrapped
    }
  } catch (...) {
    try {
      return fail(from_exception_ptr(std::current_exception()));
    } catch (...) {
      // Building the error itself failed (out of memory): the preallocated
      // form in from_exception_ptr cannot throw, but stay noexcept regardless.
      std::terminate();
    }
  }
}

}  // namespace keel
