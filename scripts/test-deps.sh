#!/usr/bin/env bash
# Install the Debian packages the test suite needs, when they are missing.
# `npm test` runs this first, so a fresh machine with only Node.js and npm
# gets everything. Without root it only reports what is missing; the tests
# that need those tools then fail or skip with a reason.
set -euo pipefail

# command-to-check:debian-package
NEEDED=(
  "setpriv:util-linux"
  # a pseudo-terminal for the colour test
  "script:bsdutils"
  # a real terminal: watch's live view (alternate screen, scrollback) and
  # completions typed into interactive bash and zsh
  "tmux:tmux"
  # release smoke tests (test/release/): ELF checks, the arm64 binary under
  # qemu-user with Debian's arm64 libc, install.sh over HTTP, completions
  "readelf:binutils"
  "qemu-aarch64-static:qemu-user-static"
  "/usr/aarch64-linux-gnu/lib/libc.so.6:libc6-arm64-cross"
  "curl:curl"
  "wget:wget"
  "zsh:zsh"
  # install.sh is checked with shellcheck (test/fixture/install_sh.test.ts)
  "shellcheck:shellcheck"
  "fish:fish"
  # apply tests: read-only bind mounts, strace of the atomic write, systemd's own config order
  "unshare:util-linux"
  "mount:mount"
  "strace:strace"
  "systemd-analyze:systemd"
  # the differential test of boot values runs the real tools
  "/lib/systemd/systemd-sysctl:systemd"
  "/usr/sbin/sysctl:procps"
  # monitoring tests: promtool and a real node_exporter; a C worker with a known layout for inspect
  "promtool:prometheus"
  "prometheus-node-exporter:prometheus-node-exporter"
  "cc:gcc"
  "/usr/include/stdio.h:libc6-dev"
  # output tests: JSON read back by the real jq (no half surrogate pairs)
  "jq:jq"
  # the Ansible role (test/e2e/ansible_role.test.ts): playbook runs and the linter
  "ansible-playbook:ansible-core"
  "ansible-lint:ansible-lint"
  # the container image (scripts/image.ts, test/e2e/image.test.ts): built with
  # umoci, run with podman on runc; kube play's pod needs catatonit
  "umoci:umoci"
  "podman:podman"
  "runc:runc"
  "catatonit:catatonit"
  # packages (test/release/packages*.release.ts): build with dpkg-deb and
  # rpmbuild, check with lintian and rpmlint, install with dpkg and rpm, bash
  # completion through bash-completion's loader, systemd in a podman container
  "dpkg-deb:dpkg"
  "lintian:lintian"
  "rpmbuild:rpm"
  "rpmlint:rpmlint"
  "/usr/share/bash-completion/bash_completion:bash-completion"
  "deb-systemd-helper:init-system-helpers"
  "/usr/lib/systemd/systemd:systemd"
  # the man page (test/e2e/man_page.test.ts, man vmaudit after dpkg -i):
  # groff -man -ww, man -l, mandoc -Tlint
  "groff:groff-base"
  "man:man-db"
  "mandoc:mandoc"
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
