#!/usr/bin/env bash
# Build evogit's language images for benchmark suites (the Polyglot exercises) without a
# registry: each is evogit/node:20 (sandbox/build-offline.sh) plus a toolchain taken from
# this machine — its installed Debian packages (dpkg -L), its rustup toolchain, and for
# JavaScript the Jest environment of sandbox/jest/ installed with npm on this machine.
# Idempotent: an existing image is kept unless --force.
#
#   sandbox/build-toolchains.sh [--force] [cpp] [go] [java] [javascript] [rust]   (default: all)
#
#   evogit/cpp:17    g++, cmake, make, Catch2, Boost.Date_Time (Debian)   C++: CMake + the bundled Catch
#   evogit/go:1      Go 1.23 from Debian's backports        go test (exercises need Go >= 1.21)
#   evogit/java:17   openjdk-17-jdk-headless, junit5, libassertj-core-java,
#                    libandroid-json-org-java (Debian)     javac + the JUnit console launcher
#   evogit/jest:29   Jest 29 + Babel at /node_modules      the exercises' own package.json
#   evogit/rust:1    this machine's rustc and cargo, gcc to link, and Debian's packaged crates
#                    (librust-*-dev) as cargo's offline registry
#
# EVOGIT_TOOLCHAIN_REPO=name builds name/cpp:17 … instead of evogit/… (to time a build beside
# the images in use). Debian packages the machine lacks are named with the apt-get line that installs them
# (.ci/docker-setup.sh installs them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/debian-packages.sh"

force=0
langs=()
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    cpp|go|java|javascript|rust) langs+=("$a") ;;
    *) echo "build-toolchains.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
[ ${#langs[@]} -eq 0 ] && langs=(cpp go java javascript rust)

base=evogit/node:20
docker image inspect "$base" >/dev/null 2>&1 || "$here/build-offline.sh" --tag "$base"

tag_of() {
  local repo=${EVOGIT_TOOLCHAIN_REPO:-evogit}
  case "$1" in cpp) echo "$repo/cpp:17" ;; go) echo "$repo/go:1" ;; java) echo "$repo/java:17" ;; javascript) echo "$repo/jest:29" ;; rust) echo "$repo/rust:1" ;; esac
}

# Packages a language needs from this machine's dpkg database.
packages_of() {
  case "$1" in
    # Boost.Date_Time (two exercises use it) when this machine has it: its headers are large.
    cpp) echo g++ cmake make catch2; package_installed libboost-date-time-dev && echo libboost-date-time-dev ;;
    go) echo ;;
    java) echo openjdk-17-jdk-headless junit5 libassertj-core-java libandroid-json-org-java ;;
    rust) echo gcc libc6-dev librust-time-dev librust-anyhow-dev librust-rand-dev ;;
    javascript) echo ;;
  esac
}

# Image settings beyond the base's (user 1000, /work, HOME).
changes_of() {
  # A sandbox run sets PATH itself (/usr/local/bin:/usr/bin:/bin): tools must be found there.
  local path=/usr/local/bin:/usr/bin:/bin
  case "$1" in
    go) echo "ENV GOCACHE=/tmp/go-cache|ENV GOPATH=/tmp/go|ENV GOFLAGS=-mod=mod|ENV CGO_ENABLED=0|ENV GOTOOLCHAIN=local" ;;
    java) echo "ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64|ENV EVOGIT_JUNIT_CLASSPATH=/usr/share/java/junit-platform-console-standalone.jar:/usr/share/java/assertj-core.jar:/usr/share/java/byte-buddy.jar:/usr/share/java/json.jar" ;;
    rust) echo "ENV PATH=$path|ENV CARGO_HOME=/tmp/cargo-home|ENV CARGO_TERM_COLOR=never" ;;
    *) echo "" ;;
  esac
}

build_one() {
  local lang=$1 tag root ctr
  tag=$(tag_of "$lang")
  if [ "$force" = 0 ] && docker image inspect "$tag" >/dev/null 2>&1; then echo "build-toolchains.sh: $tag already present"; return; fi
  local started=$SECONDS
  root=$(mktemp -d /tmp/evogit-toolchain.XXXXXX)
  local pkgs
  pkgs=$(packages_of "$lang")
  # shellcheck disable=SC2086
  [ -n "$pkgs" ] && copy_packages "$root" $pkgs
  case "$lang" in
    go)
      # Debian 12's own Go is 1.19; reference solutions use Go 1.21's standard library (slices).
      unpack_backports "$root" golang-1.23-go golang-1.23-src
      mkdir -p "$root/usr/local/bin"
      ln -s /usr/lib/go-1.23/bin/go "$root/usr/local/bin/go"
      ln -s /usr/lib/go-1.23/bin/gofmt "$root/usr/local/bin/gofmt"
      ;;
    rust)
      local sysroot rustc_bin
      rustc_bin=$(command -v rustc || echo "$HOME/.cargo/bin/rustc")
      [ -x "$rustc_bin" ] || { echo "build-toolchains.sh: rust needs a rustup toolchain on this machine (rustc on PATH or in ~/.cargo/bin)" >&2; return 1; }
      sysroot=$("$rustc_bin" --print sysroot)
      mkdir -p "$root/opt/rust/bin" "$root/opt/rust/lib"
      cp -a "$sysroot"/bin/{cargo,rustc,rustdoc} "$root/opt/rust/bin/"
      tar -C "$sysroot/lib" --exclude=./rustlib/src --exclude=./rustlib/etc -cf - . | tar -C "$root/opt/rust/lib" -xf -
      [ -d "$sysroot/libexec" ] && cp -a "$sysroot/libexec" "$root/opt/rust/libexec"
      # On the PATH a sandbox run has (it sets its own PATH, not the image's).
      mkdir -p "$root/usr/local/bin"
      for b in cargo rustc rustdoc; do ln -s "/opt/rust/bin/$b" "$root/usr/local/bin/$b"; done
      # Debian's packaged crates are the registry: cargo never reaches the network. cargo
      # reads /.cargo/config.toml from every run's working directory (an ancestor of /work).
      mkdir -p "$root/.cargo"
      printf '[source.crates-io]\nreplace-with = "debian"\n\n[source.debian]\ndirectory = "/usr/share/cargo/registry"\n\n[net]\noffline = true\n' >"$root/.cargo/config.toml"
      ;;
    javascript)
      # The benchmark's own devDependencies (sandbox/jest/package.json), at /node_modules: an
      # ancestor of every exercise in /work, so jest, babel-jest and the preset resolve there.
      local stage
      stage=$(mktemp -d /tmp/evogit-jest.XXXXXX)
      cp "$here/jest/package.json" "$here/jest/package-lock.json" "$stage/"
      (cd "$stage" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
      mv "$stage/node_modules" "$root/node_modules"
      rm -rf "$stage"
      ;;
  esac
  ctr=$(docker create --label evogit.build=toolchain "$base" /bin/true)
  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf - . | docker cp - "$ctr:/"
  local args=(--change "LABEL evogit.image=$lang")
  local IFS='|'
  for c in $(changes_of "$lang"); do [ -n "$c" ] && args+=(--change "$c"); done
  unset IFS
  docker commit "${args[@]}" --change 'CMD ["/bin/sh"]' "$ctr" "$tag" >/dev/null
  docker rm "$ctr" >/dev/null
  rm -rf "$root"
  local size
  size=$(docker image inspect -f '{{.Size}}' "$tag")
  echo "build-toolchains.sh: built $tag ($((size / 1024 / 1024)) MB) in $((SECONDS - started)) s"
}

for l in "${langs[@]}"; do build_one "$l"; done
