# evogit's run supervisor for a plain task container (PID 1, the sandbox user, no capabilities).
# Run as: sh -c "$(cat plain.sh)" evogit-supervisor TIMEOUT_S FILE_LIMIT N PATH1..PATHN -- COMMAND...
# stdin: one line with the run's secret, then a tar stream unpacked into @WORK@.
# stdout: the run's output, then frames "\n<secret> <header>\n" (see src/sandbox/stream.ts):
#   unpack <tar status> <detail>, file <bytes> <truncated> <path> + bytes, exit <status> <timed out> <ms> command.
# Every process of the run is killed before the frames are written, so none can interleave with them.
set -u
IFS= read -r secret || exit 96
timeout_s=$1 limit=$2 n=$3
shift 3
collect=''
i=0
while [ "$i" -lt "$n" ]; do
  collect="$collect$1
"
  shift
  i=$((i + 1))
done
[ "${1:-}" = "--" ] && shift
frame() { printf '\n%s %s\n' "$secret" "$*"; }

tar -x -f - -C @WORK@ 2>/tmp/.evogit-unpack
status=$?
cat /tmp/.evogit-unpack >&2
if [ "$status" -ne 0 ]; then
  frame unpack "$status" "$(tail -c 300 /tmp/.evogit-unpack | tr '\n' ' ')"
  exit 0
fi
if [ -d @ENV@/node_modules ] && [ ! -e @WORK@/node_modules ] && [ ! -L @WORK@/node_modules ]; then
  ln -s @ENV@/node_modules @WORK@/node_modules
fi

rm -f /tmp/.evogit-timed-out
t0=$(date +%s%N 2>/dev/null)
"$@" </dev/null &
pid=$!
(sleep "$timeout_s"; : >/tmp/.evogit-timed-out; kill -9 -1) 2>/dev/null &
wait "$pid"
code=$?
t1=$(date +%s%N 2>/dev/null)
case "$t0$t1" in *[!0-9]*|'') ms=-1 ;; *) ms=$(((t1 - t0) / 1000000)) ;; esac
# Everything but this process (PID 1, which no process of the container can kill).
kill -9 -1 2>/dev/null
timed=0
[ -e /tmp/.evogit-timed-out ] && timed=1

printf '%s' "$collect" | while IFS= read -r f; do
  [ -n "$f" ] || continue
  if [ -f "$f" ] && [ -r "$f" ]; then
    size=$(wc -c <"$f")
    size=$((size))
    trunc=0
    if [ "$size" -gt "$limit" ]; then size=$limit; trunc=1; fi
    frame file "$size" "$trunc" "$f"
    head -c "$size" "$f"
  fi
done
frame exit "$code" "$timed" "$ms" command
exit 0
