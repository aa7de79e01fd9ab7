# Sourced by the offline image builds: copy installed Debian packages of this machine (with
# everything they depend on that is installed) into a root filesystem, as dpkg laid them out.
# No registry and no mirror: only what `dpkg -L` lists on this machine is copied.
#
#   . sandbox/debian-packages.sh
#   copy_packages ROOTFS PKG...      # fails naming any PKG that is not installed
#   COPY_ONLY=REGEX copy_packages …  # only the packages of the closure whose name matches

# The installed packages PKG... depend on (Depends and Pre-Depends, the first installed
# alternative of each), PKG... included; one per line.
package_closure() {
  local -A seen=() installed=() provider=()
  local status pkg provides p
  # Installed packages, and which of them provides each virtual package (one pass of dpkg).
  while IFS=$'\t' read -r status pkg provides; do
    [ "$status" = "install ok installed" ] || continue
    installed[$pkg]=1
    IFS=',' read -ra p <<<"$provides"
    for v in "${p[@]}"; do v=${v%%(*}; v=${v//[[:space:]]/}; [ -n "$v" ] && [ -z "${provider[$v]:-}" ] && provider[$v]=$pkg; done
  done < <(dpkg-query -W -f='${Status}\t${Package}\t${Provides}\n')
  local queue=("$@") deps dep alt name
  while [ ${#queue[@]} -gt 0 ]; do
    pkg=${queue[0]}; queue=("${queue[@]:1}")
    [ -n "${seen[$pkg]:-}" ] && continue
    seen[$pkg]=1
    echo "$pkg"
    deps=$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$pkg" 2>/dev/null || true)
    IFS=',' read -ra fields <<<"$deps"
    for dep in "${fields[@]}"; do
      IFS='|' read -ra alts <<<"$dep"
      for alt in "${alts[@]}"; do
        name=${alt%%(*}; name=${name//[[:space:]]/}; name=${name%:any}
        [ -z "$name" ] && continue
        if [ -n "${installed[$name]:-}" ]; then queue+=("$name"); break; fi
        if [ -n "${provider[$name]:-}" ]; then queue+=("${provider[$name]}"); break; fi
      done
    done
  done
}

package_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# Copy the files of PKG... and their installed dependencies into ROOTFS at their canonical
# paths (/lib → /usr/lib on a merged-/usr system), symbolic links kept; documentation,
# manual pages and translations left out. Links into /etc/alternatives come along.
copy_packages() {
  local root=$1; shift
  local pkg missing=()
  for pkg in "$@"; do package_installed "$pkg" || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "debian-packages.sh: not installed on this machine: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    return 1
  fi
  local list
  list=$(mktemp)
  package_closure "$@" | grep -E "${COPY_ONLY:-.}" | while read -r pkg; do dpkg -L "$pkg" 2>/dev/null; done \
    | grep -Ev '^/usr/share/(doc|man|info|locale|lintian|bug)/' | sort -u >"$list"
  # Canonical paths (on a merged-/usr system /lib, /bin, … are links into /usr), existing files
  # and links only, plus the /etc/alternatives links they point through; then one tar.
  python3 - "$list" <<'PY' >"$list.canon"
import os, sys
seen = set()
for line in open(sys.argv[1]):
    f = line.rstrip("\n")
    if not os.path.lexists(f) or (os.path.isdir(f) and not os.path.islink(f)):
        continue
    real = os.path.join(os.path.realpath(os.path.dirname(f)), os.path.basename(f))
    seen.add(real)
    if os.path.islink(real) and os.readlink(real).startswith("/etc/alternatives/"):
        seen.add(os.readlink(real))
# Links that update-alternatives made for these packages (cc, c++, java, …): dpkg -L does not
# list them, yet they are how the tools are called.
alts = set()
for name in os.listdir("/etc/alternatives"):
    link = os.path.join("/etc/alternatives", name)
    if os.path.islink(link) and os.path.realpath(link) in seen:
        alts.add(link)
for d in ("/usr/bin", "/usr/sbin"):
    for name in os.listdir(d):
        link = os.path.join(d, name)
        if os.path.islink(link) and os.readlink(link) in alts:
            seen.add(link)
seen |= alts
for f in sorted(seen):
    print(f[1:])
PY
  tar -C / --no-recursion -cf - -T "$list.canon" | tar -C "$root" -xf -
  rm -f "$list.canon"
  rm -f "$list"
}

# Unpack PKG... from this Debian release's backports (e.g. bookworm-backports) into ROOTFS,
# without installing them on this machine: apt downloads them with a private source list,
# made from the Debian archive this machine's own apt sources name, and dpkg -x unpacks them.
#   unpack_backports ROOTFS PKG...
unpack_backports() {
  local root=$1; shift
  local codename uri work
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || { echo "debian-packages.sh: no VERSION_CODENAME in /etc/os-release" >&2; return 1; }
  # The archive that serves "<codename> main" here (deb822 .sources or one-line sources.list).
  uri=$(awk -v c="$codename" '
    /^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == c) found = u } END { if (found) print found }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
  [ -n "$uri" ] || uri=$(awk -v c="$codename" '$1 == "deb" && $3 == c { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  [ -n "$uri" ] || { echo "debian-packages.sh: no apt source for $codename to take $codename-backports from" >&2; return 1; }
  work=$(mktemp -d /tmp/evogit-backports.XXXXXX)
  mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
  printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" "$codename" >"$work/parts/backports.sources"
  local opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/parts" -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" -qq update
  (cd "$work/debs" && apt-get "${opts[@]}" -qq download "$@")
  local deb
  for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$root"; done
  rm -rf "$work"
}
