#!/usr/bin/env bash
# Runs once, when postgres initialises an empty data directory: creates the databases of the
# optional platform services next to the main one, owned by the same user.
set -euo pipefail

for database in nocodb listmonk; do
  if ! psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
      -c "CREATE DATABASE \"$database\" OWNER \"$POSTGRES_USER\""
  fi
done
