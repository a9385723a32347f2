#!/usr/bin/env bash
# Runs once, when postgres initialises an empty data directory: creates the databases of the
# optional platform services next to the main one, owned by the same user.
set -euo pipefail

fail() {
  echo "01-create-databases.sh: $*" >&2
  exit 1
}

for database in nocodb listmonk; do
  # The answer is captured, then tested: a reader that quits at its first match (grep -q) can
  # kill psql with SIGPIPE, and under pipefail an existing database would then read as missing.
  exists="$(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$database'")" ||
    fail "could not ask postgres whether database $database exists (see above); fix it, empty data/postgres and start v2-postgres again"
  if [ "$exists" != 1 ]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
      -c "CREATE DATABASE \"$database\" OWNER \"$POSTGRES_USER\"" ||
      fail "could not create database $database (see above); fix it, empty data/postgres and start v2-postgres again"
  fi
done
