// Uses keel::core from the installed headers and library: an application
// code, a result, a context and problem+json. Exits 0 when all behave.
#include <keel/core/code_registry.hpp>
#include <keel/core/context.hpp>
#include <keel/core/problem_json.hpp>
#include <keel/core/result.hpp>

#include <cstdio>

namespace {

constexpr keel::error_code insufficient_funds{"INSUFFICIENT_FUNDS",
                                              keel::category::business,
                                              keel::severity::low,
                                              402,
                                              false,
                                              "Insufficient funds",
                                              "The account balance does not cover this payment."};

keel::result<int> charge(int balance, int amount) {
  if (amount > balance) return keel::fail(insufficient_funds, "balance 10 < amount 20");
  return balance - amount;
}

}  // namespace

int main() {
  if (!keel::code_registry::global().add(insufficient_funds)) return 1;
  keel::context_scope scope({.request_id = keel::new_request_id()});
  auto r = charge(10, 20);
  if (r || r.error().http_status() != 402) return 2;
  const std::string body = keel::render_problem(r.error());
  if (body.find("\"code\":\"INSUFFICIENT_FUNDS\"") == std::string::npos) return 3;
  if (body.find("balance 10") != std::string::npos) return 4;  // internal message leaked
  std::puts(body.c_str());
  return 0;
}
