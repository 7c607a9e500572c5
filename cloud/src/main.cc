// edgeward-verifier: the cloud verifier service.
//   edgeward-verifier --config /etc/edgeward/verifier/config.yaml
//   edgeward-verifier init --dir DIR --host verifier.example.com [--host 10.0.0.5]
// Exit status: 0 ok (stopped by SIGTERM/SIGINT), 2 bad configuration, 3 failed to start.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>

#include "edgeward/cloud/verifier.h"

int main(int argc, char** argv) {
  using namespace edgeward;
  CLI::App app{"edgeward-verifier: registers nodes, appraises their attestation evidence, serves bundles"};
  std::string config_path;
  app.add_option("--config", config_path, "configuration file (YAML)");
  auto* init = app.add_subcommand("init", "create a state directory: node CA, server and admin certificates, keys, config");
  std::string init_dir;
  std::vector<std::string> hosts;
  init->add_option("--dir", init_dir, "directory to create (0700)")->required();
  init->add_option("--host", hosts, "host name or IP address the nodes use (repeatable)")->required();
  CLI11_PARSE(app, argc, argv);

  if (init->parsed()) {
    Status s = cloud::InitVerifierDir(init_dir, hosts);
    if (!s.ok()) {
      std::fprintf(stderr, "edgeward-verifier init: %s\n", s.ToString().c_str());
      return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kAlreadyExists ? 2 : 3;
    }
    std::printf("created %s: config.yaml (set ek_ca_bundle), node-ca.crt, server.crt, admin.crt/.key, seal.key\n",
                init_dir.c_str());
    return 0;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "edgeward-verifier: --config FILE is required (or: init --dir DIR --host NAME)\n");
    return 2;
  }
  auto config = cloud::LoadVerifierConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "edgeward-verifier: %s\n", config.status().ToString().c_str());
    return 2;
  }
  // Block the stop signals before any thread starts, and take them in one
  // thread with sigwait: no async-signal-safety concerns.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    std::perror("edgeward-verifier: pthread_sigmask");
    return 3;
  }
  signal(SIGPIPE, SIG_IGN);
  auto server = cloud::VerifierServer::Start(*config);
  if (!server.ok()) {
    std::fprintf(stderr, "edgeward-verifier: %s\n", server.status().ToString().c_str());
    return server.status().code() == StatusCode::kInvalidArgument ? 2 : 3;
  }
  std::fprintf(stderr, "edgeward-verifier: listening on %s:%d (API %s)\n", config->listen_address.c_str(),
               (*server)->port(), std::string(cloud::kApiPrefix).c_str());
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    (*server)->Stop();
  });
  (*server)->Wait();
  stopper.join();
  return 0;
}
