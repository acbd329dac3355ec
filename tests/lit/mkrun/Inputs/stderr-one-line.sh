#!/usr/bin/env bash
# stderr-one-line.sh CMD [ARGS...]
#
# Runs CMD with a time limit and checks it failed the way mkrun promises on bad input:
# exit status 1 (a crash, a hang, a CLI-parser status or success fails the test) and
# exactly one line on stderr, which it prints (on stdout) for FileCheck. What CMD writes
# on stdout is ignored: mkrun may already have echoed the prompt ids when generation
# refuses a token.
set -u
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
timeout 60 "$@" >"$out" 2>"$err"
rc=$?
if [ "$rc" -eq 124 ]; then
  echo "stderr-one-line.sh: '$*' hung (killed after 60 s)" >&2; cat "$err" >&2; exit 1
fi
if [ "$rc" -ne 1 ]; then
  echo "stderr-one-line.sh: '$*' exited with status $rc, expected 1" >&2
  cat "$out" "$err" >&2
  exit 1
fi
lines=$(wc -l <"$err")
if [ "$lines" -ne 1 ] || [ -n "$(tail -c 1 "$err")" ]; then
  echo "stderr-one-line.sh: '$*' printed $lines line(s) on stderr, expected one line" >&2
  cat "$err" >&2
  exit 1
fi
cat "$err"
