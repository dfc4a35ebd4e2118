#!/usr/bin/env bash
# The test command (npm test): installs what is missing, starts a local PostgreSQL, runs every suite.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x node_modules/.bin/tsx ] || npm ci --no-audit --no-fund

# Real tools the tests drive, from Debian's packages: curl and jq (the README tour), qemu-img (disk
# conversion), xmllint (OVF schema validation), the AWS CLI (the EC2 front's tour), boto3 (a second
# EC2 client) and HAProxy 2.6 (the load balancer the HA tests send traffic through; found at
# /usr/sbin/haproxy, which is not on every PATH). Debian's python3-boto3 installs for /usr/bin/python3,
# which the tests call by that path.
declare -A package_of=([curl]=curl [jq]=jq [qemu-img]=qemu-utils [xmllint]=libxml2-utils [/usr/bin/aws]=awscli
  [/usr/sbin/haproxy]=haproxy)
missing=()
for tool in "${!package_of[@]}"; do command -v "$tool" >/dev/null || missing+=("${package_of[$tool]}"); done
/usr/bin/python3 -c 'import boto3' 2>/dev/null || missing+=(python3-boto3)

# ssh-keygen: the key-pair tests check fingerprints against the real tool.
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# The store suite runs against PostgreSQL too; a local server on 127.0.0.1 is started (or installed) here.
if [ -z "${SKYGATE_TEST_DATABASE_URL:-}" ]; then
  SKYGATE_TEST_DATABASE_URL="$(bash scripts/ensure-postgres.sh | tail -n 1)"
  export SKYGATE_TEST_DATABASE_URL
fi

# Test files run one after another: several start gateways and time-sensitive simulations,
# and this machine has two cores. A test still running after 5 minutes fails (the slowest, the README tours run
# twice, take about a minute), so one hung promise cannot stall the whole run.
if [ $# -eq 0 ]; then set -- test/unit/*.test.ts test/contract/*.test.ts test/e2e/*.test.ts; fi
exec node_modules/.bin/tsx --test --test-concurrency=1 --test-timeout=300000 "$@"
