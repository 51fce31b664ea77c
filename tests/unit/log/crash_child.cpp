// Run by crash_test.cpp: logs N numbered lines to a file, then dies the way
// argv[2] says (segv, abort, term, fpe, bus, ill, exit) without flushing
// itself. "chain-term" installs a SIGTERM handler of its own before keel's
// logger starts, which then has to run after the logger's flush: it exits
// with status 42.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include "keel/log/log.hpp"

namespace {
volatile int* volatile g_null = nullptr;
volatile int g_zero = 0;

void previous_handler(int) { ::_exit(42); }
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  const std::string mode = argv[2];
  const int n = std::atoi(argv[3]);
  if (mode == "chain-term") std::signal(SIGTERM, previous_handler);
  auto sink = keel::log::file_sink::create({.path = argv[1]});
  if (!sink) return 3;
  // A long idle sleep: without the signal handler's flush, lines would
  // still be waiting in the buffer when the process dies.
  if (!keel::log::configure({.sinks = {*sink}, .idle_sleep = std::chrono::seconds(1)})) return 4;
  keel::log::logger log("crash");
  keel::log::flush();  // the backend is up and idle
  for (int i = 0; i < n; ++i)
    log.info("line", keel::log::kv("i", i));
  if (mode == "segv") {
#if defined(KEEL_SANITIZED)
    std::raise(SIGSEGV);  // UBSan would stop at the null store before the fault
#else
    *g_null = 1;
#endif
  } else if (mode == "abort") {
    std::abort();
  } else if (mode == "term") {
    std::raise(SIGTERM);
  } else if (mode == "fpe") {
    std::raise(SIGFPE);
  } else if (mode == "bus") {
    std::raise(SIGBUS);
  } else if (mode == "ill") {
    std::raise(SIGILL);
  } else if (mode == "chain-term") {
    std::raise(SIGTERM);
  } else if (mode == "exit") {
    std::exit(0);
  }
  return g_zero;
}
