#!/usr/bin/env bash
# A newcomer's first command, checked on a fresh clone of HEAD in a scratch directory: `npm ci` accepts the
# committed lockfile, and neither it nor a later `npm install` changes a tracked file. Takes minutes when
# better-sqlite3 has to compile (no prebuilt binary reachable for this Node and platform).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git clone -q "$repo" "$scratch/skygate"
cd "$scratch/skygate"
npm ci --no-audit --no-fund
npm install --no-audit --no-fund
if [ -n "$(git status --porcelain)" ]; then
  git status --short >&2
  echo "check-fresh-clone: the clone is dirty after npm ci and npm install" >&2
  exit 1
fi
echo "check-fresh-clone: npm ci accepted the lockfile; the clone stays clean after npm install"
