#!/usr/bin/env bash
# Upgrades an installation.
#   Release installs (VERSION file, no .git): fetch the latest release (or --version) from the
#   Gitea, verify its signature against the installation's allowed_signers and its checksum, back
#   up the database (scripts/backup.sh, into backups/), swap the files in (.env, data/ and backups/
#   are never replaced; keys new in .env.example are added to .env), pull the images, check their
#   digests against the release's image-digests.txt, restart, and wait until every service is
#   healthy and /api/health answers {"status":"ok"}. When any of that fails, the previous files
#   are put back (they are kept in .rollback/) and restarted, or, when the pull or the digest check
#   failed, left running as they were; `upgrade.sh --rollback` does it later.
#   Shipped files edited since (per .shipped-files) are listed first, and the upgrade refused
#   unless --replace-edited is given.
#   Source installs (.git): git pull, then rebuild, or pull registry images with --use-registry.
#
#   ./scripts/upgrade.sh --start: no upgrade; pull the installed release's images, check their digests,
#   start them and wait for health, as install.sh --start does (stopped again if they do not come up).
#
#   ./scripts/upgrade.sh [--version vX.Y.Z] [--dry-run] [--no-restart] [--rollback] [--start] [--use-registry]
#        [--force] (allow a downgrade) [--no-backup] [--health-timeout SECONDS] (default 180)
#        [--replace-edited] (replace shipped files edited here) [--allowed-signers FILE] [--insecure-skip-signature]
#
# Environment: GITEA_URL, GITEA_REPO, GITEA_REGISTRY_API_TOKEN and GITEA_STALL_SECONDS, as for install.sh;
# HEALTH_URL (default http://127.0.0.1:$API_PORT/api/health), HEALTH_POLL_SECONDS (default 5).

# As install.sh's first lines: `sh upgrade.sh` (dash) would stop with a cryptic error. POSIX sh up to here.
case "${BASH_VERSION:-}" in
  4.[4-9]* | [5-9].* | [1-9][0-9].*) ;;
  *)
    echo "upgrade.sh: needs bash 4.4 or newer, and this is ${BASH_VERSION:+bash }${BASH_VERSION:-not bash}; run it with bash: bash scripts/upgrade.sh; nothing was changed" >&2
    exit 1
    ;;
esac
set -euo pipefail

rollback_dir=.rollback
# Entries the upgrade added, which a rollback removes; a name no release entry has.
added_list=.added-by-upgrade
# In .rollback/ while files move: a swap or restore that did not finish (power loss, kill -9) is
# then recognised, and the next run sends the operator to --rollback instead of starting anew.
swap_marker=.swap-in-progress
# Through a symlink (/usr/local/bin/changemaker-upgrade, say), the installation is where it points.
here="$(dirname "$(readlink -f -- "${BASH_SOURCE[0]}")")"
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
# The archive backup.sh wrote before the swap (backups/…), once it has.
pre_upgrade_backup=""
# compose_command's advice without docker compose.
compose_missing_hint="or pass --no-restart and restart yourself"

version=""
dry_run=false
use_registry=false
rollback=false
restart=true
force=false
backup=true
replace_edited=false
start_only=false
# Options of an upgrade that --start, which upgrades nothing, would otherwise ignore without a word.
upgrade_only_options=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --use-registry | --no-restart | --force | --no-backup | --replace-edited | --insecure-skip-signature) upgrade_only_options+=("$1") ;;&
    --allowed-signers) upgrade_only_options+=("$1") ;;&
    --version) [ -n "${2:-}" ] || fail "--version needs a tag, e.g. v1.2.3"; require_release_tag "$2"; version="$2"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    --use-registry) use_registry=true; shift ;;
    --rollback) rollback=true; shift ;;
    --start) start_only=true; shift ;;
    --no-restart) restart=false; shift ;;
    --force) force=true; shift ;;
    --no-backup) backup=false; shift ;;
    --replace-edited) replace_edited=true; shift ;;
    --health-timeout) [[ "${2:-}" =~ ^[0-9]+$ ]] || fail "--health-timeout needs a number of seconds, e.g. 300"; health_timeout="$2"; shift 2 ;;
    --allowed-signers) [ -n "${2:-}" ] || fail "--allowed-signers needs a file"; allowed_signers_option="$2"; shift 2 ;;
    --insecure-skip-signature) skip_signature=true; shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) fail "unknown option $1; see --help" ;;
  esac
