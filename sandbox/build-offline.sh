#!/usr/bin/env bash
# Build evogit's sandbox images without a registry: copy this machine's own node, npm,
# python3 and a small shell toolset (with the shared libraries ldd names) into a root
# filesystem and `docker import` it. Idempotent: an existing image is kept unless --force.
#
#   sandbox/build-offline.sh [--force] [--tag evogit/node:20] [--tag evogit/python:3]
#
# Why host binaries and not debootstrap: debootstrap needs the distribution mirror, which an
# offline machine cannot reach, and takes minutes; copying the host's binaries takes seconds.
set -euo pipefail

force=0
tags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --tag) tags+=("$2"); shift ;;
    *) echo "build-offline.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#tags[@]} -eq 0 ] && tags=(evogit/node:20 evogit/python:3)

if [ "$force" = 0 ]; then
  missing=0
  for t in "${tags[@]}"; do docker image inspect "$t" >/dev/null 2>&1 || missing=1; done
  if [ "$missing" = 0 ]; then echo "build-offline.sh: ${tags[*]} already present"; exit 0; fi
fi

need() { command -v "$1" >/dev/null 2>&1 || { echo "build-offline.sh: $1 is required on the host" >&2; exit 1; }; }
need docker; need ldd; need tar
node_bin=$(command -v node); node_bin=$(readlink -f "$node_bin")
# The distribution's python (not a pyenv shim): its stdlib lives in /usr/lib/python3.X.
py_bin=""
for c in /usr/bin/python3 /usr/local/bin/python3; do [ -x "$c" ] && { py_bin=$(readlink -f "$c"); break; }; done
[ -n "$py_bin" ] || { echo "build-offline.sh: no /usr/bin/python3 on the host" >&2; exit 1; }
py_ver=$(basename "$py_bin")            # python3.11
py_lib=$(dirname "$(dirname "$py_bin")")/lib/$py_ver
[ -d "$py_lib" ] || { echo "build-offline.sh: no stdlib at $py_lib" >&2; exit 1; }
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")   # .../node_modules/npm

root=$(mktemp -d /tmp/evogit-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/usr/{bin,lib,lib64,sbin} "$root"/{etc,tmp,work,opt/evogit,proc,sys,dev,home/evogit}
ln -s usr/bin "$root/bin"; ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"; ln -s usr/sbin "$root/sbin"
chmod 1777 "$root/tmp"

# Copy a file to its canonical location (symlinked dirs such as /lib resolved), dereferenced.
put() {
  local src=$1 name dir
  name=$(basename "$src")
  dir=$(readlink -f "$(dirname "$src")")
  mkdir -p "$root$dir"
  [ -e "$root$dir/$name" ] || cp -L "$src" "$root$dir/$name"
}
with_libs() {
  local f
  for f in "$@"; do
    put "$f"
    ldd "$f" 2>/dev/null | awk '/=> \//{print $3} $1 ~ /^\/.*ld-linux/{print $1}' | while read -r lib; do put "$lib"; done
  done
}

tools="bash dash cat ls cp mv rm mkdir rmdir ln chmod touch echo env sleep head tail wc sort uniq tr cut
 grep sed find xargs tar gzip id whoami true false yes dd uname date basename dirname readlink realpath
 printf test expr seq tee mktemp stat du df kill timeout nproc"
bins=()
for t in $tools; do p=$(command -v "$t" 2>/dev/null || true); case "$p" in /*) bins+=("$(readlink -f "$p")");; esac; done
with_libs "$node_bin" "$py_bin" "${bins[@]}"
for t in $tools; do
  p=$(command -v "$t" 2>/dev/null || true)
  case "$p" in /*) r=$(readlink -f "$p"); [ -e "$root/usr/bin/$t" ] || ln -s "$r" "$root/usr/bin/$t";; esac
done
ln -sf dash "$root/usr/bin/sh"
[ -e "$root/usr/bin/node" ] || ln -s "$node_bin" "$root/usr/bin/node"
ln -sf "$py_ver" "$root/usr/bin/python3"; ln -sf "$py_ver" "$root/usr/bin/python"

# npm (a JavaScript program run by node)
mkdir -p "$root/usr/lib/node_modules"
cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"

# Python's standard library without its test suite and GUI parts; its extension modules' libs.
mkdir -p "$root$py_lib"
tar -C "$py_lib" --exclude=./test --exclude=./idlelib --exclude=./tkinter --exclude=./turtledemo \
  --exclude=./ensurepip --exclude=./lib2to3 --exclude='__pycache__' --exclude=./site-packages -cf - . | tar -C "$root$py_lib" -xf -
for so in "$py_lib"/lib-dynload/*.so; do
  ldd "$so" 2>/dev/null | awk '/=> \//{print $3}' | while read -r lib; do put "$lib"; done
done

# pytest from Debian's packages, when this machine has them (.ci/docker-setup.sh installs them):
# the Python packages only (python3-pytest and what it imports), over the stdlib copied above.
. "$(dirname "$0")/debian-packages.sh"
pytest_pkgs=(python3-pytest python3-pytest-timeout python3-pytest-cov)
have=()
for p in "${pytest_pkgs[@]}"; do package_installed "$p" && have+=("$p"); done
if [ ${#have[@]} -gt 0 ]; then
  COPY_ONLY='^python3-(attr|more-itertools|pkg-resources|pluggy|py|iniconfig|packaging|coverage|pytest.*)$' copy_packages "$root" "${have[@]}"
else
  echo "build-offline.sh: no python3-pytest on this machine: the images have no pytest (apt-get install -y ${pytest_pkgs[*]})" >&2
fi

cat >"$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
evogit:x:1000:1000:evogit sandbox user:/home/evogit:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
P
cat >"$root/etc/group" <<'G'
root:x:0:
evogit:x:1000:
nogroup:x:65534:
G
echo "hosts: files" >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"

# The harness scripts ride along (evogit also copies them into every run).
here=$(cd "$(dirname "$0")" && pwd)
cp -a "$here/harness" "$root/opt/evogit/harness"

# Everything root-owned except the user's own dirs (appended with owner 1000).
first=${tags[0]}
tar -C "$root" --numeric-owner --owner=0 --group=0 --exclude=./work --exclude=./home/evogit -cf "$root.tar" .
tar -C "$root" --numeric-owner --owner=1000 --group=1000 --no-recursion -rf "$root.tar" ./work ./home/evogit
trap 'rm -rf "$root" "$root.tar"' EXIT
docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV HOME=/home/evogit' \
  --change 'WORKDIR /work' \
  --change 'USER 1000:1000' \
  --change 'LABEL evogit.image=offline' \
  --change 'CMD ["/bin/sh"]' \
  "$root.tar" "$first" >/dev/null
for t in "${tags[@]:1}"; do docker tag "$first" "$t"; done
size=$(docker image inspect -f '{{.Size}}' "$first")
echo "build-offline.sh: built ${tags[*]} ($((size / 1024 / 1024)) MB) from $(node --version) and $py_ver"
