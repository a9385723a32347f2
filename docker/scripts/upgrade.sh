#!/usr/bin/env bash
# Upgrades an installation.
#   Release installs (VERSION file, no .git): fetch the latest release (or --version) from the
#   Gitea, verify its signature against the installation's allowed_signers and its checksum, back
#   up the database (scripts/backup.sh, into backups/), swap the files in (.env, data/ and backups/
#   are never replaced; keys new in .env.example are added to .env), pull the images, check their
#   digests against the release's image-digests.txt, restart, and wait until every service is
#   healthy and /api/health answers {"status":"ok"}. When any of that fails, the previous files
#   are put back (they are kept in .rollback/) and restarted; `upgrade.sh --rollback` does it later.
#   Shipped files edited since (per .shipped-files) are listed first, and the upgrade refused
#   unless --replace-edited is given.
#   Source installs (.git): git pull, then rebuild, or pull registry images with --use-registry.
#
#   ./scripts/upgrade.sh [--version vX.Y.Z] [--dry-run] [--no-restart] [--rollback] [--use-registry]
#        [--force] (allow a downgrade) [--no-backup] [--health-timeout SECONDS] (default 180)
#        [--replace-edited] (replace shipped files edited here) [--allowed-signers FILE] [--insecure-skip-signature]
#
# Environment: GITEA_URL, GITEA_REPO, GITEA_REGISTRY_API_TOKEN and GITEA_STALL_SECONDS, as for install.sh;
# HEALTH_URL (default http://127.0.0.1:$API_PORT/api/health), HEALTH_POLL_SECONDS (default 5).
set -euo pipefail

rollback_dir=.rollback
# Entries the upgrade added, which a rollback removes; a name no release entry has.
added_list=.added-by-upgrade
# In .rollback/ while files move: a swap or restore that did not finish (power loss, kill -9) is
# then recognised, and the next run sends the operator to --rollback instead of starting anew.
swap_marker=.swap-in-progress
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# Run as .rollback/scripts/upgrade.sh, as after an upgrade stopped once scripts/ had moved away,
# the installation is the directory that holds .rollback/.
if [ "$(basename "$root")" = "$rollback_dir" ]; then root="$(dirname "$root")"; fi
program=upgrade.sh
# The release download and its checks: install.sh's own functions, not a copy of them.
# shellcheck source=SCRIPTDIR/install.sh
source "$here/install.sh"
# shellcheck source=SCRIPTDIR/env-file.sh
source "$here/env-file.sh"

# How far the files have moved, for stop_hint: "", swapped, restoring or restored.
stage=""
# As libs/release-contract names it (imageDigestsFileName); spelled here because bash cannot import it.
image_digests_file="image-digests.txt"
# Workspace images are `<registry>/changemaker-<project>` (serviceImagePrefix): IMAGE_TAG retags them.
workspace_image_prefix=changemaker-

version=""
dry_run=false
use_registry=false
rollback=false
restart=true
force=false
backup=true
replace_edited=false
health_timeout=180
health_poll="${HEALTH_POLL_SECONDS:-5}"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --version) [ -n "${2:-}" ] || fail "--version needs a tag, e.g. v1.2.3"; require_release_tag "$2"; version="$2"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    --use-registry) use_registry=true; shift ;;
    --rollback) rollback=true; shift ;;
    --no-restart) restart=false; shift ;;
    --force) force=true; shift ;;
    --no-backup) backup=false; shift ;;
    --replace-edited) replace_edited=true; shift ;;
    --health-timeout) [[ "${2:-}" =~ ^[0-9]+$ ]] || fail "--health-timeout needs a number of seconds, e.g. 300"; health_timeout="$2"; shift 2 ;;
    --allowed-signers) [ -n "${2:-}" ] || fail "--allowed-signers needs a file"; allowed_signers_option="$2"; shift 2 ;;
    --insecure-skip-signature) skip_signature=true; shift ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) fail "unknown option $1; see --help" ;;
  esac
