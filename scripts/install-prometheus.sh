#!/usr/bin/env bash
# Installs the Prometheus server the reporter-prometheus end-to-end test scrapes with: Debian's
# prometheus package, at /usr/bin/prometheus (with /usr/bin/promtool, which lints the exposition).
# Idempotent: does nothing when both are there. Needs root (CI runs as root) and apt-get;
# otherwise it says what to do and exits 0, and the tests skip with that reason (under CI=true they fail).
# The package's own service is neither started nor enabled: the test runs its own server on loopback.
set -euo pipefail

SERVER=/usr/bin/prometheus
LINTER=/usr/bin/promtool

if [ -x "$SERVER" ] && [ -x "$LINTER" ]; then
  echo "install-prometheus: $SERVER is already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-prometheus: $SERVER is missing and this is not root: install it with 'sudo apt-get install -y --no-install-recommends prometheus'"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-prometheus: $SERVER is missing and there is no apt-get: install Prometheus 2.x and put prometheus and promtool in /usr/bin (or set LOADLIGHT_PROMETHEUS and LOADLIGHT_PROMTOOL)"
  exit 0
fi

echo "install-prometheus: $SERVER is missing: apt-get update && apt-get install -y prometheus"
export DEBIAN_FRONTEND=noninteractive
# Without an init system (a container) the package's service cannot start; policy-rc.d keeps
# apt from trying, and removing it afterwards leaves the machine as it was.
created_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
trap 'if [ -n "$created_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
apt-get update
apt-get install -y --no-install-recommends prometheus
if [ -x "$SERVER" ] && [ -x "$LINTER" ]; then
  echo "install-prometheus: installed $("$SERVER" --version 2>/dev/null | head -n 1 || echo "$SERVER")"
else
  echo "install-prometheus: apt-get finished but $SERVER or $LINTER is still missing" >&2
  exit 1
fi
