#!/usr/bin/env bash
# install-deps.sh — installs keel's build, test and benchmark dependencies from
# Debian 12 packages. Idempotent: it asks dpkg what is present and installs only
# what is missing, so a second run does nothing and needs no network.
#
#   scripts/install-deps.sh            # everything (build, test, bench, run)
#   scripts/install-deps.sh --check    # report what is missing, install nothing
#
# docs/dependencies.md explains why each package is here.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make pkg-config ninja-build
  # libraries
  libboost1.81-dev libfmt-dev nlohmann-json3-dev libyaml-cpp-dev libsqlite3-dev
  libcurl4-openssl-dev libssl-dev libcli11-dev zlib1g-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-16 clang-tidy-16 libclang-rt-16-dev clang-format
  # peers and real processes the integration tests and benchmarks start
  libspdlog-dev prometheus prometheus-alertmanager nginx-light wrk
  python3-fastapi python3-uvicorn python3-pythonjsonlogger python3-requests
  # used by tests that check real behaviour
  curl sqlite3 procps python3-prometheus-client
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
[[ "${1:-}" == "--check" ]] && exit 1

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    exec sudo -n "$0" "$@"
  fi
  echo "install-deps: not root. Run as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Services from these packages must not start on install: tests start their own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[[ $created_policy -eq 1 ]] && rm -f "$policy"' EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${#missing[@]} packages"