done
require_health_settings
require_allowed_signers_option
[ "$start_only" = false ] || [ "$rollback" = false ] || fail "--start and --rollback do not go together; run one, then the other"
[ "$start_only" = false ] || [ -z "$version" ] || fail "--start starts the installed release and downloads none; leave out --version, or upgrade first and then start"
[ "$start_only" = false ] || [ "${#upgrade_only_options[@]}" -eq 0 ] ||
  fail "--start starts the installed release and upgrades nothing, so ${upgrade_only_options[*]} would do nothing; leave it out"

cd "$root"
# Where the installation came from, as install.sh recorded it in .env (the environment wins, as for
# compose): otherwise an upgrade run without GITEA_URL exported would ask the public default Gitea,
# with the token, for an installation from another Gitea.
set_gitea_location "$(compose_value GITEA_URL "$gitea_url")" "$(compose_value GITEA_REPO "$gitea_repo")"
# An upgrade trusts only the keys the installed release trusted; a new key arrives in a release
# signed by a key trusted already. Read by install.sh's verify_signature.
installed_signers="$root/$allowed_signers_file"

# One upgrade or rollback at a time: two would both move files and .rollback/ about. The lock
# is on the directory itself, whose inode no swap replaces, and leaves no file behind.
require_tools flock
require_gnu_userland
exec 9<"$root"
flock -n 9 || fail "another upgrade.sh is running in $root; wait for it to finish"
# With the lock held, a work directory is one a killed run (kill -9, power loss) left behind.
rm -rf "$root"/.upgrade.*

# The files a swap or rollback moves must be the user's own. Run as root in another user's
# installation (sudo out of habit), an upgrade makes every shipped file and .rollback/ root's, and
# that user's next upgrade or rollback then fails half-way on them. Both are refused before anything
# moves. Data entries (data/, backups/, .env) stay where they are, so their owners are not asked.
require_own_installation() {
  local me owner entry named foreign=()
  me="$(id -un)"
  owner="$(stat -c %U "$root")"
  if [ "$(id -u)" = 0 ] && [ "$owner" != "$me" ]; then
    fail "upgrade.sh runs as root in $root, which belongs to $owner: the files it moves in would be root's, and $owner's next upgrade could not move them; run it as $owner (sudo -u $owner $(shell_word "$root/scripts/upgrade.sh")), or make the installation root's first (sudo chown -R root: $(shell_word "$root")); nothing was changed"
  fi
  while IFS= read -r entry; do
    is_operators_entry "${entry%% *}" || foreign+=("$entry")
  done < <({ find . -mindepth 1 -maxdepth 1 ! -user "$me" -printf '%P (%u)\n'; find "$rollback_dir" -mindepth 1 -maxdepth 1 ! -user "$me" -printf '%p (%u)\n' 2>/dev/null; } | LC_ALL=C sort)
  [ "${#foreign[@]}" != 0 ] || return 0
  named="$(printf '%s, ' "${foreign[@]:0:3}")"
  named="${named%, }"
  [ "${#foreign[@]}" -le 3 ] || named+=" and $((${#foreign[@]} - 3)) more"
  fail "files here are not $me's: $named, left by a run as another user (sudo); a swap or rollback would fail half-way on them; make them yours (sudo chown -R $me: $(shell_word "$root")), then run upgrade.sh again; nothing was changed"
}

