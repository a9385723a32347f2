#!/usr/bin/env bash
# Configuration wizard: creates .env from .env.example with your domain and strong random secrets.
#
#   bash config.sh                                   interactive
#   bash config.sh --non-interactive --domain d.org --admin-email me@d.org
#   DOMAIN=d.org ADMIN_EMAIL=me@d.org bash config.sh -y
#
# It never overwrites an existing .env unless --force is given (the old file is kept as .env.backup-<time>);
# --force keeps the secrets the old file set (the database was created with its password, data was
# encrypted with its key): to replace one, delete its line from .env and run config.sh --add-missing.
# --add-missing adds to an existing .env the keys .env.example has and it lacks (upgrade.sh runs it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
template="$here/.env.example"
env_file="$here/.env"

domain="${DOMAIN:-}"
admin_email="${ADMIN_EMAIL:-}"
registry="${GITEA_REGISTRY:-}"
# Where the release came from: install.sh and upgrade.sh pass theirs; the template's otherwise.
gitea_url="${GITEA_URL:-}"
gitea_repo="${GITEA_REPO:-}"
image_tag="${IMAGE_TAG:-}"
interactive=auto
force=false
dry_run=false
add_missing=false

usage() {
  cat <<'USAGE'
Usage: config.sh [options]
  --domain DOMAIN         site domain, e.g. example.org             (env: DOMAIN)
  --admin-email EMAIL     administrator email                       (env: ADMIN_EMAIL)
  --registry HOST/OWNER   image registry, default from .env.example (env: GITEA_REGISTRY)
  --image-tag TAG         image tag, default: this release's        (env: IMAGE_TAG)
  --env-file PATH         where to write, default ./.env next to config.sh
  -y, --non-interactive   ask nothing: take flags, env and defaults
  --interactive           ask even when stdin is not a terminal
  --force                 replace an existing .env (a backup is kept), keeping the
                          secrets it sets
  --add-missing           add the keys .env.example has and .env lacks (secrets generated),
                          touch no other line, list what was added
  --dry-run               print the .env it would write, secrets masked; write nothing
  -h, --help              this help
USAGE
}

# fail's exit status: its line is out already, so the exit handler adds none.
reported_failure=86
fail() {
  echo "config.sh: $*" >&2
  exit "$reported_failure"
}

# No exit is silent: any failure fail() did not foresee is named with the command that failed.
on_exit() {
  local status=$? command="${BASH_COMMAND%%$'\n'*}"
  [ -z "${partial:-}" ] || rm -f "$partial"
  if [ "$status" = "$reported_failure" ]; then exit 1; fi
  if [ "$status" = "${stopped_by_signal:-}" ]; then return; fi
  if [ "$status" != 0 ]; then echo "config.sh: stopped unexpectedly (exit $status) at: $command; .env was not changed, run it again" >&2; fi
}
trap on_exit EXIT

# On a signal bash runs the EXIT trap with status 0, which says nothing: name the signal and what is
# left, then exit 128+n as a shell reports a death by signal. A partial file already renamed away
# means the rename happened just before the signal.
on_signal() {
  trap - INT HUP TERM
  if [ "${env_written:-}" = true ] || { [ -n "${partial:-}" ] && [ ! -e "$partial" ]; }; then
    echo "config.sh: stopped by SIG$1 after writing $env_file, which is complete; check it before docker compose up -d" >&2
  else
    echo "config.sh: stopped by SIG$1; $env_file was not changed; run config.sh again" >&2
  fi
  stopped_by_signal=$((128 + $2))
  exit "$stopped_by_signal"
}
trap 'on_signal HUP 1' HUP
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM

need_value() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then fail "$1 needs a value; see --help"; fi
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --domain) need_value "$@"; domain="$2"; shift 2 ;;
    --admin-email) need_value "$@"; admin_email="$2"; shift 2 ;;
    --registry) need_value "$@"; registry="$2"; shift 2 ;;
    --image-tag) need_value "$@"; image_tag="$2"; shift 2 ;;
    --env-file) need_value "$@"; env_file="$2"; shift 2 ;;
    -y | --non-interactive) interactive=false; shift ;;
    --interactive) interactive=true; shift ;;
    --force) force=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    --add-missing) add_missing=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown option $1; see --help" ;;
  esac