done
[[ "$health_poll" =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "HEALTH_POLL_SECONDS='$health_poll' is not a number of seconds"

cd "$root"
# An upgrade trusts only the keys the installed release trusted; a new key arrives in a release
# signed by a key trusted already. Read by install.sh's verify_signature.
installed_signers="$root/$allowed_signers_file"

# One upgrade or rollback at a time: two would both move files and .rollback/ about. The lock
# is on the directory itself, whose inode no swap replaces, and leaves no file behind.
require_tools flock
exec 9<"$root"
flock -n 9 || fail "another upgrade.sh is running in $root; wait for it to finish"
# With the lock held, a work directory is one a killed run (kill -9, power loss) left behind.
rm -rf "$root"/.upgrade.*

# The rollback that works with the files as they are now: scripts/ is in .rollback/ alone for as
# long as a stopped swap left it there.
rollback_command() {
  if [ -f "$root/scripts/upgrade.sh" ]; then
    echo "bash $root/scripts/upgrade.sh --rollback"
  else
    echo "bash $root/$rollback_dir/scripts/upgrade.sh --rollback"
  fi
}

# install.sh's stop_hint, for an upgrade: what to do after a signal or an unforeseen failure.
stop_hint() {
  case "$stage" in
    swapped) echo "the new release's files are in place, or some of them, and the previous ones are in $rollback_dir/; $(rollback_command) puts them back" ;;
    restoring) echo "the previous files are partly back; $(rollback_command) finishes putting them back" ;;
    restored) echo "the previous files are back but were not started; start them: cd $root && docker compose up -d" ;;
    *) echo "nothing was changed; run it again" ;;
  esac
}

# Signals are ignored while files move, by this shell and the mv and cp it runs: a swap cut
# half-way leaves VERSION or scripts/ missing. An interrupt lands before the move or after it.
uninterrupted() {
  trap '' HUP INT TERM
  "$@"
  catch_signals
}

compose_command() {
  if docker compose version >/dev/null 2>&1; then
    echo "docker compose"
  elif command -v docker-compose >/dev/null; then
    echo docker-compose
  else
    fail "docker compose (or docker-compose) is needed to restart; install it, or pass --no-restart and restart yourself"
  fi
}

compose() {
  local found
  local -a command
  found="$(compose_command)"
  read -r -a command <<<"$found"
  "${command[@]}" "$@"
}


# One line per container of the project: `<service> <status> <health> <restart count>`, health
# `none` for a service without a healthcheck.
service_states() {
  local ids
  ids="$(compose ps -a -q)" || return 1
  [ -n "$ids" ] || return 0
  # shellcheck disable=SC2086 # one argument per container id
  docker inspect --format '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.RestartCount}}' $ids
}

# Whether /api/health answers {"status":"ok"} (in whatever whitespace).
api_reports_ok() {
  local url="${HEALTH_URL:-http://127.0.0.1:$(compose_value API_PORT 4000)/api/health}" answer="$work/health.json"
  curl -sS --max-time 5 -o "$answer" "$url" 2>/dev/null || return 1
  [ "$(json_flatten "$answer" 2>/dev/null | flat_value /dev/stdin status)" = ok ]
}

# Waits up to --health-timeout seconds for every container to run (healthy, where it has a
# healthcheck) and for the api to answer ok. Returns at once when one crash-loops, exits or turns
# unhealthy. Sets `health_problem` to what is wrong when it returns non-zero.
wait_until_healthy() {
  local deadline=$((SECONDS + health_timeout)) states service status health restarts first waiting
  local -A first_restarts=()
  echo "waiting up to ${health_timeout}s for every service to be healthy..."
  while :; do
    waiting=""
    states="$(service_states)" || { health_problem="docker cannot list the containers (see above)"; return 1; }
    [ -n "$states" ] || waiting="no container is running yet"
    while read -r service status health restarts; do
      [ -n "$service" ] || continue
      first="${first_restarts[$service]:-$restarts}"
      first_restarts[$service]="$first"
      case "$status" in
        restarting) health_problem="$service is crash-looping (restarting)"; return 1 ;;
        exited | dead) health_problem="$service has $status"; return 1 ;;
      esac
      if ((restarts > first)); then health_problem="$service is crash-looping (restarted $((restarts - first)) times)"; return 1; fi
      case "$health" in
        unhealthy) health_problem="$service failed its health check"; return 1 ;;
        starting) waiting="$service is starting" ;;
      esac
      [ "$status" = running ] || waiting="$service is $status"
    done <<<"$states"
    if [ -z "$waiting" ]; then
      api_reports_ok && return 0
      waiting="/api/health does not answer {\"status\":\"ok\"}"
    fi
    if ((SECONDS >= deadline)); then
      health_problem="not healthy after ${health_timeout}s: $waiting"
      return 1
    fi
    sleep "$health_poll"
  done
}

