#!/usr/bin/env bash
# Restores a backup made by backup.sh: every database dump it holds, and data/ (but data/postgres).
#
#   ./scripts/restore.sh backups/changemaker-20260101T031500Z.tar.gz --yes
#
# The whole archive is checked first (gzip, tar, each dump read by pg_restore --list): a truncated or
# corrupt one is refused before anything is stopped or touched. Each database is then restored into
# a new, empty database while the live one is untouched; only when all are restored are the services
# stopped, each live database renamed to <name>_before_restore_<time> and the restored one renamed
# into its place, and data/'s directories swapped (the current ones kept in data/.before-restore-<time>/).
# Then the services start again. Drop the kept databases and directories once you are satisfied.
set -euo pipefail
umask 077

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=SCRIPTDIR/env-file.sh
source "$root/scripts/env-file.sh"
archive=""
confirmed=false
# What is changed so far, for the lines an exit or a signal prints.
stage=nothing

# fail's exit status: its line is out already, so the exit handler adds none.
reported_failure=86
fail() {
  echo "restore.sh: $*" >&2
  exit "$reported_failure"
}

# The state an early exit leaves, in words, and what to do.
left_behind() {
  case "$stage" in
    nothing) echo "nothing was changed" ;;
    staged) echo "nothing live was changed" ;;
    stopped) echo "the services are stopped and nothing live was changed; start them again: docker compose start" ;;
    swapping) echo "the swap was cut: each database and data/ directory is either the restored one or the previous one (kept as *_before_restore_$stamp and in data/.before-restore-$stamp/); check them, then docker compose start" ;;
  esac
}

# No exit is silent: any failure fail() did not foresee is named with the command that failed.
on_exit() {
  local status=$? command="${BASH_COMMAND%%$'\n'*}"
  # A subshell a signal reaches while it is being forked may run its parent's EXIT trap (bash 5.2):
  # the cleanup and the closing line are the script's own process's, never a subshell's.
  [ "$BASHPID" = "$$" ] || return 0
  [ -z "${work:-}" ] || rm -rf "$work"
  if [ "$stage" = staged ] || [ "$stage" = stopped ]; then
    drop_restored_copies 2>/dev/null || echo "restore.sh: could not drop the restored copies ${restored_copies[*]}; drop them in v2-postgres" >&2
  fi
  if [ "$status" = "$reported_failure" ]; then exit 1; fi
  if [ "$status" = "${stopped_by_signal:-}" ]; then return; fi
  if [ "$status" != 0 ]; then echo "restore.sh: stopped unexpectedly (exit $status) at: $command; $(left_behind)" >&2; fi
}
trap on_exit EXIT

on_signal() {
  trap - INT HUP TERM
  echo "restore.sh: stopped by SIG$1; $(left_behind)" >&2
  stopped_by_signal=$((128 + $2))
  exit "$stopped_by_signal"
}
trap 'on_signal HUP 1' HUP
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM

while [ "$#" -gt 0 ]; do
  case "$1" in
    --yes) confirmed=true; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) fail "unknown option $1; see --help" ;;
    *) [ -z "$archive" ] || fail "one archive at a time: $archive and $1 given"; archive="$1"; shift ;;
  esac
done
[ -n "$archive" ] || fail "name the archive to restore, e.g. scripts/restore.sh backups/changemaker-<time>.tar.gz --yes; see --help"
if [ ! -f "$archive" ] || [ ! -r "$archive" ]; then fail "$archive is not a readable file; pick one from backups/"; fi
archive="$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")"

cd "$root"
[ -f .env ] || fail "$root/.env is missing; run config.sh first (with the secrets of the installation the backup came from)"
db_name="$(compose_value POSTGRES_DB changemaker)"
db_user="$(compose_value POSTGRES_USER changemaker)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

# Runs a command in the v2-postgres container, stdin passed through.
in_postgres() {
  docker compose exec -T v2-postgres "$@"
}
# Through template1, which every cluster has: a database cannot be renamed by its own connection.
sql() {
  in_postgres psql -X -v ON_ERROR_STOP=1 -U "$db_user" -d template1 -Atc "$1"
}

# The restored copies of an unfinished restore, dropped so that a failure leaves the cluster as it was.
restored_copies=()
drop_restored_copies() {
  local copy
  for copy in "${restored_copies[@]}"; do sql "DROP DATABASE IF EXISTS \"$copy\"" >/dev/null || return; done
}

# backup.sh's lock: a backup taken during a restore would hold half of each, and a restore during a
# backup would be in no archive. Holding it, a .restore-* directory is one a kill -9 left.
mkdir -p backups
exec 9<backups
flock -n 9 || fail "backup.sh is running; run restore.sh again once it has finished; nothing was changed"
for stale in "$root"/.restore-*; do
  [ -e "$stale" ] || continue
  rm -rf -- "$stale"
  echo "removed $stale, left by a restore that was cut off"