done

[ -f "$template" ] || fail "$template is missing; run config.sh from an unpacked release"
# A .env that links elsewhere (kept with the host's other configuration) is rewritten where it
# points: renaming the new file over the link would cut it, and the file it named would go stale.
if [ -L "$env_file" ]; then
  env_file="$(readlink -f -- "$env_file")" || fail "$env_file is a symbolic link to nowhere; point it at the real file, or remove it"
fi
if [ "$add_missing" = true ] && [ ! -f "$env_file" ]; then
  fail "$env_file does not exist, so there is nothing to add keys to; run config.sh without --add-missing to create it"
fi
if [ -e "$env_file" ] && [ "$force" != true ] && [ "$dry_run" != true ] && [ "$add_missing" != true ]; then
  fail "$env_file already exists; pass --force to replace it (the old file is kept as a backup)"
fi
if [ "$add_missing" = true ]; then interactive=false; fi
if [ "$interactive" = auto ]; then
  if [ -t 0 ]; then interactive=true; else interactive=false; fi
fi

# Which keys are secrets, .env.example says itself, so a release that adds one needs no change here:
# a `# secret, generated` line directly above a key (config.sh fills it with a random value when it
# is empty), or a `# secret` line (the operator fills it: a dashboard's or a provider's value).
declare -A marked_secrets=()
generated_marker='^# secret, generated([^A-Za-z0-9]|$)'
secret_marker='^# secret(,|$)'
read_secret_markers() {
  local line number=0 marker="" marker_line=0
  while IFS= read -r line || [ -n "$line" ]; do
    number=$((number + 1))
    if [ -n "$marker" ]; then
      [[ "$line" =~ ^([A-Z0-9_]+)= ]] ||
        fail "line $marker_line of $template marks no key: a '# secret' line must be directly above the KEY= line it marks; move it there, or report the release as faulty"
      marked_secrets[${BASH_REMATCH[1]}]="$marker"
      marker=""
    fi
    if [[ "$line" =~ $generated_marker ]]; then
      marker=generated marker_line=$number
    elif [[ "$line" =~ $secret_marker ]]; then
      marker=secret marker_line=$number
    fi
  done <"$template"
  [ -z "$marker" ] ||
    fail "line $marker_line of $template marks no key: a '# secret' line must be directly above the KEY= line it marks; move it there, or report the release as faulty"
}
read_secret_markers

# Output also hides any key whose name says it is a secret, in case a release forgot its marker.
secret_name='(^|_)(PASSWORD|PASS|SECRET|TOKEN|KEY)(_|$)'
is_secret() {
  [ -n "${marked_secrets[$1]:-}" ] || [[ "$1" =~ $secret_name ]]
}

is_generated_secret() {
  [ "${marked_secrets[$1]:-}" = generated ]
}

template_value() {
  sed -n "s/^$1=//p" "$template" | head -n 1
}

# Sets the variable named $1. Not called as $(ask ...): a signal that came as that subshell forked
# was missed by it, and it went on waiting for an answer that would never come.
ask() {
  local name="$1" prompt="$2" default="$3" answer=""
  read -r -p "$prompt [$default]: " answer || true
  printf -v "$name" '%s' "${answer:-$default}"
}

# 32 bytes from the kernel CSPRNG, hex: 256 bits, safe in URLs, shells and compose files. Checked:
# an unreadable /dev/urandom must stop config.sh, not leave a short or empty secret in .env.
random_secret() {
  local secret
  secret="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" || true
  [[ "$secret" =~ ^[0-9a-f]{64}$ ]] || fail "could not read 32 random bytes from /dev/urandom; .env was not changed; check that /dev/urandom is readable"
  printf '%s' "$secret"
}

if [ "$interactive" = true ]; then
  echo "Changemaker Lite configuration (press Enter to keep the value in brackets)"
  ask domain "Domain" "${domain:-$(template_value DOMAIN)}"
  ask admin_email "Admin email" "${admin_email:-$(template_value ADMIN_EMAIL)}"
  ask registry "Image registry" "${registry:-$(template_value GITEA_REGISTRY)}"
  echo
