#!/usr/bin/env bash
# one-line-error.sh CMD [ARGS...]
#
# Runs CMD with a time limit and checks it failed the way mkc promises: exit status 1
# (a crash, a hang or another status fails the test) and exactly one line of output,
# stdout and stderr together. Prints that line for FileCheck.
set -u
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 60 "$@" >"$out" 2>&1
rc=$?
if [ "$rc" -eq 124 ]; then
  echo "one-line-error.sh: '$*' hung (killed after 60 s)" >&2; cat "$out" >&2; exit 1
fi
if [ "$rc" -ne 1 ]; then
  echo "one-line-error.sh: '$*' exited with status $rc, expected 1" >&2; cat "$out" >&2
  exit 1
fi
lines=$(wc -l <"$out")
if [ "$lines" -ne 1 ] || [ -n "$(tail -c 1 "$out")" ]; then
  echo "one-line-error.sh: '$*' printed $lines line(s), expected one line" >&2
  cat "$out" >&2
  exit 1
fi
cat "$out"