done

# --- 1. check the whole archive; nothing is touched yet.
in_postgres pg_isready -q -U "$db_user" -d template1 ||
  fail "v2-postgres does not answer, and the dumps are read and restored through it; start it (docker compose up -d v2-postgres) and run restore.sh again; nothing was changed"
# Read once before unpacking, so that a corrupt archive and a full disk are told apart.
tar -tzf "$archive" >/dev/null ||
  fail "$archive is not a complete backup archive (see above); nothing was changed; pick another from backups/"
work="$(mktemp -d "$root/.restore-XXXXXX")"
tar -xzf "$archive" -C "$work" ||
  fail "could not unpack $archive into $root (see above); free space there and run restore.sh again; nothing was changed"
[ -f "$work/database.dump" ] || fail "$archive holds no database.dump, so backup.sh did not make it; nothing was changed"
# database name -> its dump, POSTGRES_DB first.
declare -A dumps=(["$db_name"]="$work/database.dump")
names=("$db_name")
for dump in "$work"/databases/*.dump; do
  [ -e "$dump" ] || continue
  name="$(basename "$dump" .dump)"
  # Quoted into SQL below, and renamed to <name>_before_restore_<time>, which must fit in 63 bytes.
  [[ "$name" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,38}$ ]] ||
    fail "$archive holds databases/$name.dump, a name backup.sh does not write; nothing was changed"
  [ "$name" != "$db_name" ] || fail "$archive holds $db_name twice (database.dump and databases/$name.dump); nothing was changed"
  dumps[$name]="$dump" names+=("$name")
done
for name in "${names[@]}"; do
  in_postgres pg_restore --list <"${dumps[$name]}" >/dev/null ||
    fail "the dump of database $name in $archive cannot be read (see above); nothing was changed; pick another archive"
done

if [ "$confirmed" != true ]; then
  [ -t 0 ] || fail "restoring replaces the databases ${names[*]} and data/ with $archive's; pass --yes to do it"
  read -r -p "Replace the databases ${names[*]} and data/ with $(basename "$archive")'s? Type yes: " answer || true
  [ "$answer" = yes ] || fail "not confirmed; nothing was changed"
fi

# --- 2. restore each database into a new one beside the live one, which stays as it is.
stage=staged
for name in "${names[@]}"; do
  echo "restoring database $name..."
  sql "CREATE DATABASE \"${name}_restoring_$stamp\" OWNER \"$db_user\"" >/dev/null
  restored_copies+=("${name}_restoring_$stamp")
  in_postgres pg_restore --exit-on-error --single-transaction -U "$db_user" -d "${name}_restoring_$stamp" <"${dumps[$name]}" ||
    fail "restoring database $name failed (see above); $(left_behind)"
done

# --- 3. swap: the services are stopped (no connection may hold a database that is renamed), and
# the renames and moves are not cut by a signal. stop and start act on every container of the
# project, those of the profiles (platform, monitoring) too, which `up -d` would leave stopped.
echo "stopping the services..."
docker compose stop
stage=stopped
docker compose start v2-postgres
for ((waited = 0; ; waited++)); do
  in_postgres pg_isready -q -U "$db_user" -d template1 && break
  ((waited < 60)) || fail "v2-postgres did not become ready within 60s; $(left_behind)"
  sleep 1
done
trap '' INT HUP TERM
stage=swapping
for name in "${names[@]}"; do
  if [ "$(sql "SELECT 1 FROM pg_database WHERE datname = '$name'")" = 1 ]; then
    sql "ALTER DATABASE \"$name\" RENAME TO \"${name}_before_restore_$stamp\"" >/dev/null
  fi
  sql "ALTER DATABASE \"${name}_restoring_$stamp\" RENAME TO \"$name\"" >/dev/null
done
mkdir -p data
for directory in "$work"/data/*/; do
  [ -d "$directory" ] || continue
  directory="$(basename "$directory")"
  if [ -e "data/$directory" ]; then
    mkdir -p "data/.before-restore-$stamp"
    mv "data/$directory" "data/.before-restore-$stamp/"
  fi
  mv "$work/data/$directory" "data/$directory"
done
stage=restored
trap 'on_signal HUP 1' HUP
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM

echo "starting the services..."
docker compose start
echo "restored $(basename "$archive"): databases ${names[*]} and data/"
echo "the previous ones are kept as <name>_before_restore_$stamp in v2-postgres and in data/.before-restore-$stamp/; drop them once you are satisfied"
