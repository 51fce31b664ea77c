#include "keel/http/task.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

namespace keel::http {

task<void> sleep_for(std::chrono::nanoseconds d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

worker_pool::worker_pool(unsigned threads) : pool_(threads == 0 ? 1 : threads) {}

worker_pool::~worker_pool() { pool_.join(); }

void worker_pool::join() { pool_.join(); }

}  // namespace keel::http
