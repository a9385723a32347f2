#!/usr/bin/env bash
# Backs up the database (pg_dump through the running v2-postgres container) and the data
# directories into backups/<timestamp>.tar.gz, keeping the newest --keep archives.
#
#   ./scripts/backup.sh               back up now, keep 7
#   ./scripts/backup.sh --keep 14
#   ./scripts/backup.sh --dry-run     say what would be backed up
set -euo pipefail
# The archive holds the whole database: private from its first byte, not chmod-ed afterwards.
umask 077

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=SCRIPTDIR/env-file.sh
source "$root/scripts/env-file.sh"
keep=7
dry_run=false

# fail's exit status: its line is out already, so the exit handler adds none.
reported_failure=86
fail() {
  echo "backup.sh: $*" >&2
  exit "$reported_failure"
}

# No exit is silent: any failure fail() did not foresee is named with the command that failed.
on_exit() {
  local status=$? command="${BASH_COMMAND%%$'\n'*}"
  [ -z "${work:-}" ] || rm -rf "$work"
  if [ "$status" = "$reported_failure" ]; then exit 1; fi
  if [ "$status" = "${stopped_by_signal:-}" ]; then return; fi
  if [ "$status" != 0 ]; then echo "backup.sh: stopped unexpectedly (exit $status) at: $command; no backup was written, run it again" >&2; fi
}
trap on_exit EXIT

# On a signal bash runs the EXIT trap with status 0, which says nothing: name the signal and what is
# left, then exit 128+n as a shell reports a death by signal (on_exit removes the staging directory).
on_signal() {
  trap - INT HUP TERM
  if [ -n "${target:-}" ] && [ -e "$target" ]; then
    echo "backup.sh: stopped by SIG$1 after writing $target, before removing the backups beyond --keep $keep; run it again to remove them" >&2
  else
    echo "backup.sh: stopped by SIG$1; no backup was written and no partial archive is left; run it again" >&2
  fi
  stopped_by_signal=$((128 + $2))
  exit "$stopped_by_signal"
}
trap 'on_signal HUP 1' HUP
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM

while [ "$#" -gt 0 ]; do
  case "$1" in
    --keep)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || fail "--keep needs a positive number"
      keep="$2"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) fail "unknown option $1; see --help" ;;
  esac
done

cd "$root"
[ -f .env ] || fail "$root/.env is missing; run config.sh first"
[ -r .env ] || fail "$root/.env cannot be read by $(id -un); run backup.sh as the user that owns it"
db_name="$(compose_value POSTGRES_DB changemaker)"
db_user="$(compose_value POSTGRES_USER changemaker)"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="backups/changemaker-$stamp.tar.gz"
if [ "$dry_run" = true ]; then
  echo "would dump database $db_name and archive data/ (except data/postgres) into $target, keeping $keep"
  exit 0
fi

# backups/ ships 0755 (and older releases created it so): the archives are only as private as it is.
if [ ! -d backups ]; then
  mkdir backups
elif mode="$(stat -L -c %a backups)" && ((8#$mode & 8#077)); then
  chmod go= backups || fail "backups/ is open to other users (mode $mode) and cannot be made private; run backup.sh as its owner, or chmod 700 $root/backups"
  echo "backups/ was open to other users (mode $mode); made it 700 so that only its owner reads the archives"
fi
# Staged inside backups/, so that the final step is a rename on one filesystem: an interruption
# leaves no truncated archive under a real backup's name (which the retention below would count).
work="$(mktemp -d backups/.partial-XXXXXX)"
echo "dumping database $db_name..."
docker compose exec -T v2-postgres pg_dump -U "$db_user" -Fc "$db_name" >"$work/database.dump" ||
  fail "pg_dump through the v2-postgres container failed (see above); check that it runs: docker compose ps v2-postgres"
[ -s "$work/database.dump" ] || fail "pg_dump wrote nothing; check docker compose logs v2-postgres"
echo "archiving data directories..."
tar -czf "$work/backup.tar.gz" --exclude=data/postgres -C "$root" data -C "$work" database.dump ||
  fail "archiving data/ failed (see above); check the free space in $root/backups"
mv "$work/backup.tar.gz" "$target"
echo "wrote $target ($(du -h "$target" | cut -f1))"

# UTC timestamps in the names sort oldest first, so the glob's order is the age order.
archives=(backups/changemaker-*.tar.gz)
for ((i = 0; i < ${#archives[@]} - keep; i++)); do
  rm -f -- "${archives[i]}"
  echo "removed old backup ${archives[i]}"
done