# `<service> <image>` lines of the resolved compose configuration (`config` prints it normalised,
# two spaces an indent, the same from docker compose v2 and docker-compose v1, which has no --images).
resolved_service_images() {
  compose config | awk '
    /^[^ ]/ { in_services = ($0 == "services:"); service = ""; next }
    in_services && /^  [^ ]/ { service = substr($0, 3); sub(/:$/, "", service); next }
    in_services && service != "" && /^    image: / { image = substr($0, 12); gsub(/^["\047]|["\047]$/, "", image); print service " " image }
  '
}

# Compares each service's pulled image with the digest image-digests.txt recorded when the
# release was cut, before anything restarts. Sets `health_problem` when one differs.
check_image_digests() {
  local service reference digest image repo_digests overridden images
  if [ ! -f "$image_digests_file" ]; then
    echo "this release records no image digests ($image_digests_file); the pulled images are not checked"
    return 0
  fi
  overridden="$(compose_value IMAGE_TAG "")"
  images="$(resolved_service_images)" || { health_problem="docker compose cannot resolve the configuration (see above)"; return 1; }
  while read -r service reference digest; do
    [ -n "$service" ] || continue
    if [ -n "$overridden" ] && [[ "${reference##*/}" == "$workspace_image_prefix"* ]]; then
      echo "$service: IMAGE_TAG=$overridden (from .env or the environment) overrides the release's image; its digest is not checked"
      continue
    fi
    image="$(awk -v service="$service" '$1 == service { print $2 }' <<<"$images")"
    [ -n "$image" ] || { health_problem="$image_digests_file names $service, which docker-compose.yml does not run; the release is inconsistent"; return 1; }
    repo_digests="$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$image")" ||
      { health_problem="$service's image $image was not pulled"; return 1; }
    if ! grep -qF "@$digest" <<<"$repo_digests"; then
      health_problem="$service's image $image is not the one $(cat VERSION) was cut with (expected $digest); the tag was pushed again"
      return 1
    fi
  done <"$image_digests_file"
  echo "every image matches the digest its release recorded"
}

postgres_is_running() {
  local states
  states="$(service_states 2>/dev/null)" || return 1
  grep -qE '^v2-postgres running ' <<<"$states"
}

# The database, with the installed release's own backup script, before any file is swapped.
back_up_database() {
  if [ "$backup" = false ]; then
    echo "no database backup (--no-backup)"
  elif postgres_is_running; then
    bash scripts/backup.sh || fail "the database backup before the upgrade failed (see above); nothing was changed; fix it, or pass --no-backup"
  else
    echo "v2-postgres is not running: no database to back up"
  fi
}

# A list of shipped_file_changes lines, indented, at most 20; `more` says where the rest are seen.
list_changes() {
  awk -F '\t' -v more="$2" 'NR <= 20 { printf "  %-7s %s\n", $1, $2 } END { if (NR > 20) printf "  and %d more (%s)\n", NR - 20, more }' <<<"$1"
}

# Shipped files edited here (or deleted, or added beside them) are about to be moved into
# .rollback/, which the next upgrade deletes: they are named before anything moves, and the upgrade
# is refused unless the operator passes --replace-edited. Refused, not only warned about: an
# upgrade the operator runs gives them the list and one line saying what to do, and nothing has
# changed; an unattended one (a timer or cron job; none is shipped, scripts/systemd only backs up)
# fails with a non-zero exit its unit shows, instead of replacing a deliberate nginx or Prometheus
# change with a warning in a journal nobody reads, and deleting the edited copy for good on the
# next timed run. The release that runs stays the one that ran, as for a downgrade without --force.
# With the new release unpacked (`release`), only its top-level entries count: a file in an entry it
# no longer ships stays where it is; the dry run, which downloads nothing, lists them all.
check_edited_files() {
  local current="$1" target="$2" release="${3:-}" changes count
  if [ ! -f "$shipped_record" ]; then
    echo "no $shipped_record here (installed by a release older than this script): files edited since $current was installed cannot be told apart; going on"
    return 0
  fi
  changes="$(shipped_file_changes "$shipped_record" . "$release")"
  [ -n "$changes" ] || return 0
  count="$(wc -l <<<"$changes")"
  echo "these files differ from what $current shipped; upgrading replaces them with $target's and keeps the edited copies in $rollback_dir/ only until the next upgrade (copy what you need into .env or data/, or re-apply the edits after):"
  list_changes "$changes" "sha256sum -c --quiet $shipped_record names the edited and deleted ones"
  [ "$replace_edited" = true ] ||
    fail "$count file(s) differ from what $current shipped (listed above); nothing was changed; keep a copy of your edits, then run it again with --replace-edited"
}

