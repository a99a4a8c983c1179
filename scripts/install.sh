#!/bin/sh
# Installs the log_server executable from a release.
#
#   curl -fsSL https://github.com/log-server/log_server/releases/latest/download/install.sh | sh
#   sh install.sh [--version V] [--bin-dir DIR]
#
# Picks log_server-<version>-<os>-<arch>.tar.gz for this machine (uname), downloads it and the
# release's SHA256SUMS, verifies the checksum and installs the binary as <bin-dir>/log_server (mode 755).
# A checksum mismatch installs nothing and exits non-zero.
#
#   --version V    release to install, e.g. 0.1.0 or v0.1.0 (default: the latest release)
#   --bin-dir DIR  where to put log_server (default: /usr/local/bin)
#
# Environment:
#   LOG_SERVER_DOWNLOAD_URL  replaces the release base URL: an http(s) mirror, a file:// URL or a local
#                            directory holding the archives and SHA256SUMS. Without --version the one
#                            log_server-*-<os>-<arch>.tar.gz listed in its SHA256SUMS is installed.
#   LOG_SERVER_GITHUB_OWNER  GitHub owner of the log_server repository (default: log-server).
set -eu

owner="${LOG_SERVER_GITHUB_OWNER:-log-server}"
version=""
bin_dir="/usr/local/bin"
tmp=""

say() { printf 'install.sh: %s\n' "$*"; }
die() {
	printf 'install.sh: error: %s\n' "$*" >&2
	exit 1
}
usage() {
	cat <<'EOF'
usage: install.sh [--version V] [--bin-dir DIR]
  --version V    release to install, e.g. 0.1.0 (default: the latest release)
  --bin-dir DIR  where to put log_server (default: /usr/local/bin)
Environment: LOG_SERVER_DOWNLOAD_URL (mirror URL, file:// URL or directory replacing the
GitHub release URL), LOG_SERVER_GITHUB_OWNER (default: log-server).
EOF
}
need_arg() {
	if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value (see --help)"; fi
}

while [ $# -gt 0 ]; do
	case "$1" in
	--version) need_arg "$@"; version="$2"; shift 2 ;;
	--version=*) version="${1#*=}"; shift ;;
	--bin-dir) need_arg "$@"; bin_dir="$2"; shift 2 ;;
	--bin-dir=*) bin_dir="${1#*=}"; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done
version="${version#v}"
[ -n "$bin_dir" ] || die "--bin-dir must not be empty"

# ---------------------------------------------------------------- platform
case "$(uname -s)" in
Linux) os=linux ;;
Darwin) os=darwin ;;
MINGW* | MSYS* | CYGWIN* | Windows_NT) die "on Windows download log_server-<version>-windows-x64.zip from the release page instead" ;;
*) die "no log_server release for operating system $(uname -s)" ;;
esac
case "$(uname -m)" in
x86_64 | amd64) arch=x64 ;;
aarch64 | arm64) arch=arm64 ;;
*) die "no log_server release for CPU $(uname -m) (releases: x64, arm64)" ;;
esac
# An x86_64 shell under Rosetta 2 on Apple silicon: install the native arm64 build.
if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n hw.optional.arm64 2>/dev/null || echo 0)" = 1 ]; then
	arch=arm64
fi

# ---------------------------------------------------------------- where releases come from
if [ -n "${LOG_SERVER_DOWNLOAD_URL:-}" ]; then
	base="${LOG_SERVER_DOWNLOAD_URL%/}"
elif [ -n "$version" ]; then
	base="https://github.com/$owner/log_server/releases/download/v$version"
else
	base="https://github.com/$owner/log_server/releases/latest/download"
fi

