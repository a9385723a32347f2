# shellcheck shell=bash
# .env as docker compose reads it, for the scripts of an installation that need a value from it
# (backup.sh, upgrade.sh); sourced, never run. One reader, so the scripts agree with compose and
# with each other.

# The value docker compose gives KEY in the compose file: the environment's, else .env's, else
# $2. .env is read, not sourced: as shell, `KEY=two words` would run `words`, and quotes and
# comments would be read differently from compose. As compose reads it: the last assignment wins,
# `export ` may lead, matching surrounding quotes are removed, and an unquoted value ends at ` #`.
compose_value() {
  local key="$1" fallback="$2" line value="" pattern
  if [ -n "${!key:-}" ]; then printf '%s' "${!key}"; return; fi
  if [ ! -f .env ]; then printf '%s' "$fallback"; return; fi
  pattern="^[[:space:]]*(export[[:space:]]+)?${key}[[:space:]]*=[[:space:]]*(.*)$"
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    [[ "$line" =~ $pattern ]] || continue
    value="${BASH_REMATCH[2]}"
    if [[ "$value" =~ ^\"(.*)\"[[:space:]]*(#.*)?$ || "$value" =~ ^\'(.*)\'[[:space:]]*(#.*)?$ ]]; then
      value="${BASH_REMATCH[1]}"
    else
      value="${value%%[[:space:]]#*}"
      value="${value%"${value##*[![:space:]]}"}"
    fi
  done <.env
  printf '%s' "${value:-$fallback}"
}
