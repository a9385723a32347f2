#!/usr/bin/env bash
# Upgrades an installation.
#   Release installs (VERSION file, no .git): fetch the latest release (or --version) from the
#   Gitea, verify its checksum, swap its files in (.env, data/ and backups/ are never touched),
#   pull the images and restart. The replaced files are kept in .rollback/: when the restart
#   fails they are put back at once, and `upgrade.sh --rollback` puts them back later.
#   Source installs (.git): git pull, then rebuild, or pull registry images with --use-registry.
#
#   ./scripts/upgrade.sh [--version vX.Y.Z] [--dry-run] [--no-restart] [--rollback] [--use-registry]
#
# Environment: GITEA_URL, GITEA_REPO and GITEA_REGISTRY_API_TOKEN, as for install.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
program=upgrade.sh
# The release download and its checks: install.sh's own functions, not a copy of them.
# shellcheck source=SCRIPTDIR/install.sh
source "$root/scripts/install.sh"

# Top-level entries of a release that hold the operator's data: completed, never replaced.
data_entries=" data backups "
rollback_dir=.rollback
# Entries the upgrade added, which a rollback removes; a name no release entry has.
added_list=.added-by-upgrade

version=""
dry_run=false
use_registry=false
rollback=false
restart=true
while [ "$#" -gt 0 ]; do
  case "$1" in
    --version) [ -n "${2:-}" ] || fail "--version needs a tag, e.g. v1.2.3"; require_release_tag "$2"; version="$2"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    --use-registry) use_registry=true; shift ;;
    --rollback) rollback=true; shift ;;
    --no-restart) restart=false; shift ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) fail "unknown option $1; see --help" ;;
  esac
done

cd "$root"

# One upgrade or rollback at a time: two would both move files and .rollback/ about. The lock
# is on the directory itself, whose inode no swap replaces, and leaves no file behind.
require_tools flock
exec 9<"$root"
flock -n 9 || fail "another upgrade.sh is running in $root; wait for it to finish"

compose_command() {
  if docker compose version >/dev/null 2>&1; then
    echo "docker compose"
  elif command -v docker-compose >/dev/null; then
    echo docker-compose
  else
    fail "docker compose (or docker-compose) is needed to restart; install it, or pass --no-restart and restart yourself"
  fi
}

restart_services() {
  local compose
  read -r -a compose <<<"$(compose_command)"
  "${compose[@]}" pull && "${compose[@]}" up -d --remove-orphans
}

is_data_entry() {
  [[ "$data_entries" == *" $1 "* ]]
}

# Moves each top-level entry of the unpacked release `new` into place. What it replaces goes to
# .rollback/, and the names it adds are listed there, so a rollback restores exactly this state.
swap_in_release() {
  local new="$1" entry
  mkdir "$rollback_dir"
  : >"$rollback_dir/$added_list"
  while IFS= read -r entry; do
    if is_data_entry "$entry"; then
      mkdir -p "$entry"
      cp -a --no-clobber "$new/$entry/." "$entry/"
    elif [ -e "$entry" ]; then
      mv "$entry" "$rollback_dir/$entry"
      mv "$new/$entry" "$entry"
    else
      echo "$entry" >>"$rollback_dir/$added_list"
      mv "$new/$entry" "$entry"
    fi
  done < <(ls -A "$new")
}

restore_previous_files() {
  local entry
  while IFS= read -r entry; do
    [ -n "$entry" ] && rm -rf "${entry:?}"
  done <"$rollback_dir/$added_list"
  while IFS= read -r entry; do
    [ "$entry" = "$added_list" ] && continue
    rm -rf "${entry:?}"
    mv "$rollback_dir/$entry" "$entry"
  done < <(ls -A "$rollback_dir")
  rm -rf "$rollback_dir"
}

roll_back() {
  [ -d "$rollback_dir" ] || fail "there is no $rollback_dir/ to return to: no upgrade has been made here"
  local from
  from="$(cat VERSION)"
  if [ "$dry_run" = true ]; then
    echo "would return from $from to $(cat "$rollback_dir/VERSION")"
    return
  fi
  [ "$restart" = false ] || compose_command >/dev/null
  restore_previous_files
  echo "returned from $from to $(cat VERSION)"
  if [ "$restart" = true ]; then
    restart_services || fail "$(cat VERSION)'s files are back, but it did not start; see the error above and docker compose logs"
  fi
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

# The newest of two tags, by version order (v1.10.0 after v1.9.0).
newer_tag() {
  printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n 1
}

upgrade_release_install() {
  local current target
  current="$(cat VERSION)"
  require_tools curl tar sha256sum
  # Known before anything changes: an upgrade that cannot restart is not started.
  [ "$restart" = false ] || compose_command >/dev/null
  work="$(mktemp -d "$root/.upgrade.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  target="$(find_release "${version:-latest}" "$work")"
  if [ "$target" = "$current" ]; then
    echo "already on $current; no update available"
    return
  fi
  if [ -z "$version" ] && [ "$(newer_tag "$current" "$target")" = "$current" ]; then
    echo "already on $current, newer than the latest release $target; no update available"
    return
  fi
  echo "upgrade available: $current -> $target"
  if [ "$dry_run" = true ]; then
    echo "would download $target from $gitea_url ($gitea_repo), verify it and swap it in$([ "$restart" = true ] && echo ', then pull and restart')"
    return
  fi

  fetch_release "$target" "$work"
  rm -rf "$rollback_dir"
  swap_in_release "$work/$bundle_name"
  echo "files upgraded from $current to $target (the previous files are in $rollback_dir/)"
  if grep -qE '^IMAGE_TAG=.+' .env 2>/dev/null; then
    echo "note: .env sets $(grep -E '^IMAGE_TAG=' .env | tail -n 1), which overrides $target's image tag"
  fi
  if [ "$restart" = false ]; then
    echo "not restarted (--no-restart): run docker compose pull && docker compose up -d"
    return
  fi
  restart_services && return
  echo "the restart of $target failed; putting $current's files back" >&2
  restore_previous_files
  if restart_services; then
    fail "the restart of $target failed (see above); $current is back and running"
  fi
  fail "the restart of $target failed (see above), and $current's files are back but it did not start either; check docker compose logs"
}

if [ "$rollback" = true ]; then
  roll_back
elif [ -d .git ]; then
  upgrade_source_install
elif [ -f VERSION ]; then
  upgrade_release_install
else
  fail "$root is neither a source checkout (.git) nor a release install (VERSION)"
fi
