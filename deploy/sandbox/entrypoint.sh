#!/bin/sh
# Entrypoint of the Harness sandbox image. Copies the credentials Harness mounts read-only at
# /run/harness/credentials into $HOME once (a marker file remembers it; nothing already in the
# home is ever overwritten, and no file's contents are ever printed), points SSH_AUTH_SOCK at a
# forwarded SSH agent socket when there is one, then execs the command.
set -eu

credentials=${HARNESS_CREDENTIALS:-/run/harness/credentials}
home=${HOME:-/home/sandbox}
marker="$home/.harness-credentials-copied"

if [ -d "$credentials" ] && [ ! -e "$marker" ]; then
  umask 077
  # Regular files only: a symlink in the credentials could point anywhere.
  (cd "$credentials" && find . -type f) | while IFS= read -r file; do
    file=${file#./}
    target="$home/$file"
    [ -e "$target" ] && continue
    mkdir -p "$(dirname "$target")"
    cp "$credentials/$file" "$target"
  done
  : >"$marker"
fi

if [ -z "${SSH_AUTH_SOCK:-}" ] && [ -S /run/harness/ssh-agent.sock ]; then
  SSH_AUTH_SOCK=/run/harness/ssh-agent.sock
  export SSH_AUTH_SOCK
fi

[ "$#" -gt 0 ] || set -- sh
exec "$@"