fi
domain="${domain:-$(template_value DOMAIN)}"
admin_email="${admin_email:-$(template_value ADMIN_EMAIL)}"
registry="${registry:-$(template_value GITEA_REGISTRY)}"

[[ "$domain" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || fail "domain '$domain' is not a host name; pass e.g. --domain example.org"
# Unquoted in .env, where docker compose expands $ and reads a leading quote or a ` #` specially:
# only the characters an address needs in practice, none of which compose or a shell reads so.
email_pattern="^[A-Za-z0-9][A-Za-z0-9.!%&*+/=?^_{|}~'-]*@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\$"
[[ "$admin_email" =~ $email_pattern ]] ||
  fail "admin email '$admin_email' is not an email address .env can hold as written (letters, digits and .!%&*+/=?^_{|}~'- before the @, a host name after it); pass e.g. --admin-email you@example.org"
[[ "$registry" =~ ^[A-Za-z0-9.:-]+(/[A-Za-z0-9._-]+)*$ ]] || fail "registry '$registry' is not HOST[/OWNER]; pass e.g. --registry gitea.example.org/admin"
[[ -z "$image_tag" || "$image_tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || fail "image tag '$image_tag' is not a valid tag; pass e.g. --image-tag v1.2.3"

# The existing env file's assignments, read as docker compose reads them (`export ` may lead, spaces
# may surround the =, the last one wins): existing_lines[KEY] is the whole line, kept as written, and
# existing_set[KEY] says whether its value is other than empty. Read by bash alone: a value never
# becomes a command's argument.
declare -A existing_lines=() existing_set=()
read_existing_env() {
  local line name pattern='^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$'
  local empty='^(""|'"''"')?[[:space:]]*(#.*)?$'
  [ -f "$env_file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "${line%$'\r'}" =~ $pattern ]] || continue
    name="${BASH_REMATCH[2]}"
    existing_lines[$name]="$line"
    if [[ "${BASH_REMATCH[3]}" =~ $empty ]]; then existing_set[$name]=false; else existing_set[$name]=true; fi
  done <"$env_file"
}

# A template line as .env gets it: answers filled in; a secret the replaced .env set is kept as it
# was written there, an empty generated one is generated. Records what it kept and generated.
kept_secrets=() generated_now=()
render_line() {
  local line="$1" name value
  name="${line%%=*}"
  if [[ "$line" =~ ^[A-Z0-9_]+= ]]; then
    if is_secret "$name" && [ "${existing_set[$name]:-}" = true ]; then
      kept_secrets+=("$name")
      printf '%s\n' "${existing_lines[$name]}"
      return
    fi
    value="${line#*=}"
    case "$name" in
      DOMAIN) value="$domain" ;;
      ADMIN_EMAIL) value="$admin_email" ;;
      GITEA_REGISTRY) value="$registry" ;;
      GITEA_URL) value="${gitea_url:-$value}" ;;
      GITEA_REPO) value="${gitea_repo:-$value}" ;;
      IMAGE_TAG) value="$image_tag" ;;
      *) if is_generated_secret "$name" && [ -z "$value" ]; then
        # Explicit: in --add-missing this runs in a command substitution, where set -e is off.
        value="$(random_secret)" || exit "$reported_failure"
        generated_now+=("$name")
      fi ;;
    esac
    line="$name=$value"
  fi
  printf '%s\n' "$line"
}

# A rendered KEY=value line as it may be printed: a secret's value never is, a placeholder may be.
shown_line() {
  local line="$1" name value
  name="${line%%=*}" value="${line#*=}"
  if [[ "$line" =~ ^[A-Z0-9_]+= ]] && is_secret "$name" && [ -n "$value" ] && [ "$value" != '<generated>' ]; then
    line="$name=<secret, not shown>"
  fi
  printf '%s\n' "$line"
}

render_env() {
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    render_line "$line"
  done <"$template"
}