# The rollback that works with the files as they are now: scripts/ is in .rollback/ alone for as
# long as a stopped swap left it there.
rollback_command() {
  if [ -f "$root/scripts/upgrade.sh" ]; then
    echo "bash $(shell_word "$root/scripts/upgrade.sh") --rollback"
  else
    echo "bash $(shell_word "$root/$rollback_dir/scripts/upgrade.sh") --rollback"
  fi
}

# install.sh's stop_hint, for an upgrade: what to do after a signal or an unforeseen failure.
stop_hint() {
  if [ -n "${starting:-}" ]; then start_stop_hint; return; fi
  case "$stage" in
    swapped) echo "the new release's files are in place, or some of them, and the previous ones are in $rollback_dir/; $(rollback_command) puts them back" ;;
    restoring) echo "the previous files are partly back; $(rollback_command) finishes putting them back" ;;
    restored) echo "the previous files are back but were not started; start them, their images checked: $(start_command "$root")" ;;
    *) echo "nothing was changed; run it again" ;;
  esac
}

# The files move in a subshell that ignores HUP, INT and TERM, as do the mv and cp it runs: a swap
# cut half-way leaves VERSION or scripts/ missing. This shell notes a signal meanwhile and acts on it
# once they have moved (on_signal, which names the rollback): ignored here too, a Ctrl-C or a
# systemd stop was lost, and the upgrade went on to pull and restart. `stage` becomes $1, how far
# the files have got, before that signal's hint is given.
uninterrupted() {
  local moved_stage="$1" deferred="" status
  shift
  trap 'deferred="HUP 1"' HUP
  trap 'deferred="INT 2"' INT
  trap 'deferred="TERM 15"' TERM
  # Its status read without `||`, under which set -e would be off inside it too: a failed mv goes no further.
  set +e
  (
    set -e
    trap '' HUP INT TERM
    "$@"
  )
  status=$?
  set -e
  [ "$status" = 0 ] || fail "moving the files failed half-way (see above); $(stop_hint)"
  stage="$moved_stage"
  catch_signals
  # shellcheck disable=SC2086 # the signal's name and number, as catch_signals passes them
  [ -z "$deferred" ] || on_signal $deferred
}

# The run's work directory, inside the installation (removed on exit; a killed run's by the next).
# Refused in one line for a user who may not write there, as one who forgot sudo: nothing has changed.
work_inside() {
  mktemp -d "$root/.upgrade.XXXXXX" 2>/dev/null ||
    fail "cannot write in $root as $(id -un); run upgrade.sh as the user the installation belongs to (sudo?); nothing was changed"
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
    bash scripts/backup.sh | tee "$work/backup.out" || fail "the database backup before the upgrade failed (see above); nothing was changed; fix it, or pass --no-backup"
    pre_upgrade_backup="$(sed -n 's/^wrote \(.*\) ([^)]*)$/\1/p' "$work/backup.out" | tail -n 1)"
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
  refuse_unless_replacing_edits "$changes" "$current" \
    "upgrading replaces them with $target's and keeps the edited copies in $rollback_dir/ only until the next upgrade (copy what you need into .env or data/, or re-apply the edits after)" \
    "the edited and deleted ones"
}

