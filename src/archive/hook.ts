/**
 * `evogit remote-hook`: a pre-receive hook for a self-hosted bare remote that holds an evogit
 * archive, so that each writer can only write its own refs. The archive's readers already
 * ignore much of what a hostile writer can push (screen.ts); the hook stops it at the door:
 *  - the root (`<prefix>/root`) is created once and never moved nor deleted;
 *  - under `<prefix>/`, only node branches `<prefix>/<writer>/<seq>` (no `evo/bob/1/x`, which
 *    would block bob's `evo/bob/1`), created only by that writer's owner, never moved;
 *  - `refs/notes/evogit/<writer>` and `refs/evogit/claims/<writer>/<id>` only by the writer's
 *    owner, the notes only fast-forward (append-only);
 *  - promotion tags only `<prefix>-promoted/<writer>/<sha12>` by the writer's owner, never moved.
 * Admins (git config evogit.admins) may prune others' nodes and do what the rules forbid.
 */

const TEMPLATE = String.raw`#!/bin/sh
# evogit pre-receive hook: per-writer namespaces for the archive with branch prefix '@PREFIX@'.
# Install: save as hooks/pre-receive in the bare repository and make it executable.
#
# Who pushes: $EVOGIT_PUSHER (set it in your SSH forced command or HTTP server), else gitolite's
# $GL_USER, GitLab's $GL_USERNAME, Gitea's $GITEA_PUSHER_NAME, or $REMOTE_USER.
# Which writers a pusher owns (shell patterns):  git config evogit.writers.<pusher> "alice alice-*"
# Who may prune others' nodes and override:      git config evogit.admins "carol"
# Without any pusher identity every write to the archive's refs is refused, unless
#                                                git config evogit.anyPusher true
set -u
prefix='@PREFIX@'
pusher=${'$'}{EVOGIT_PUSHER:-${'$'}{GL_USER:-${'$'}{GL_USERNAME:-${'$'}{GITEA_PUSHER_NAME:-${'$'}{REMOTE_USER:-}}}}}
admins=$(git config --get evogit.admins || true)
any=$(git config --bool --get evogit.anyPusher || echo false)
status=0

is_admin() {
  [ -n "$pusher" ] || return 1
  for a in $admins; do [ "$a" = "$pusher" ] && return 0; done
  return 1
}
owns() {
  if [ -z "$pusher" ]; then [ "$any" = true ]; return; fi
  is_admin && return 0
  for p in $(git config --get "evogit.writers.$pusher" || true); do
    case "$1" in $p) return 0 ;; esac
  done
  return 1
}
valid_name() {
  case "$1" in '' | [!A-Za-z0-9]* | *[!A-Za-z0-9._-]*) return 1 ;; esac
  return 0
}
refuse() {
  echo "evogit: refusing $refname: $*" >&2
  status=1
}
who() { if [ -n "$pusher" ]; then echo "$pusher"; else echo "an unidentified pusher (set EVOGIT_PUSHER)"; fi; }

while read -r old new refname; do
  case "$old" in *[!0]*) exists=1 ;; *) exists=0 ;; esac
  case "$new" in *[!0]*) deleting=0 ;; *) deleting=1 ;; esac
  case "$refname" in
    "refs/heads/$prefix/root")
      if [ "$exists" = 1 ] && ! is_admin; then refuse "the archive root never moves (every clone has pinned it)"; fi
      ;;
    "refs/heads/$prefix/"*)
      rest=${'$'}{refname#"refs/heads/$prefix/"}
      writer=${'$'}{rest%%/*}
      seq=${'$'}{rest#*/}
      case "$seq" in '' | 0* | *[!0-9]*) bad_seq=1 ;; *) bad_seq=0 ;; esac
      if [ "$writer" = "$rest" ] || [ "$bad_seq" = 1 ] || ! valid_name "$writer"; then
        refuse "not a node branch name ($prefix/<writer>/<seq>); it would block the writer's own branches"
      elif [ "$deleting" = 1 ]; then
        owns "$writer" || is_admin || refuse "only $writer's owner or an admin prunes it, not $(who)"
      elif [ "$exists" = 1 ]; then
        is_admin || refuse "a node branch never moves"
      else
        owns "$writer" || refuse "$(who) may not write as $writer"
      fi
      ;;
    refs/notes/evogit/*)
      writer=${'$'}{refname#refs/notes/evogit/}
      if ! valid_name "$writer"; then
        refuse "not a writer's notes ref"
      elif [ "$deleting" = 1 ]; then
        is_admin || refuse "notes are append-only"
      elif ! owns "$writer"; then
        refuse "$(who) may not write $writer's evaluations"
      elif [ "$exists" = 1 ] && ! git merge-base --is-ancestor "$old" "$new"; then
        refuse "notes are append-only (not a fast-forward)"
      fi
      ;;
    refs/evogit/claims/*)
      rest=${'$'}{refname#refs/evogit/claims/}
      writer=${'$'}{rest%%/*}
      id=${'$'}{rest#*/}
      if [ "$writer" = "$rest" ] || ! valid_name "$writer" || ! valid_name "$id"; then
        refuse "not a claim ref (refs/evogit/claims/<writer>/<id>)"
      else
        owns "$writer" || is_admin || refuse "$(who) may not write $writer's claims"
      fi
      ;;
    "refs/tags/$prefix-promoted/"*)
      rest=${'$'}{refname#"refs/tags/$prefix-promoted/"}
      writer=${'$'}{rest%%/*}
      if [ "$exists" = 1 ] && [ "$deleting" = 0 ]; then
        refuse "a promotion tag never moves"
      elif [ "$writer" = "$rest" ]; then
        is_admin || refuse "an unattributed promotion tag counts only where it was made: promote with --writer"
      elif ! valid_name "$writer"; then
        refuse "not a promotion tag name ($prefix-promoted/<writer>/<sha12>)"
      else
        owns "$writer" || refuse "$(who) may not promote as $writer"
      fi
      ;;
  esac
done
exit $status
`;

/** The hook's text for an archive with this branch prefix. */
export function remoteHook(prefix: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(prefix)) throw new Error(`branch prefix "${prefix}" cannot be written into a hook`);
  return TEMPLATE.split('@PREFIX@').join(prefix);
}
