#!/usr/bin/env bash
# Backs up every database of v2-postgres (pg_dump through the running container: a consistent
# snapshot of each, taken while it runs) and the data directories into backups/<timestamp>.tar.gz,
# keeping the newest --keep archives. The archive holds database.dump (POSTGRES_DB), databases/<name>.dump
# for each other database (nocodb's and listmonk's, made by init-db), and data/ but data/postgres.
#
#   ./scripts/backup.sh               back up now, keep 7
#   ./scripts/backup.sh --keep 14
#   ./scripts/backup.sh --dry-run     say what would be backed up
#
# scripts/restore.sh puts an archive back.
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
  # A subshell a signal reaches while it is being forked may run its parent's EXIT trap (bash 5.2):
  # the cleanup and the closing line are the script's own process's, never a subshell's.
  [ "$BASHPID" = "$$" ] || return 0
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
    -h | --help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) fail "unknown option $1; see --help" ;;
  esac
done

cd "$root"
[ -f .env ] || fail "$root/.env is missing; run config.sh first"
[ -r .env ] || fail "$root/.env cannot be read by $(id -un); run backup.sh as the user that owns it"
db_name="$(compose_value POSTGRES_DB changemaker)"
db_user="$(compose_value POSTGRES_USER changemaker)"

# Named when it starts, in UTC: the names sort oldest first.
archive_name() {
  echo "backups/changemaker-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
}
if [ "$dry_run" = true ]; then
  echo "would dump every database of v2-postgres ($db_name and the others it holds) and archive data/ (except data/postgres) into $(archive_name), keeping $keep"
  exit 0
fi

# backups/ ships 0755 (and older releases created it so): the archives are only as private as it is.
if [ ! -d backups ]; then
  mkdir backups
elif mode="$(stat -L -c %a backups)" && ((8#$mode & 8#077)); then
  chmod go= backups || fail "backups/ is open to other users (mode $mode) and cannot be made private; run backup.sh as its owner, or chmod 700 $(printf '%q' "$root/backups")"
  echo "backups/ was open to other users (mode $mode); made it 700 so that only its owner reads the archives"
fi
# One backup at a time (the nightly timer and an upgrade's backup can meet): the second waits, as
# two would dump the databases twice at once and race on the retention below.
exec 9<backups
if ! flock -n 9; then
  echo "waiting for the backup already running to finish..."
  flock -w 3600 9 || fail "another backup.sh has held backups/ for an hour; check it (pgrep -af backup.sh), then run backup.sh again"
fi
# Holding the lock, any staging directory is one a power loss or kill -9 left: a dump nobody will
# finish or remove, taking space beside the archives.
for stale in backups/.partial-*; do
  [ -e "$stale" ] || continue
  rm -rf -- "$stale"
  echo "removed $stale, left by a backup that was cut off"
done
target="$(archive_name)"
# Staged inside backups/, so that the final step is a rename on one filesystem: an interruption
# leaves no truncated archive under a real backup's name (which the retention below would count).
work="$(mktemp -d backups/.partial-XXXXXX)"

# One database, custom format (pg_restore reads it), into $2. The errors name a database other than
# POSTGRES_DB, the one an operator thinks of as "the database".
dump_database() {
  local name="$1" file="$2" which=""
  [ "$name" = "$db_name" ] || which=" of database $name"
  echo "dumping database $name..."
  docker compose exec -T v2-postgres pg_dump -U "$db_user" -Fc "$name" >"$file" ||
    fail "pg_dump$which through the v2-postgres container failed (see above); check that it runs: docker compose ps v2-postgres"
  [ -s "$file" ] || fail "pg_dump$which wrote nothing; check docker compose logs v2-postgres"
}

# Every database the cluster holds but the templates: the platform services (nocodb, listmonk) keep
# theirs next to POSTGRES_DB, and data/postgres is not archived, so a database left out is lost.
other_databases() {
  local list name
  list="$(docker compose exec -T v2-postgres psql -U "$db_user" -d "$db_name" -XAtc \
    "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname")" ||
    fail "could not list the databases of v2-postgres (see above); check that it runs: docker compose ps v2-postgres"
  while IFS= read -r name; do
    if [ -z "$name" ] || [ "$name" = "$db_name" ]; then continue; fi
    [[ "$name" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] ||
      fail "database '$name' in v2-postgres has a name backup.sh cannot store as a file; rename it (ALTER DATABASE ... RENAME TO ...) or back it up yourself"
    printf '%s\n' "$name"
  done <<<"$list"
}

dump_database "$db_name" "$work/database.dump"
others="$(other_databases)"
mkdir "$work/databases"
while IFS= read -r name; do
  [ -z "$name" ] || dump_database "$name" "$work/databases/$name.dump"
done <<<"$others"

echo "archiving data directories..."
# Status 1 is GNU tar's "a file changed as we read it" (a live upload, redis' or prometheus' files):
# the archive is complete and holds that file as it was read, so it is a warning, not a failed backup.
tar_status=0
tar -czf "$work/backup.tar.gz" --exclude=data/postgres -C "$root" data -C "$work" database.dump databases || tar_status=$?
case "$tar_status" in
  0) ;;
  1) echo "backup.sh: warning: some files under data/ changed while they were archived (named above); the archive holds them as they were read" >&2 ;;
  *) fail "archiving data/ failed (see above); when a file cannot be read, run backup.sh as root (data/ holds files of the containers' users); when it cannot write, free space in $root/backups" ;;
esac
mv "$work/backup.tar.gz" "$target"
echo "wrote $target ($(du -h "$target" | cut -f1))"

# UTC timestamps in the names sort oldest first, so the glob's order is the age order.
archives=(backups/changemaker-*.tar.gz)
for ((i = 0; i < ${#archives[@]} - keep; i++)); do
  rm -f -- "${archives[i]}"
  echo "removed old backup ${archives[i]}"
done
