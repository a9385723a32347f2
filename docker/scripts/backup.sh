#!/usr/bin/env bash
# Backs up the database (pg_dump through the running v2-postgres container) and the data
# directories into backups/<timestamp>.tar.gz, keeping the newest --keep archives.
#
#   ./scripts/backup.sh               back up now, keep 7
#   ./scripts/backup.sh --keep 14
#   ./scripts/backup.sh --dry-run     say what would be backed up
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep=7
dry_run=false

fail() {
  echo "backup.sh: $*" >&2
  exit 1
}

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
set -a
# shellcheck disable=SC1091
. ./.env
set +a

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="backups/changemaker-$stamp.tar.gz"
if [ "$dry_run" = true ]; then
  echo "would dump database ${POSTGRES_DB:-changemaker} and archive data/ (except data/postgres) into $target, keeping $keep"
  exit 0
fi

mkdir -p backups
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "dumping database ${POSTGRES_DB:-changemaker}..."
docker compose exec -T v2-postgres pg_dump -U "${POSTGRES_USER:-changemaker}" -Fc "${POSTGRES_DB:-changemaker}" >"$work/database.dump"
echo "archiving data directories..."
tar -czf "$work/backup.tar.gz" --exclude=data/postgres -C "$root" data -C "$work" database.dump
umask 077
mv "$work/backup.tar.gz" "$target"
echo "wrote $target ($(du -h "$target" | cut -f1))"

# UTC timestamps in the names sort oldest first, so the glob's order is the age order.
archives=(backups/changemaker-*.tar.gz)
for ((i = 0; i < ${#archives[@]} - keep; i++)); do
  rm -f -- "${archives[i]}"
  echo "removed old backup ${archives[i]}"
done