# A new upgrade deletes the previous one's .rollback/; edited copies it kept (per the record of the
# release it holds) are named once more as they go. Copies kept by an installation without a record
# were not told apart when they were moved there, and are not now.
discard_previous_files() {
  local kept from
  [ -d "$rollback_dir" ] || return 0
  if [ -f "$rollback_dir/$shipped_record" ]; then
    kept="$(shipped_file_changes "$rollback_dir/$shipped_record" "$rollback_dir" | awk -F '\t' '$1 != "deleted"')"
    if [ -n "$kept" ]; then
      from="$(cat "$rollback_dir/VERSION" 2>/dev/null || echo 'the previous release')"
      echo "upgrading discards $rollback_dir/ and the edited copies of $from's files it kept since the last upgrade:"
      list_changes "$kept" "cd $rollback_dir && sha256sum -c --quiet $shipped_record names the edited ones"
    fi
  fi
  [ "$dry_run" = true ] || rm -rf "$rollback_dir"
}

# Moves each top-level entry of the unpacked release `new` into place, and its record `record`
# (see shipped_record). What it replaces goes to .rollback/, and the names it adds are listed there,
# so a rollback restores exactly this state, the installed release's record with it.
swap_in_release() {
  local new="$1" record="$2" entry
  mkdir "$rollback_dir"
  : >"$rollback_dir/$swap_marker"
  : >"$rollback_dir/$added_list"
  if [ -f "$shipped_record" ]; then
    mv "$shipped_record" "$rollback_dir/$shipped_record"
  else
    echo "$shipped_record" >>"$rollback_dir/$added_list"
  fi
  while IFS= read -r entry; do
    if [ "$entry" = "$shipped_record" ]; then
      continue
    elif is_data_entry "$entry"; then
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
  mv "$record" "$shipped_record"
  rm "$rollback_dir/$swap_marker"
}

# Also finishes a swap or a restore that was stopped half-way: an entry is listed as added before
# it is moved in, and an entry in .rollback/ goes back whether or not its replacement arrived.
restore_previous_files() {
  local entry
  : >"$rollback_dir/$swap_marker"
  if [ -f "$rollback_dir/$added_list" ]; then
    while IFS= read -r entry; do
      [ -n "$entry" ] && rm -rf "${entry:?}"
    done <"$rollback_dir/$added_list"
  fi
  while IFS= read -r entry; do
    [ "$entry" = "$added_list" ] || [ "$entry" = "$swap_marker" ] && continue
    rm -rf "${entry:?}"
    mv "$rollback_dir/$entry" "$entry"
  done < <(ls -A "$rollback_dir")
  rm -rf "$rollback_dir"
}

# Starts the release whose files are in place and waits for it to be healthy; `health_problem`
# says what failed.
start_release() {
  compose pull || { health_problem="pulling the images failed (see above)"; return 1; }
  check_image_digests || return 1
  compose up -d --remove-orphans || { health_problem="docker compose up failed (see above)"; return 1; }
  wait_until_healthy
}

roll_back() {
  [ -d "$rollback_dir" ] || fail "there is no $rollback_dir/ to return to: no upgrade has been made here"
  local from
  if [ -f "$rollback_dir/$swap_marker" ] || [ ! -f VERSION ]; then
    from="an upgrade stopped half-way"
  else
    from="$(cat VERSION)"
  fi
  if [ "$dry_run" = true ]; then
    echo "would return from $from to $(cat "$rollback_dir/VERSION" 2>/dev/null || cat VERSION)"
    return
  fi
  [ "$restart" = false ] || compose_command >/dev/null
  work="$(mktemp -d "$root/.upgrade.XXXXXX")"
  cleanup_paths+=("$work")
  stage=restoring
  uninterrupted restore_previous_files
  stage=restored
  [ -f VERSION ] || fail "the files in $rollback_dir/ are back, but hold no VERSION: this is no release install now; install a release anew (install.sh) and copy .env and data/ over"
  echo "returned from $from to $(cat VERSION)"
  if [ "$restart" = true ]; then
    start_release || fail "$(cat VERSION)'s files are back, but it did not come up: $health_problem; check docker compose ps and docker compose logs"
    echo "$(cat VERSION) is running and healthy"
  fi
}