# fetch <name> <destination>: one file of the release, from http(s), file:// or a directory.
fetch() {
	src="$base/$1"
	case "$base" in
	http://* | https://*)
		if command -v curl >/dev/null 2>&1; then
			curl -fsSL --retry 3 -o "$2" "$src" || die "download failed: $src"
		elif command -v wget >/dev/null 2>&1; then
			wget -q -O "$2" "$src" || die "download failed: $src"
		else
			die "need curl or wget to download $src"
		fi
		;;
	file://*)
		path="${src#file://}"
		path="${path#localhost}"
		[ -f "$path" ] || die "not found: $src"
		cp "$path" "$2" || die "cannot copy $src"
		;;
	*://*) die "unsupported LOG_SERVER_DOWNLOAD_URL scheme: $base (use http(s)://, file:// or a directory)" ;;
	*)
		[ -f "$src" ] || die "not found: $src"
		cp "$src" "$2" || die "cannot copy $src"
		;;
	esac
}

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | awk '{ print $1 }'
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | awk '{ print $1 }'
	elif command -v openssl >/dev/null 2>&1; then
		openssl dgst -sha256 "$1" | awk '{ print $NF }'
	else
		die "need sha256sum, shasum or openssl to verify the download"
	fi
}

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t log_server)" || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "fetching SHA256SUMS from $base"
fetch SHA256SUMS "$tmp/SHA256SUMS"

# ---------------------------------------------------------------- which archive
if [ -n "$version" ]; then
	archive="log_server-$version-$os-$arch.tar.gz"
else
	# No version: the one archive for this platform listed in SHA256SUMS ("<hex>  <name>", or "*<name>").
	matches="$(awk -v suffix="-$os-$arch.tar.gz" '{ n = $2; sub(/^\*/, "", n) } n ~ /^log_server-/ && substr(n, length(n) - length(suffix) + 1) == suffix { print n }' "$tmp/SHA256SUMS")"
	count="$(printf '%s' "$matches" | grep -c . || true)"
	[ "$count" -ge 1 ] || die "the release at $base has no log_server archive for $os-$arch"
	[ "$count" -eq 1 ] || die "the release at $base lists $count archives for $os-$arch; choose one with --version"
	archive="$matches"
	version="${archive#log_server-}"
	version="${version%-"$os"-"$arch".tar.gz}"
fi
expected="$(awk -v f="$archive" '{ n = $2; sub(/^\*/, "", n) } n == f { print tolower($1); exit }' "$tmp/SHA256SUMS")"
[ -n "$expected" ] || die "SHA256SUMS at $base has no entry for $archive (is there a release $version for $os-$arch?)"

say "downloading $archive"
fetch "$archive" "$tmp/$archive"

actual="$(sha256_of "$tmp/$archive")"
if [ "$actual" != "$expected" ]; then
	die "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual. The file is corrupt or has been tampered with; nothing was installed."
fi
say "checksum OK ($actual)"

mkdir "$tmp/x"
tar -xzf "$tmp/$archive" -C "$tmp/x" log_server || die "cannot extract log_server from $archive"
[ -f "$tmp/x/log_server" ] || die "$archive does not contain log_server"

# ---------------------------------------------------------------- install
mkdir -p "$bin_dir" 2>/dev/null || die "cannot create $bin_dir (run as root, e.g. with sudo, or pass --bin-dir)"
[ -w "$bin_dir" ] || die "$bin_dir is not writable (run as root, e.g. with sudo, or pass --bin-dir)"
target="$bin_dir/log_server"
# Copy beside the target, then rename: a running log_server keeps its old file, nobody sees half a binary.
staged="$bin_dir/.log_server.install.$$"
if ! cp "$tmp/x/log_server" "$staged" || ! chmod 755 "$staged" || ! mv -f "$staged" "$target"; then
	rm -f "$staged"
	die "cannot install $target"
fi

if reported="$("$target" --version 2>/dev/null)"; then
	say "installed log_server $reported ($os-$arch) as $target"
else
	say "installed log_server $version ($os-$arch) as $target, but '$target --version' failed on this machine" >&2
	exit 1
fi
case ":${PATH:-}:" in
*":$bin_dir:"*) ;;
*) say "note: $bin_dir is not on your PATH" ;;
esac
