#!/usr/bin/env bash
# Installs the browser the dashboard's end-to-end tests drive: Debian's chromium, at /usr/bin/chromium.
# Idempotent: does nothing when it is already there. Needs root (CI runs as root) and apt-get;
# otherwise it says what to do and exits 0, and the end-to-end tests skip with that reason.
set -euo pipefail

BROWSER=/usr/bin/chromium

if [ -x "$BROWSER" ]; then
  echo "install-browser: $BROWSER is already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-browser: $BROWSER is missing and this is not root: install it with 'sudo apt-get install -y chromium'"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: $BROWSER is missing and there is no apt-get: install Chromium and put it at $BROWSER"
  exit 0
fi

echo "install-browser: $BROWSER is missing: apt-get update && apt-get install -y chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium
if [ -x "$BROWSER" ]; then
  echo "install-browser: installed $("$BROWSER" --version 2>/dev/null || echo "$BROWSER")"
else
  echo "install-browser: apt-get finished but $BROWSER is still missing" >&2
  exit 1
fi
