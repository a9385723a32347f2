#!/usr/bin/env bash
# Upgrades an installation.
#   Release installs (VERSION file, no .git): download the newest release, verify its checksum,
#   swap the runtime files in (keeping .env and data/), pull images, restart; the previous files
#   stay in .rollback/ and `upgrade.sh --rollback` restores them.
#   Source installs (.git): git pull, then rebuild, or pull registry images with --use-registry.
#
#   ./scripts/upgrade.sh [--dry-run] [--use-registry] [--rollback]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base_url="${CHANGEMAKER_RELEASES_URL:-https://gitea.bnkops.com/admin/changemaker.lite/releases}"
dry_run=false
use_registry=false
rollback=false

fail() {
  echo "upgrade.sh: $*" >&2
  exit 1
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=true; shift ;;
    --use-registry) use_registry=true; shift ;;
    --rollback) rollback=true; shift ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) fail "unknown option $1; see --help" ;;
  esac
done

cd "$root"

restart() {
  docker compose pull
  docker compose up -d
}

upgrade_source_install() {
  if [ "$dry_run" = true ]; then
    git fetch --quiet && git log --oneline 'HEAD..@{u}'
    return
  fi
  git pull --ff-only
  if [ "$use_registry" = true ]; then
    docker compose -f docker-compose.prod.yml pull && docker compose -f docker-compose.prod.yml up -d
  else
    docker compose up -d --build
  fi
}

restore_rollback() {
  [ -d .rollback ] || fail "there is no .rollback/ to restore"
  cp -a .rollback/. .
  echo "restored $(cat VERSION)"
  restart
}

upgrade_release_install() {
  local current latest work tarball
  current="$(cat VERSION)"
  latest="$(curl -fsSLI -o /dev/null -w '%{url_effective}' "$base_url/latest" | sed 's#.*/tag/##')"
  [ -n "$latest" ] || fail "could not find the latest release at $base_url"
  if [ "$latest" = "$current" ]; then
    echo "already on $current; no update available"
    return
  fi
  echo "upgrade available: $current -> $latest"
  [ "$dry_run" = false ] || return

  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  tarball="changemaker-lite-$latest.tar.gz"
  curl -fsSL -o "$work/$tarball" "$base_url/download/$latest/$tarball"
  curl -fsSL -o "$work/SHA256SUMS" "$base_url/download/$latest/SHA256SUMS"
  (cd "$work" && grep "  $tarball\$" SHA256SUMS | sha256sum -c --quiet -) || fail "checksum of $tarball does not match SHA256SUMS; nothing was changed"
  tar -xzf "$work/$tarball" -C "$work"

  rm -rf .rollback && mkdir .rollback
  cp -a docker-compose.yml VERSION config.sh .env.example scripts configs nginx mkdocs .rollback/
  cp -a "$work/changemaker-lite/." .
  echo "files upgraded to $latest (previous files in .rollback/)"
  restart || fail "restart failed; run ./scripts/upgrade.sh --rollback to return to $current"
}

if [ "$rollback" = true ]; then
  restore_rollback
elif [ -d .git ]; then
  upgrade_source_install
elif [ -f VERSION ]; then
  upgrade_release_install
else
  fail "$root is neither a source checkout (.git) nor a release install (VERSION)"
fi
