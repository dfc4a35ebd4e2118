#!/usr/bin/env bash
# The benchmark command (npm run bench [-- NAME...]): installs the load generator when it is missing, then runs them.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x node_modules/.bin/tsx ] || npm ci --no-audit --no-fund

# wrk (Debian's package, in C) drives the load comparisons: autocannon, in JavaScript, saturates its own core
# on large pages. BENCH_LOADGEN=autocannon uses autocannon instead.
if [ "${BENCH_LOADGEN:-wrk}" = wrk ] && ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
  elif sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
  else
    echo "wrk is not installed and cannot be (no root): the load comparisons use autocannon" >&2
  fi
fi
exec node_modules/.bin/tsx bench/run.ts "$@"
