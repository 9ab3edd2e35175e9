#!/usr/bin/env bash
# Install the Debian packages the test suite needs, when they are missing.
# `npm test` runs this first, so a fresh machine with only Node.js and npm
# gets everything. Without root it only reports what is missing; the tests
# that need those tools then fail or skip with a reason.
set -euo pipefail

# command-to-check:debian-package
NEEDED=(
  "setpriv:util-linux"
  "promtool:prometheus"
  "prometheus-node-exporter:prometheus-node-exporter"
  "cc:gcc"
  "/usr/include/stdio.h:libc6-dev"
)

missing=()
for pair in "${NEEDED[@]}"; do
  cmd=${pair%%:*}
  pkg=${pair#*:}
  if [[ "$cmd" == /* ]]; then
    [[ -e "$cmd" ]] || missing+=("$pkg")
  else
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "test-deps: missing Debian packages (need root to install): ${missing[*]}" >&2
  exit 0
fi
echo "test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
