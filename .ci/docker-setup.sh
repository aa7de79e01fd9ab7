#!/usr/bin/env bash
# Make a Docker daemon available and build evogit's offline sandbox images. Idempotent:
# run it before the test suite in CI (`sudo .ci/docker-setup.sh && EVOGIT_REQUIRE_DOCKER=1 npm test`).
#   EVOGIT_DOCKER_WAIT   seconds to wait for the daemon (default 60)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
wait_s=${EVOGIT_DOCKER_WAIT:-60}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
  echo "docker-setup: installing docker.io"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io debootstrap
fi

if ! docker info >/dev/null 2>&1; then
  echo "docker-setup: starting dockerd in the background (log: /tmp/dockerd.log)"
  as_root sh -c 'nohup dockerd >/tmp/dockerd.log 2>&1 &'
  deadline=$(( $(date +%s) + wait_s ))
  until docker info >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "docker-setup: dockerd did not answer within ${wait_s}s; last log lines:" >&2
      tail -n 20 /tmp/dockerd.log >&2 || true
      exit 1
    fi
    sleep 1
  done
fi
echo "docker-setup: daemon $(docker info -f '{{.ServerVersion}}') is up"

# Debian packages the offline images take from this machine: pytest for the Python images, and
# the toolchains of the benchmark-suite language images (g++/cmake/Catch2, a JDK with JUnit 5 and
# AssertJ, Debian's Rust crates). Rust comes from the machine's rustup toolchain, and Go from
# Debian's backports, unpacked into its image without being installed here.
toolchain_pkgs="python3-pytest python3-pytest-timeout python3-pytest-cov g++ cmake make catch2 openjdk-17-jdk-headless junit5 libassertj-core-java libandroid-json-org-java gcc libc6-dev librust-time-dev librust-anyhow-dev librust-rand-dev"
missing=""
for p in $toolchain_pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "docker-setup: installing$missing"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

"$here/sandbox/build-offline.sh"
# The five language images of the Polyglot sample test, built side by side (each is mostly
# copying, downloading and npm ci, not compiling). Kept by the daemon between runs on the
# same machine: only missing images are built. Timed per image in the build's own output.
started=$SECONDS
pids=()
for lang in cpp go java javascript rust; do "$here/sandbox/build-toolchains.sh" "$lang" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
echo "docker-setup: language images ready in $((SECONDS - started)) s"
