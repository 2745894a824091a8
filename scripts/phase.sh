#!/usr/bin/env bash
# Usage: phase.sh NAME CMD...  - run CMD, print and record its wall time (build/phase-times.txt).
name=$1; shift
mkdir -p build
start=$(date +%s)
echo "== phase ${name}: start $(date -u +%T)"
"$@"
rc=$?
secs=$(( $(date +%s) - start ))
printf '%s\t%d\t%d\n' "$name" "$secs" "$rc" >> build/phase-times.txt
echo "== phase ${name}: ${secs} s (exit ${rc})"
exit $rc