# The template's `KEY=value` lines whose key the env file does not assign (as compose reads it, so
# an `export KEY=` line counts), as config.sh would render them (secrets generated).
missing_lines() {
  local line name
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" =~ ^[A-Z0-9_]+= ]] || continue
    name="${line%%=*}"
    [ -n "${existing_lines[$name]:-}" ] || render_line "$line"
  done <"$template"
}

# The mode a file holding secrets must have: an older or hand-made .env (or its backup) may be 644.
# Says so when it changes one.
make_private() {
  local file="$1" shown="$2" mode
  mode="$(stat -c %a "$file")"
  if ((8#$mode & 8#077)); then
    chmod go= "$file"
    echo "made $shown private (mode $(stat -c %a "$file"); it was $mode): it holds secrets"
  fi
}

# The owner a rewritten .env keeps: the file is replaced, not written in place, so when root rewrites
# an operator's .env it would otherwise become root's and unreadable to the operator's compose.
keep_owner() {
  local from="$1" to="$2"
  if [ "$(id -u)" = 0 ] && [ -e "$from" ]; then chown --reference="$from" "$to"; fi
}

# Appends the missing keys in one rename, so .env is never half-written and keeps its mode.
add_missing_keys() {
  local lines
  lines="$(missing_lines)"
  [ -n "$lines" ] || return 0
  if [ "$dry_run" = true ]; then
    # shellcheck disable=SC2317 # called by missing_lines below
    random_secret() { printf '<generated>'; }
    missing_lines | while IFS= read -r line; do shown_line "$line"; done | sed "s/^/would add to $(basename "$env_file"): /"
    return 0
  fi
  partial="$(mktemp "$env_file.partial.XXXXXX")"
  cp -p "$env_file" "$partial"
  printf '\n# Added by config.sh --add-missing (new in %s)\n%s\n' "$(cat "$here/VERSION" 2>/dev/null || echo .env.example)" "$lines" >>"$partial"
  make_private "$partial" "$(basename "$env_file")"
  mv "$partial" "$env_file"
  partial="" env_written=true
  while IFS= read -r line; do
    name="${line%%=*}"
    if is_generated_secret "$name" && [ -z "$(template_value "$name")" ]; then
      echo "added $name to .env (generated)"
    elif is_secret "$name" && [ -n "${line#*=}" ]; then
      echo "added $name to .env (a secret: its value is not shown)"
    else
      echo "added $line to .env"
    fi
  done <<<"$lines"
}

read_existing_env
if [ "$add_missing" = true ]; then
  add_missing_keys
  exit 0
fi

if [ "$dry_run" = true ]; then
  echo "dry run: would write $env_file (mode 600)$([ -e "$env_file" ] && echo ", replacing the existing file"):"
  # The same rendering with every generated secret masked, so a dry run shows none.
  random_secret() { printf '<generated>'; }
  render_env | grep -E '^[A-Z0-9_]+=' | while IFS= read -r line; do shown_line "$line"; done
  exit 0
fi

# Written beside the target with mode 600, then moved: never a half-written or world-readable .env.
umask 077
partial="$(mktemp "$env_file.partial.XXXXXX")"
render_env >"$partial"
keep_owner "$env_file" "$partial"
if [ -e "$env_file" ]; then
  # A name no earlier backup has: two runs within a second must not overwrite the first backup.
  backup_base="$env_file.backup-$(date +%Y%m%d%H%M%S)" backup="$backup_base"
  for ((n = 2; ; n++)); do [ -e "$backup" ] || break; backup="$backup_base.$n"; done
  cp -p "$env_file" "$backup"
  make_private "$backup" "$(basename "$backup")"
  echo "kept the previous file as $backup"
fi
mv "$partial" "$env_file"
partial="" env_written=true

echo "wrote $env_file (mode 600)"
echo "  domain: $domain, admin email: $admin_email, registry: $registry"
[ "${#kept_secrets[@]}" = 0 ] || echo "  kept from the previous file: ${kept_secrets[*]}"
echo "  generated: ${generated_now[*]:-none}"
echo "next: docker compose up -d"
