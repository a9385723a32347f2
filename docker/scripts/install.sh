#!/usr/bin/env bash
# Installs a Changemaker Lite release: downloads the tarball and its SHA256SUMS, verifies the
# checksum, unpacks it into --dir and runs the configuration wizard.
#
#   curl -fsSL <gitea>/admin/changemaker.lite/raw/branch/main/scripts/install.sh | bash
#   bash install.sh --version v1.2.3 --dir /opt/changemaker-lite
#   bash install.sh --dry-run          say what would be downloaded and where, change nothing
set -euo pipefail

base_url="${CHANGEMAKER_RELEASES_URL:-https://gitea.bnkops.com/admin/changemaker.lite/releases}"
version=latest
dir="$PWD/changemaker-lite"
dry_run=false

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --version) [ -n "${2:-}" ] || fail "--version needs a tag, e.g. v1.2.3"; version="$2"; shift 2 ;;
    --dir) [ -n "${2:-}" ] || fail "--dir needs a path"; dir="$2"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) fail "unknown option $1; see --help" ;;
  esac
done

for tool in curl tar sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is required; install it first"
done
[ ! -e "$dir/docker-compose.yml" ] || fail "$dir already holds an installation; use scripts/upgrade.sh there"

if [ "$version" = latest ]; then
  download_url="$base_url/latest/download"
else
  download_url="$base_url/download/$version"
fi
tarball="changemaker-lite-$version.tar.gz"
if [ "$dry_run" = true ]; then
  echo "would download $download_url/$tarball and SHA256SUMS, verify, unpack into $dir and run config.sh"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "downloading $tarball..."
curl -fsSL -o "$work/$tarball" "$download_url/$tarball"
curl -fsSL -o "$work/SHA256SUMS" "$download_url/SHA256SUMS"
(cd "$work" && grep "  $tarball\$" SHA256SUMS | sha256sum -c --quiet -) || fail "checksum of $tarball does not match SHA256SUMS; the download is corrupt or tampered with"

mkdir -p "$(dirname "$dir")"
tar -xzf "$work/$tarball" -C "$work"
mv "$work/changemaker-lite" "$dir"
echo "installed $(cat "$dir/VERSION") into $dir"

cd "$dir"
bash config.sh
echo "start it with: cd $dir && docker compose up -d"
