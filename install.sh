#!/bin/sh
# Install the vmaudit release binary that fits this machine.
#
#   sh install.sh SOURCE
#
# SOURCE is a release directory (holding the vmaudit-linux-* files and
# SHA256SUMS) or the URL of one, for example
# https://github.com/OWNER/vmaudit/releases/download/v0.1.0
# (a file:///PATH URL is read as the directory PATH, without a downloader).
#
# Picks the artifact from the CPU (x86_64 or aarch64), the C library (glibc
# or musl) and, on x86_64 with glibc, AVX2; checks it against SHA256SUMS; and
# installs it as $DESTDIR$PREFIX/bin/vmaudit (default /usr/local/bin/vmaudit).
# SHA256SUMS is read as `sha256sum -c` reads it (GNU or BSD-tag lines, any
# case of hex, CRLF line ends). On a checksum mismatch nothing is installed
# and an existing vmaudit is left as it was; a directory in the way is an
# error.
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
#   VMAUDIT_FETCH (curl|wget): which downloader to use for an http(s) URL
set -eu

PROG=install.sh

# printf, not echo: dash's echo would turn a backslash in a path into an escape.
say() {
  printf '%s\n' "$PROG: $*" >&2
}

die() {
  say "$@"
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

A file:///PATH source is read as the directory PATH.

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

# file_url_path URL: the local directory a file:// URL names.
file_url_path() {
  path=${1#file://}
  case $path in
    localhost/*) path=${path#localhost} ;;
  esac
  case $path in
    /*) ;;
    *) die "Cannot read \"$1\": expected file:///PATH, a directory on this machine" ;;
  esac
  case $path in
    *%*) die "Cannot read \"$1\": percent-escapes in file:// URLs are not supported; give the directory itself" ;;
  esac
  printf '%s\n' "$path"
}

# fetch SOURCE NAME DEST: copy or download SOURCE/NAME to DEST.
fetch() {
  case $1 in
    file://*)
      # curl reads file:// URLs but wget does not: read the directory directly.
      path=$(file_url_path "$1") || exit 1
      fetch "$path" "$2" "$3"
      ;;
    http://* | https://*)
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

# sha256_of FILE: its SHA-256 in lower-case hex. The file is read from stdin:
# given a name holding a backslash, sha256sum escapes it and puts a
# backslash before the hash too.
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum <"$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 <"$1" | cut -d' ' -f1
  else
    die "Cannot verify the checksum: neither sha256sum nor shasum is installed"
  fi
}

# expected_sums NAME < SHA256SUMS: the lower-case hash of every line for NAME,
# read the way GNU `sha256sum -c` reads them: leading blanks, a leading
# backslash (escaped name), a CR before the newline and upper-case hex are
# all accepted; a line is "HASH  NAME", "HASH *NAME", "HASH NAME" or the BSD
# tag form "SHA256 (NAME) = HASH".
expected_sums() {
  awk -v n="$1" '
    function hex64(h) { return length(h) == 64 && h !~ /[^0-9A-Fa-f]/ }
    {
      line = $0
      sub(/\r$/, "", line)
      sub(/^[ \t]+/, "", line)
      sub(/^\\/, "", line)
      tag = "SHA256 (" n ")"
      if (substr(line, 1, length(tag)) == tag) {
        rest = substr(line, length(tag) + 1)
        sub(/^ */, "", rest)
        if (substr(rest, 1, 1) != "=") next
        rest = substr(rest, 2)
        sub(/^[ \t]+/, "", rest)
        if (hex64(rest)) print tolower(rest)
        next
      }
      hash = substr(line, 1, 64)
      sep = substr(line, 65, 1)
      name = substr(line, 66)
      if (!hex64(hash) || (sep != " " && sep != "\t")) next
      if (substr(name, 1, 1) == " " || substr(name, 1, 1) == "*") name = substr(name, 2)
      if (name == n || name == "./" n) print tolower(hash)
    }'
}

# refuse_directory PATH: a directory where the binary goes is an error; mv
# would put the binary inside it and report success.
refuse_directory() {
  if [ -d "$1" ]; then
    die "Cannot install \"$1\": it is a directory, expected a file or nothing; nothing installed"
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
    printf '%s\n' "$artifact"
    exit 0
  fi
  [ -n "$source" ] || die "Missing the release: give a release directory or URL (see --help)"

  bindir="${DESTDIR:-}${PREFIX:-/usr/local}/bin"
  refuse_directory "$bindir/vmaudit"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmaudit-install.XXXXXX")
  part=""
  trap 'rm -rf "$tmp"; [ -z "$part" ] || rm -f "$part"' EXIT
  trap 'exit 1' HUP INT TERM

  say "fetching $artifact from $source"
  fetch "$source" SHA256SUMS "$tmp/SHA256SUMS"
  fetch "$source" "$artifact" "$tmp/$artifact"

  expected=$(expected_sums "$artifact" <"$tmp/SHA256SUMS")
  [ -n "$expected" ] || die "SHA256SUMS has no line for $artifact; nothing installed"
  actual=$(sha256_of "$tmp/$artifact")
  # Every line for the artifact must agree, as sha256sum -c checks each one.
  for sum in $expected; do
    if [ "$actual" != "$sum" ]; then
      die "Checksum mismatch for $artifact: SHA256SUMS says $sum, the file is $actual; nothing installed"
    fi
  done

  mkdir -p "$bindir" || die "Cannot create \"$bindir\""
  # Copy under a temporary name in the same directory, then rename: a
  # running vmaudit or a crash never sees half a binary.
  part="$bindir/.vmaudit.part.$$"
  cp "$tmp/$artifact" "$part" || die "Cannot write \"$bindir\" (run as root, or set PREFIX)"
  chmod 0755 "$part"
  refuse_directory "$bindir/vmaudit"
  mv -f "$part" "$bindir/vmaudit"
  say "installed $bindir/vmaudit ($artifact, sha256 $actual)"

  if version=$("$bindir/vmaudit" --version 2>/dev/null); then
    printf '%s\n' "$version"
  elif [ "$artifact" = vmaudit-linux-x64-musl ]; then
    say "$bindir/vmaudit does not start; on Alpine run: apk add libstdc++"
  fi
}

main "$@"
