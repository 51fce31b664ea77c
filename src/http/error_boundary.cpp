#include "keel/http/error_boundary.hpp"

namespace keel::http {

bool error_boundary::on_error(exchange& ex, const keel::error& e) {
  if (options_.report && (options_.report_client_errors || e.http_status() >= 500)) {
    // A failing reporter must not turn a rendered error into a crash.
    try {
      options_.report(ex, e);
    } catch (...) {
    }
  }
  ex.res().set_problem(e, ex.req().path(), {.mode = options_.mode});
  return true;
}

}  // namespace keel::http