# Lists `changes` (shipped_file_changes lines against what `current` shipped), saying what the run
# would do with them (`fate`), and stops unless --replace-edited; nothing when there are none.
# `named` says which of them `sha256sum -c` names, for the list's "and N more".
refuse_unless_replacing_edits() {
  local changes="$1" current="$2" fate="$3" named="$4" count
  [ -n "$changes" ] || return 0
  count="$(wc -l <<<"$changes")"
  echo "these files differ from what $current shipped; $fate:"
  list_changes "$changes" "sha256sum -c --quiet $shipped_record names $named"
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
# so a rollback restores exactly this state, the installed release's record with it. The unpacked
# release is on disk before anything moves, and the moves before the swap marker goes (install.sh's
# flush_to_disk): else the boot unit could find the marker gone and new files in place but empty.
swap_in_release() {
  local new="$1" record="$2" entry
  flush_to_disk "$new"
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
      # Only what is missing is made. Not -a: it would also copy the release's owner and mode onto
      # every directory here, which the operator or a service's container set (postgres's uid 70,
      # backup.sh's mode 700), and a service running as another user could no longer write its data.
      cp -R --no-clobber "$new/$entry/." "$entry/"
    elif [ -e "$entry" ]; then
      mv "$entry" "$rollback_dir/$entry"
      mv "$new/$entry" "$entry"
    else
      echo "$entry" >>"$rollback_dir/$added_list"
      mv "$new/$entry" "$entry"
    fi
  done < <(ls -A "$new")
  mv "$record" "$shipped_record"
  flush_to_disk .
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
  flush_to_disk .
  rm -rf "$rollback_dir"
}

# Files edited, or added in a shipped directory, since the upgrade: a rollback removes them with the
# release it leaves and keeps no copy, so they are named first and it is refused without
# --replace-edited, as an upgrade is (check_edited_files); a dry run lists and refuses the same.
check_edits_before_rollback() {
  local from="$1" to="$2"
  [ -f "$shipped_record" ] || return 0
  refuse_unless_replacing_edits "$(shipped_file_changes "$shipped_record" . | awk -F '\t' '$1 != "deleted"')" "$from" \
    "returning to $to removes them and keeps no copy" "the edited ones"
}

roll_back() {
  [ -d "$rollback_dir" ] || fail "there is no $rollback_dir/ to return to: no upgrade has been made here"
  local from
  if [ -f "$rollback_dir/$swap_marker" ] || [ ! -f VERSION ]; then
    from="an upgrade stopped half-way"
  else
    from="$(cat VERSION)"
    check_edits_before_rollback "$from" "$(cat "$rollback_dir/VERSION" 2>/dev/null || echo 'the previous release')"
  fi
  if [ "$dry_run" = true ]; then
    echo "would return from $from to $(cat "$rollback_dir/VERSION" 2>/dev/null || cat VERSION)"
    return
  fi
  [ "$restart" = false ] || compose_command >/dev/null
  work="$(work_inside)"
  cleanup_paths+=("$work")
  stage=restoring
  uninterrupted restored restore_previous_files
  [ -f VERSION ] || fail "the files in $rollback_dir/ are back, but hold no VERSION: this is no release install now; install a release anew (install.sh) and copy .env and data/ over"
  echo "returned from $from to $(cat VERSION)"
  if [ "$restart" = false ]; then return; fi
  if start_release; then
    echo "$(cat VERSION) is running and healthy"
  elif [ "$release_started" = false ]; then
    fail "$(cat VERSION)'s files are back, but it was not started: $health_problem; nothing was stopped, so what ran before the rollback runs on; once that is fixed, start it with: $(start_command "$root")"
  else
    fail "$(cat VERSION)'s files are back, but it did not come up: $health_problem; check docker compose ps and docker compose logs"
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

# After a failed start of `target`: its files out, `current`'s back, started and waited for. A
# start that failed before `up` (a pull that failed, an image refused) stopped nothing of
# `current`, which runs on as it did: starting it again would pull once more, and only move the
# local tags that start_release has just put back.
roll_back_after() {
  local current="$1" target="$2" problem="$3" target_started="$release_started" outcome="did not come up"
  [ "$target_started" = true ] || outcome="was not started"
  echo "$target $outcome: $problem; putting $current's files back" >&2
  stage=restoring
  uninterrupted restored restore_previous_files
  if [ "$target_started" = false ]; then
    fail "$target was not started: $problem; $current's files are back, and nothing was stopped: $current runs on as it did before the upgrade"
  fi
  if start_release; then
    fail "$target did not come up: $problem; $current is back, running and healthy$(restore_hint "$current" "$target")"
  fi
  fail "$target did not come up: $problem; $current's files are back but it did not come up either ($health_problem); check docker compose ps and docker compose logs$(restore_hint "$current" "$target")"
}

# `target` ran against the database before it was rolled back: what it wrote stays, and the backup
# made before the swap is the way back to the data `current` left, should `current` not read it.
restore_hint() {
  [ -n "$pre_upgrade_backup" ] || return 0
  echo "; $2 ran against the database meanwhile: if it changed data $1 reads, restore the backup made before the upgrade ($(shell_word "$root/scripts/restore.sh") $(shell_word "$root/$pre_upgrade_backup") --yes)"
}

# Refuses a downgrade without --force; says whether there is anything to do.
target_is_wanted() {
  local current="$1" target="$2" order
  # Called as `target_is_wanted ... || return 0`, where set -e is off: a tag semver_compare refuses
  # (its line is out) must end the run here, not leave `order` empty and upgrade unchecked.
  order="$(semver_compare "$target" "$current")" || exit "$?"
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
  require_signature_verifier
  # Known before anything changes: an upgrade that cannot restart is not started.
  [ "$restart" = false ] || compose_command >/dev/null
  work="$(work_inside)"
  cleanup_paths+=("$work")
  target="$(find_release "${version:-latest}" "$work")"
  target_is_wanted "$current" "$target" || return 0
  echo "upgrade available: $current -> $target"
  # The swap ends by adding the release's new keys to .env (config.sh --add-missing), which fails
  # without one: refused before the download, as the dry run does, not once the files have moved.
  [ -f .env ] || fail "$root/.env is missing: config.sh has not been run here; run it first (cd $(shell_word "$root") && bash config.sh), then upgrade; nothing was changed"
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
  uninterrupted swapped swap_in_release "$work/$bundle_name" "$work/$shipped_record"
  echo "files upgraded from $current to $target (the previous files are in $rollback_dir/)"
  added="$(GITEA_URL="$gitea_url" GITEA_REPO="$gitea_repo" bash config.sh --add-missing)" || fail "adding $target's new .env keys failed (see above); the files are upgraded: fix .env, or run scripts/upgrade.sh --rollback"
  [ -z "$added" ] || echo "$added"
  overridden="$(compose_value IMAGE_TAG "")"
  if [ -n "$overridden" ]; then
    echo "note: IMAGE_TAG=$overridden (from .env or the environment) overrides $target's image tag"
  fi
  if [ "$restart" = false ]; then
    echo "not restarted (--no-restart): $(start_later_hint "$root")"
    return
  fi
  start_release || roll_back_after "$current" "$target" "$health_problem"
  echo "upgraded from $current to $target: every service is healthy and /api/health answers ok"
}

# upgrade.sh --start: the installed release, verified and started as install.sh --start does, for
# an installation made without --start (or stopped since); nothing is downloaded.
start_installed() {
  if [ ! -f VERSION ] || [ -d .git ]; then fail "--start is for a release install (VERSION, no .git); in a source checkout run docker compose up -d"; fi
  compose_missing_hint="then run upgrade.sh --start again"
  if [ "$dry_run" = true ]; then
    compose_command >/dev/null
    echo "would pull the images of $(cat VERSION) that docker-compose.yml names, $(verified_start_plan)"
    return
  fi
  require_tools curl awk
  compose_command >/dev/null
  work="$(work_inside)"
  cleanup_paths+=("$work")
  start_verified </dev/null
}

[ "$start_only" = true ] || require_own_installation
if [ "$rollback" = true ]; then
  roll_back
elif [ -f "$rollback_dir/$swap_marker" ] || { [ -d "$rollback_dir" ] && [ ! -f VERSION ] && [ ! -d .git ]; }; then
  # Starting anew would delete .rollback/, and the previous files in it with it.
  fail "an upgrade or rollback was stopped half-way here ($rollback_dir/ holds previous files); run $(rollback_command) to put them back, then upgrade again"
elif [ "$start_only" = true ]; then
  start_installed
elif [ -d .git ]; then
  upgrade_source_install
elif [ -f VERSION ]; then
  upgrade_release_install
else
  fail "$root is neither a source checkout (.git) nor a release install (VERSION)"
fi