upgrade_source_install() {
  if [ "$dry_run" = true ]; then
    git fetch --quiet && git log --oneline 'HEAD..@{u}'
    return
  fi
  git pull --ff-only || fail "git pull failed (see above); resolve it in $root and run upgrade.sh again"
  if [ "$use_registry" = true ]; then
    docker compose -f docker-compose.prod.yml pull && docker compose -f docker-compose.prod.yml up -d
  else
    docker compose up -d --build
  fi || fail "the restart failed (see above); check docker compose logs"
}

# After a failed start of `target`: its files out, `current`'s back, started and waited for.
roll_back_after() {
  local current="$1" target="$2" problem="$3"
  echo "$target did not come up: $problem; putting $current's files back" >&2
  stage=restoring
  uninterrupted restore_previous_files
  stage=restored
  if start_release; then
    fail "$target did not come up: $problem; $current is back, running and healthy"
  fi
  fail "$target did not come up: $problem; $current's files are back but it did not come up either ($health_problem); check docker compose ps and docker compose logs"
}

# Refuses a downgrade without --force; says whether there is anything to do.
target_is_wanted() {
  local current="$1" target="$2" order
  order="$(semver_compare "$target" "$current")"
  if [ "$order" = 0 ]; then
    echo "already on $current; no update available"
    return 1
  fi
  if [ "$order" = -1 ] && [ -z "$version" ]; then
    echo "already on $current, newer than the latest release $target; no update available"
    return 1
  fi
  if [ "$order" = -1 ] && [ "$force" = false ]; then
    fail "$target is older than $current: a downgrade may not read data $current wrote; back up, then pass --force to downgrade"
  fi
}

upgrade_release_install() {
  local current target added overridden
  current="$(cat VERSION)"
  require_gitea_settings
  require_tools curl tar sha256sum awk
  [ "${skip_signature:-false}" = true ] || require_tools ssh-keygen
  # Known before anything changes: an upgrade that cannot restart is not started.
  [ "$restart" = false ] || compose_command >/dev/null
  work="$(mktemp -d "$root/.upgrade.XXXXXX")"
  cleanup_paths+=("$work")
  target="$(find_release "${version:-latest}" "$work")"
  target_is_wanted "$current" "$target" || return 0
  echo "upgrade available: $current -> $target"
  if [ "$dry_run" = true ]; then
    check_edited_files "$current" "$target"
    discard_previous_files
    echo "would download $target from $gitea_url ($gitea_repo), verify its signature and checksum$([ "$restart" = true ] && [ "$backup" = true ] && echo ', back up the database'), swap it in and add its new .env keys$([ "$restart" = true ] && echo ", then pull, check the image digests, restart and wait up to ${health_timeout}s for it to be healthy")"
    return
  fi

  fetch_release "$target" "$work"
  check_edited_files "$current" "$target" "$work/$bundle_name"
  shipped_files_record "$work/$bundle_name" >"$work/$shipped_record"
  [ "$restart" = false ] || back_up_database
  discard_previous_files
  stage=swapped
  uninterrupted swap_in_release "$work/$bundle_name" "$work/$shipped_record"
  echo "files upgraded from $current to $target (the previous files are in $rollback_dir/)"
  added="$(bash config.sh --add-missing)" || fail "adding $target's new .env keys failed (see above); the files are upgraded: fix .env, or run scripts/upgrade.sh --rollback"
  [ -z "$added" ] || echo "$added"
  overridden="$(compose_value IMAGE_TAG "")"
  if [ -n "$overridden" ]; then
    echo "note: IMAGE_TAG=$overridden (from .env or the environment) overrides $target's image tag"
  fi
  if [ "$restart" = false ]; then
    echo "not restarted (--no-restart): run docker compose pull && docker compose up -d"
    return
  fi
  start_release || roll_back_after "$current" "$target" "$health_problem"
  echo "upgraded from $current to $target: every service is healthy and /api/health answers ok"
}

if [ "$rollback" = true ]; then
  roll_back
elif [ -f "$rollback_dir/$swap_marker" ] || { [ -d "$rollback_dir" ] && [ ! -f VERSION ] && [ ! -d .git ]; }; then
  # Starting anew would delete .rollback/, and the previous files in it with it.
  fail "an upgrade or rollback was stopped half-way here ($rollback_dir/ holds previous files); run $(rollback_command) to put them back, then upgrade again"
elif [ -d .git ]; then
  upgrade_source_install
elif [ -f VERSION ]; then
  upgrade_release_install
else
  fail "$root is neither a source checkout (.git) nor a release install (VERSION)"
fi
