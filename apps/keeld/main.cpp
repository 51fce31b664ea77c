// keeld: keel's monitoring and alerting service. Argument parsing, signals
// and the process lifecycle; everything else is service.cpp.
//
//   keeld [--listen HOST:PORT] [--data-dir DIR] [--config FILE] [--io-threads N]
//         [--log-level LEVEL] [--port-file FILE]
//   keeld check-config FILE
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>

#include "config.hpp"
#include "keel/core/version.hpp"
#include "keel/log/backend.hpp"
#include "service.hpp"

int main(int argc, char** argv) {
  CLI::App app{"keeld: keel's monitoring and alerting service"};
  keeld::flag_overrides flags;
  std::string config_file, port_file, listen, data_dir, log_level;
  unsigned io_threads = 0;
  auto* o_listen = app.add_option("--listen", listen, "HOST:PORT to listen on (127.0.0.1:8000)");
  auto* o_data = app.add_option("--data-dir", data_dir, "Data directory (./var)");
  app.add_option("--config", config_file, "YAML configuration (default: the embedded one)");
  auto* o_threads = app.add_option("--io-threads", io_threads, "I/O threads (0: one per core)");
  auto* o_level = app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  app.add_option("--port-file", port_file, "Write the bound port here once listening");
  std::string check_file;
  auto* check = app.add_subcommand("check-config", "Validate a configuration file and exit");
  check->add_option("file", check_file, "The YAML file")->required();
  app.set_version_flag("--version", std::string("keeld ") + std::string(keel::version()));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a usage error exits 2, as Unix tools do.
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (*check) return keeld::check_config_command(check_file);
  if (*o_listen) flags.listen = listen;
  if (*o_data) flags.data_dir = data_dir;
  if (*o_threads) flags.io_threads = io_threads;
  if (*o_level) flags.log_level = log_level;

  const auto env = keeld::keel_environment();
  auto cfg = keeld::load_config({.file = config_file, .env = env, .flags = flags});
  if (!cfg) {
    std::fprintf(stderr, "keeld: %s\n", std::string(cfg.error().message()).c_str());
    return 2;
  }

  // Everything keeld writes (the database and its WAL, logs, the admin
  // token) holds events, notification bodies and receiver URLs with keys:
  // its own user's only, whatever umask it was started with.
  ::umask(077);

  // The signals keeld acts on are taken by sigwait() below, on this thread:
  // block them before any other thread exists so every thread inherits it.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP})
    sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto svc = keeld::service::create(*cfg);
  if (!svc) {
    std::fprintf(stderr, "keeld: cannot start: %s\n", std::string(svc.error().message()).c_str());
    return 1;
  }
  (*svc)->start();
  const auto port = (*svc)->port();
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << port << '\n';
    std::rename(tmp.c_str(), port_file.c_str());  // readers never see a partial file
  }
  std::fprintf(stderr,
               "keeld: listening on http://%s:%u\n"
               "keeld: try  curl http://%s:%u/health   and   curl http://%s:%u/metrics\n"
               "keeld: admin API: curl -H \"Authorization: Bearer $(cat %s/admin_token)\" "
               "http://%s:%u/admin/api/monitoring/health/services\n",
               cfg->listen_host.c_str(), port, cfg->listen_host.c_str(), port,
               cfg->listen_host.c_str(), port, cfg->data_dir.c_str(), cfg->listen_host.c_str(),
               port);

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      // Logged, counted and reported by reload(); stderr too, for a terminal.
      auto r = (*svc)->reload(
          keeld::load_config({.file = cfg->source_file, .env = env, .flags = flags}));
      std::fprintf(stderr, "keeld: SIGHUP: %s\n",
                   r ? "configuration reloaded" : std::string(r.error().message()).c_str());
      continue;
    }
    break;  // SIGTERM, SIGINT
  }
  (*svc)->stop();
  keel::log::shutdown();
  return 0;
}
