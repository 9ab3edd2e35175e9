#!/bin/sh
# Install the vmaudit release binary that fits this machine.
#
#   sh install.sh SOURCE
#
# SOURCE is a release directory (holding the vmaudit-linux-* files and
# SHA256SUMS) or the URL of one, for example
# https://github.com/OWNER/vmaudit/releases/download/v0.1.0
#
# Picks the artifact from the CPU (x86_64 or aarch64), the C library (glibc
# or musl) and, on x86_64 with glibc, AVX2; checks it against SHA256SUMS; and
# installs it as $DESTDIR$PREFIX/bin/vmaudit (default /usr/local/bin/vmaudit).
# On a checksum mismatch nothing is installed and an existing vmaudit is left
# as it was.
#
# Options:
#   --print-artifact  print the artifact name for this machine and exit
#   -h, --help        show this help
#
# Environment:
#   PREFIX   install under $PREFIX/bin (default /usr/local)
#   DESTDIR  staging root put in front of PREFIX (default empty)
#   VMAUDIT_UNAME_M, VMAUDIT_LIBC (glibc|musl), VMAUDIT_CPUINFO (a file):
#            override what is detected, for tests and unusual systems
#   VMAUDIT_FETCH (curl|wget): which downloader to use for a URL
set -eu

PROG=install.sh

die() {
  echo "$PROG: $*" >&2
  exit 1
}

usage() {
  cat <<'EOF'
Usage: install.sh [--print-artifact] SOURCE

Install the vmaudit release binary that fits this machine. SOURCE is a
release directory (the vmaudit-linux-* files and SHA256SUMS) or its URL.
The binary is checked against SHA256SUMS and installed as
$DESTDIR$PREFIX/bin/vmaudit (default /usr/local/bin/vmaudit).

  --print-artifact  print the artifact name for this machine and exit
  -h, --help        show this help

Environment: PREFIX, DESTDIR, VMAUDIT_FETCH (curl|wget), and for tests
VMAUDIT_UNAME_M, VMAUDIT_LIBC (glibc|musl), VMAUDIT_CPUINFO (a file).
EOF
}

detect_arch() {
  m=${VMAUDIT_UNAME_M:-$(uname -m)}
  case $m in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "Unsupported CPU \"$m\": expected x86_64 or aarch64" ;;
  esac
}

detect_libc() {
  if [ -n "${VMAUDIT_LIBC:-}" ]; then
    case $VMAUDIT_LIBC in
      glibc | musl) echo "$VMAUDIT_LIBC" ;;
      *) die "Unknown VMAUDIT_LIBC \"$VMAUDIT_LIBC\": expected glibc or musl" ;;
    esac
    return
  fi
  # glibc answers this; musl's getconf does not know the variable.
  if getconf GNU_LIBC_VERSION >/dev/null 2>&1; then
    echo glibc
  elif ls /lib/ld-musl-*.so.1 >/dev/null 2>&1; then
    echo musl
  elif ldd --version 2>&1 | grep -qi musl; then
    echo musl
  else
    echo glibc
  fi
}

has_avx2() {
  grep -qw avx2 "${VMAUDIT_CPUINFO:-/proc/cpuinfo}" 2>/dev/null
}

pick_artifact() {
  arch=$(detect_arch)
  libc=$(detect_libc)
  case $arch-$libc in
    x64-glibc)
      if has_avx2; then echo vmaudit-linux-x64; else echo vmaudit-linux-x64-baseline; fi
      ;;
    x64-musl) echo vmaudit-linux-x64-musl ;;
    arm64-glibc) echo vmaudit-linux-arm64 ;;
    arm64-musl) die "No release for aarch64 with musl: the releases are x64 (glibc, musl) and arm64 (glibc)" ;;
  esac
}

# fetch SOURCE NAME DEST: copy or download SOURCE/NAME to DEST.
fetch() {
  case $1 in
    http://* | https://* | file://*)
      url="${1%/}/$2"
      tool=${VMAUDIT_FETCH:-}
      if [ -z "$tool" ]; then
        if command -v curl >/dev/null 2>&1; then
          tool=curl
        elif command -v wget >/dev/null 2>&1; then
          tool=wget
        else
          die "Cannot download \"$url\": neither curl nor wget is installed"
        fi
      fi
      case $tool in
        curl) curl -fsSL -o "$3" "$url" || die "Cannot download \"$url\" with curl" ;;
        wget) wget -q -O "$3" "$url" || die "Cannot download \"$url\" with wget" ;;
        *) die "Unknown VMAUDIT_FETCH \"$tool\": expected curl or wget" ;;
      esac
      ;;
    *)
      [ -f "$1/$2" ] || die "Cannot find \"$1/$2\": expected a release directory with $2"
      cp "$1/$2" "$3"
      ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "Cannot verify the checksum: neither sha256sum nor shasum is installed"
  fi
}

main() {
  source=""
  print_only=0
  for arg in "$@"; do
    case $arg in
      -h | --help)
        usage
        exit 0
        ;;
      --print-artifact) print_only=1 ;;
      -*) die "Unknown option \"$arg\": expected --print-artifact or --help" ;;
      *)
        [ -z "$source" ] || die "Unexpected argument \"$arg\": give one release directory or URL"
        source=$arg
        ;;
    esac
  done

  artifact=$(pick_artifact)
  if [ "$print_only" = 1 ]; then
    echo "$artifact"
    exit 0
  fi
  [ -n "$source" ] || die "Missing the release: give a release directory or URL (see --help)"

  bindir="${DESTDIR:-}${PREFIX:-/usr/local}/bin"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmaudit-install.XXXXXX")
  part=""
  trap 'rm -rf "$tmp"; [ -z "$part" ] || rm -f "$part"' EXIT
  trap 'exit 1' HUP INT TERM

  echo "$PROG: fetching $artifact from $source" >&2
  fetch "$source" SHA256SUMS "$tmp/SHA256SUMS"
  fetch "$source" "$artifact" "$tmp/$artifact"

  # A line is "HASH  NAME" (or "HASH *NAME" in binary mode).
  expected=$(awk -v n="$artifact" '$2 == n || $2 == "*" n { print $1; exit }' "$tmp/SHA256SUMS")
  [ -n "$expected" ] || die "SHA256SUMS has no line for $artifact; nothing installed"
  actual=$(sha256_of "$tmp/$artifact")
  if [ "$actual" != "$expected" ]; then
    die "Checksum mismatch for $artifact: SHA256SUMS says $expected, the file is $actual; nothing installed"
  fi

  mkdir -p "$bindir" || die "Cannot create \"$bindir\""
  # Copy under a temporary name in the same directory, then rename: a
  # running vmaudit or a crash never sees half a binary.
  part="$bindir/.vmaudit.part.$$"
  cp "$tmp/$artifact" "$part" || die "Cannot write \"$bindir\" (run as root, or set PREFIX)"
  chmod 0755 "$part"
  mv -f "$part" "$bindir/vmaudit"
  echo "$PROG: installed $bindir/vmaudit ($artifact, sha256 $actual)" >&2

  if version=$("$bindir/vmaudit" --version 2>/dev/null); then
    echo "$version"
  elif [ "$artifact" = vmaudit-linux-x64-musl ]; then
    echo "$PROG: $bindir/vmaudit does not start; on Alpine run: apk add libstdc++" >&2
  fi
}

main "$@"
