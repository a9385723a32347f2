#!/usr/bin/env bash
# Installs a Changemaker Lite release: finds it on the project's Gitea (the latest, or --version),
# downloads its tarball, SHA256SUMS and SHA256SUMS.sig, verifies the signature and the checksum,
# unpacks it into --dir and runs the configuration wizard (config.sh).
#
#   curl -fsSL <gitea>/admin/changemaker.lite/raw/branch/main/docker/scripts/install.sh | bash
#   bash install.sh --version v1.2.3 --dir /opt/changemaker-lite
#   bash install.sh --dry-run          say which release would go where, change nothing
#   bash install.sh --no-config        unpack only; run config.sh yourself later
#   bash install.sh --start [--health-timeout SECONDS]   then pull the images, check each against the
#                                      digest the signed release recorded (image-digests.txt), start
#                                      them and wait (default 180s) for every service to be healthy
#   bash install.sh --allowed-signers FILE    trust the keys in FILE (ssh-keygen allowed_signers)
#   bash install.sh --insecure-skip-signature install a release whose signature is not checked
#
# Environment: GITEA_URL (default https://gitea.bnkops.com), GITEA_REPO (default
# admin/changemaker.lite), GITEA_REGISTRY_API_TOKEN for a private repository (read access is
# enough; sent as a header, never in arguments or URLs), GITEA_STALL_SECONDS (default 60: how long
# a connection or a download may make no progress). DOMAIN and ADMIN_EMAIL answer the wizard.
# With --start: HEALTH_URL (default http://127.0.0.1:$API_PORT/api/health), HEALTH_POLL_SECONDS (default 5).

# Piped into `sh` or run by it (dash), zsh or a bash older than 4.4 (inherit_errexit) would stop at
# the first line it cannot read with a cryptic error: say what runs it instead. POSIX sh up to here.
case "${BASH_VERSION:-}" in
  4.[4-9]* | [5-9].* | [1-9][0-9].*) ;;
  *)
    echo "install.sh: needs bash 4.4 or newer, and this is ${BASH_VERSION:+bash }${BASH_VERSION:-not bash}; run it with bash (bash install.sh, or curl ... | bash); nothing was changed" >&2
    exit 1
    ;;
esac
set -euo pipefail
# A failure inside $(...) stops the script too, instead of going on with an empty answer.
shopt -s inherit_errexit

program="${program:-install.sh}"

# The Gitea and repository releases come from. Every trailing slash is dropped, as
# release-contract's giteaLocation drops them: one left asked for //api/v1/.
set_gitea_location() {
  gitea_url="$1"
  while [[ "$gitea_url" == */ ]]; do gitea_url="${gitea_url%/}"; done
  gitea_repo="$2"
}
set_gitea_location "${GITEA_URL-https://gitea.bnkops.com}" "${GITEA_REPO-admin/changemaker.lite}"
stall_seconds="${GITEA_STALL_SECONDS:-60}"
# The release's file names and signature settings, as libs/release-contract (release-files.ts,
# release-signing.ts) names them; this script cannot import it, so change them there and here together.
bundle_name=changemaker-lite
checksum_file=SHA256SUMS
signature_file=SHA256SUMS.sig
# shellcheck disable=SC2034 # upgrade.sh's: the installation's copy of the release's trusted keys
allowed_signers_file=allowed_signers
signature_namespace=changemaker-lite-release
signer_principal=release@changemaker-lite
# What the installed release shipped, at the installation's root: `<sha256>  <path>` for every
# regular file of its tarball but the operator's entries, as sha256sum writes it (so
# `sha256sum -c --quiet .shipped-files` checks it by hand). install.sh writes it, upgrade.sh compares
# the installed files with it before replacing them, so edits to shipped files are named, not
# dropped unseen; it is no entry of any release, and a rollback puts the previous one back.
shipped_record=.shipped-files
# Top-level entries of a release that hold the operator's data: completed, never replaced, not recorded.
data_entries=" data backups "
# As libs/release-contract names it (imageDigestsFileName): `<service> <reference> <digest>` lines.
image_digests_file="image-digests.txt"
# How long a start waits for every service to be healthy (--health-timeout), and how often it looks.
health_timeout=180
health_poll="${HEALTH_POLL_SECONDS:-5}"
# What to do without docker compose, for compose_command's line; upgrade.sh names its own.
compose_missing_hint="or run install.sh without --start"

# The public keys whose signature a release must carry, in ssh-keygen's allowed_signers format
# (`release@changemaker-lite ssh-ed25519 AAAA...`), so that the curl one-liner verifies the first
# install. Keep it equal to docker/allowed_signers (a test compares them); see the README, "Signing keys".
baked_allowed_signers='
'

# fail's exit status: its line is out already, so the exit handler adds none.
reported_failure=86
cleanup_paths=()
# Set once a signal's line is out, so the exit handler adds none.
stopped_by_signal=""

fail() {
  echo "$program: $*" >&2
  exit "$reported_failure"
}

# What an operator should do after a stop the script did not foresee, from how far it got;
# upgrade.sh, which sources this file, has its own.
stop_hint() {
  if [ -n "${starting:-}" ]; then
    start_stop_hint
  elif [ -n "${installed_into:-}" ]; then
    echo "the release is installed in $installed_into, but config.sh did not finish; run it there: cd $(shell_word "$installed_into") && bash config.sh"
  else
    echo "nothing was installed; run it again"
  fi
}

# No exit is silent: fail() says what went wrong, on_signal which signal stopped it; any other
# failure (a tool that stopped under `set -e`) is named here with the command that failed.
on_exit() {
  local status=$? command="${BASH_COMMAND%%$'\n'*}"
  # A subshell a signal reaches while it is being forked may run its parent's EXIT trap (bash 5.2):
  # the cleanup and the closing line are the script's own process's, never a subshell's.
  [ "$BASHPID" = "$$" ] || return 0
  [ "${#cleanup_paths[@]}" -eq 0 ] || rm -rf "${cleanup_paths[@]}"
  if [ "$status" = "$reported_failure" ]; then exit 1; fi
  # Neither run nor sourced: bash never read the last line. `curl ... | bash` over a link that
  # dropped ends, cut between two functions, with status 0 and nothing done.
  if [ "$status" = 0 ] && [ -z "${main_started:-}" ] && [ -z "${sourced:-}" ]; then
    echo "$program: the script ended before its last line, so it arrived cut short (a dropped download?); nothing was installed; download it again" >&2
    exit 1
  fi
  if [ "$status" != 0 ] && [ -z "$stopped_by_signal" ]; then
    echo "$program: stopped unexpectedly (exit $status) at: $command; $(stop_hint), and report the line above if it repeats" >&2
  fi
}
trap on_exit EXIT

# Bash runs the EXIT trap after a signal with $? = 0, so without these an interrupt, a closed ssh
# session or a `kill` ended the script without a word. The exit handler then cleans up.
on_signal() {
  stopped_by_signal="SIG$1"
  [ -z "${images_before_pull:-}" ] || put_back_local_images "$images_before_pull" >&2
  echo "$program: stopped by $stopped_by_signal; $(stop_hint)" >&2
  exit $((128 + $2))
}
catch_signals() {
  trap 'on_signal HUP 1' HUP
  trap 'on_signal INT 2' INT
  trap 'on_signal TERM 15' TERM
}
catch_signals

# Credentials belong in GITEA_REGISTRY_API_TOKEN, never in the URL: the URL is printed in messages
# and is an argument of curl, which any process listing shows. Neither refusal repeats the URL.
require_gitea_settings() {
  # Set but empty is no "unset": a variable that expanded to nothing would send the token to the public default.
  [ -n "${GITEA_URL-unset}" ] || fail "GITEA_URL is set but empty; set it, or unset it to use the default https://gitea.bnkops.com"
  [ -n "${GITEA_REPO-unset}" ] || fail "GITEA_REPO is set but empty; set it, or unset it to use the default admin/changemaker.lite"
  [[ "$gitea_url" =~ ^https?://([^/?#]*) ]] || fail "GITEA_URL is not an http(s) URL; set it like https://gitea.example.com"
  [[ "${BASH_REMATCH[1]}" != *@* ]] || fail "GITEA_URL carries credentials; remove them from the URL and put the token in GITEA_REGISTRY_API_TOKEN"
  [ -n "${BASH_REMATCH[1]}" ] || fail "GITEA_URL names no host; set it like https://gitea.example.com"
  # Where downloads are asked for (url_on_gitea): scheme, host and port, without GITEA_URL's path.
  gitea_origin="${BASH_REMATCH[0]}"
  warn_plain_http_token "${BASH_REMATCH[1]}"
  # A query may be Gitea's ?token=, which every message and curl's arguments would show; neither
  # a query nor a fragment nor a space belongs in the address the API paths are appended to.
  [[ "$gitea_url" != *[?#[:space:]]* ]] ||
    fail "GITEA_URL holds a query (?...), a fragment (#...) or a space; set it to the Gitea's address alone, like https://gitea.example.com, and a token in GITEA_REGISTRY_API_TOKEN"
  # Appended to the API path as it is: owner/name as Gitea names them, never a ../, a query or a URL.
  [[ "$gitea_repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ && "/$gitea_repo/" != */./* && "/$gitea_repo/" != */../* ]] ||
    fail "GITEA_REPO is not owner/name (letters, digits, -, _ and .); set it like admin/changemaker.lite"
  [[ "$stall_seconds" =~ ^[1-9][0-9]*$ ]] || fail "GITEA_STALL_SECONDS='$stall_seconds' is not a whole number of seconds; set it like 60, or unset it"
  token_is_plain ||
    fail "GITEA_REGISTRY_API_TOKEN holds a space, a line break (a carriage return from a CRLF file?), a quote or a backslash, which no Gitea token has; set it to the token alone"
}

# The signature protects what is downloaded, not the token: over plain http it crosses the network
# readable by anyone on the way. Said, not refused (a LAN Gitea may have no TLS); this machine alone is fine.
warn_plain_http_token() {
  local host="$1"
  [[ "$gitea_url" == http://* ]] && has_token || return 0
  [[ ! "$host" =~ ^(.*):[0-9]+$ ]] || host="${BASH_REMATCH[1]}"
  case "$host" in localhost | 127.* | "[::1]") return 0 ;; esac
  echo "$program: WARNING: GITEA_URL is plain http: the token in GITEA_REGISTRY_API_TOKEN crosses the network unencrypted; use the Gitea's https:// address" >&2
}

# Whether GITEA_REGISTRY_API_TOKEN is set, tested with tracing off (see curl_token_config).
has_token() (
  { set +x; } 2>/dev/null
  [ -n "${GITEA_REGISTRY_API_TOKEN:-}" ]
)

# Whether the token, if any, is printable characters only, and no quote or backslash: a stray carriage
# return made Gitea answer 400 ("try again later"), and a line break would add a line to the curl
# config the token is sent in (curl_token_config). Checked in a subshell with tracing off, as there.
token_is_plain() (
  { set +x; } 2>/dev/null
  [[ "${GITEA_REGISTRY_API_TOKEN:-}" =~ ^[[:graph:]]*$ && "${GITEA_REGISTRY_API_TOKEN:-}" != *[\"\\]* ]]
)

# A tag becomes part of an API path: nothing but a release name may get there.
require_release_tag() {
  [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || fail "--version '$1' is not a release tag; pass one like v1.2.3"
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || fail "$tool is required; install it first"
  done
}

# These scripts use GNU coreutils' and findutils' options (realpath -m, find -printf), which
# busybox's tools lack, as on Alpine: there the first would fail part-way with a line that names
# neither, or, inside a pipe, an ownership check would find nothing and pass. Probed, not sniffed
# from --version, so any tools that take the options (uutils' coreutils among them) do.
require_gnu_userland() {
  { realpath -m -- / && find / -maxdepth 0 -printf ''; } >/dev/null 2>&1 ||
    fail "this system's realpath or find lacks the GNU options these scripts use (realpath -m, find -printf), as busybox's do on Alpine: install GNU coreutils and findutils (apk add coreutils findutils), then run it again; nothing was changed"
}

# The signature is checked with ssh-keygen -Y verify, which OpenSSH has had since 8.1: an older one
# (RHEL 8's 8.0, Debian 10's 7.9) knows no -Y, and its refusal would read as a bad signature. Asked
# with empty files before anything is downloaded; a newer one answers about those instead.
require_signature_verifier() {
  [ "${skip_signature:-false}" = true ] && return
  require_tools ssh-keygen
  local answer
  answer="$(ssh-keygen -Y verify -f /dev/null -I "$signer_principal" -n "$signature_namespace" -s /dev/null </dev/null 2>&1)" || true
  case "$answer" in
    *"option -- "*Y*) fail "this machine's ssh-keygen cannot check release signatures: ssh-keygen -Y verify needs OpenSSH 8.1 or newer; upgrade the OpenSSH client (the openssh-client package, openssh on RHEL), then run it again; nothing was changed" ;;
  esac
}

# A semantic version, v optional: major, minor, patch, pre-release, build.
semver_pattern='^v?([0-9]+)\.([0-9]+)\.([0-9]+)(-([0-9A-Za-z.-]+))?(\+[0-9A-Za-z.-]+)?$'

# Semantic version precedence (semver.org, rule 11) of two tags: prints -1, 0 or 1 as $1 is older
# than, equal to or newer than $2. v1.0.0-rc.1 < v1.0.0, v1.9.0 < v1.10.0; build metadata is ignored.
semver_compare() {
  local a b pattern="$semver_pattern" i
  local -a a_core b_core
  [[ "$1" =~ $pattern ]] || fail "'$1' is not a version like v1.2.3; releases must be tagged vMAJOR.MINOR.PATCH"
  a_core=("${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}")
  a="${BASH_REMATCH[5]}"
  [[ "$2" =~ $pattern ]] || fail "'$2' is not a version like v1.2.3; releases must be tagged vMAJOR.MINOR.PATCH"
  b_core=("${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}")
  b="${BASH_REMATCH[5]}"
  for i in 0 1 2; do
    if ((10#${a_core[i]} != 10#${b_core[i]})); then
      if ((10#${a_core[i]} < 10#${b_core[i]})); then echo -1; else echo 1; fi
      return
    fi
  done
  # A pre-release comes before its release.
  if [ "$a" = "$b" ]; then echo 0; return; fi
  if [ -z "$a" ]; then echo 1; return; fi
  if [ -z "$b" ]; then echo -1; return; fi
  compare_prerelease "$a" "$b"
}

# Dot-separated identifiers left to right: numbers numerically and below words, words in ASCII
# order; when one list is a prefix of the other, the shorter comes first.
compare_prerelease() {
  local -a a b
  local i x y
  IFS=. read -r -a a <<<"$1"
  IFS=. read -r -a b <<<"$2"
  for ((i = 0; i < ${#a[@]} && i < ${#b[@]}; i++)); do
    x="${a[i]}" y="${b[i]}"
    [ "$x" != "$y" ] || continue
    if [[ "$x" =~ ^[0-9]+$ && "$y" =~ ^[0-9]+$ ]]; then
      if ((10#$x < 10#$y)); then echo -1; else echo 1; fi
    elif [[ "$x" =~ ^[0-9]+$ ]]; then echo -1
    elif [[ "$y" =~ ^[0-9]+$ ]]; then echo 1
    elif [[ "$x" < "$y" ]]; then echo -1
    else echo 1
    fi
    return
  done
  if ((${#a[@]} < ${#b[@]})); then echo -1; elif ((${#a[@]} > ${#b[@]})); then echo 1; else echo 0; fi
}

# Flattens a JSON document into `path<TAB>value` lines, e.g. `assets/0/name<TAB>SHA256SUMS`,
# whatever its whitespace (a proxy or a newer Gitea may indent it). awk is on every server; jq and
# python3 are not. Strings keep their escapes except \" \\ and \/, so every value stays on one line.
json_flatten() {
  awk '
    function fail(what) { printf "not JSON: %s at character %d\n", what, pos > "/dev/stderr"; failed = 1; exit 2 }
    function skip_space() { while (pos <= n && index(" \t\r\n", substr(text, pos, 1)) > 0) pos++ }
    function key_path(path, key) { return path == "" ? key : path "/" key }
    function parse_string(   out, c, run) {
      pos++
      out = ""
      while (pos <= n) {
        if (match(substr(text, pos, 4096), /^[^"\\]+/)) { out = out substr(text, pos, RLENGTH); pos += RLENGTH; continue }
        c = substr(text, pos, 1)
        if (c == "\"") { pos++; return out }
        run = substr(text, pos + 1, 1)
        out = out ((run == "\"" || run == "\\" || run == "/") ? run : "\\" run)
        pos += 2
      }
      fail("unterminated string")
    }
    function parse_value(path,   c) {
      skip_space()
      c = substr(text, pos, 1)
      if (c == "{") parse_object(path)
      else if (c == "[") parse_array(path)
      else if (c == "\"") print path "\t" parse_string()
      else if (match(substr(text, pos, 64), /^(true|false|null|-?[0-9][0-9.eE+-]*)/)) { print path "\t" substr(text, pos, RLENGTH); pos += RLENGTH }
      else fail("unexpected \"" c "\"")
    }
    function parse_object(path,   key, c) {
      pos++
      skip_space()
      if (substr(text, pos, 1) == "}") { pos++; return }
      while (1) {
        skip_space()
        if (substr(text, pos, 1) != "\"") fail("expected a key")
        key = parse_string()
        skip_space()
        if (substr(text, pos, 1) != ":") fail("expected a colon")
        pos++
        parse_value(key_path(path, key))
        skip_space()
        c = substr(text, pos++, 1)
        if (c == "}") return
        if (c != ",") fail("expected , or }")
      }
    }
    function parse_array(path,   i, c) {
      pos++
      skip_space()
      if (substr(text, pos, 1) == "]") { pos++; return }
      for (i = 0; ; i++) {
        parse_value(key_path(path, i))
        skip_space()
        c = substr(text, pos++, 1)
        if (c == "]") return
        if (c != ",") fail("expected , or ]")
      }
    }
    { text = text $0 "\n" }
    END {
      if (failed) exit 2
      n = length(text)
      pos = 1
      parse_value("")
      skip_space()
      if (pos <= n) fail("trailing text")
    }
  ' "$1"
}

# The value at `path` of a flattened document; empty when it has none.
flat_value() {
  awk -F '\t' -v path="$2" '$1 == path && !found { found = 1; print substr($0, length($1) + 2) }' "$1"
}

# The field `field` (default browser_download_url) of the asset named `name` in a flattened release;
# empty when none. While a --replace swaps an asset, two share its name for a moment: the first listed wins.
flat_asset_url() {
  awk -F '\t' -v name="$2" -v field="${3:-browser_download_url}" '
    { value = substr($0, length($1) + 2) }
    $1 ~ /^assets\/[0-9]+\/name$/ { split($1, at, "/"); names[at[2]] = value; if (at[2] + 0 > last) last = at[2] + 0 }
    $1 ~ ("^assets/[0-9]+/" field "$") { split($1, at, "/"); fields[at[2]] = value }
    END { for (i = 0; i <= last; i++) if ((i in names) && names[i] == name) { print fields[i]; exit } }
  ' "$1"
}

# GETs a URL from the Gitea into a file and prints the HTTP status. The token reaches curl on
# stdin, so no process listing shows it; curl sends it to that host only, never on a redirect
# to another (object storage).
# A Gitea that accepts and never answers, or a download that stops, ends after GITEA_STALL_SECONDS
# without progress: a total time limit would cut big downloads on slow links. Transient failures
# are retried, but none starts once a whole stall has been waited out.
gitea_get() {
  local url="$1" output="$2" status curl_status=0 reason
  status="$(curl_token_config | curl -sSL --proto '=http,https' --retry 3 --retry-max-time "$stall_seconds" \
    --connect-timeout "$stall_seconds" --speed-limit 1 --speed-time "$stall_seconds" \
    -K - -o "$output" -w '%{http_code}' "$url" 2>"$output.curl-error")" || curl_status=$?
  # curl's own last line says whether the name, the connection or TLS failed (empty on a full disk).
  reason="$(sed -n '$s/^curl: ([0-9]*) //p' "$output.curl-error" 2>/dev/null)"
  case "$curl_status" in
    0) ;;
    28) fail "$gitea_url made no progress for ${stall_seconds}s; check GITEA_URL and the network, or raise GITEA_STALL_SECONDS on a slow link" ;;
    # The Gitea answered, but the download could not be written (a full disk, a file size limit).
    23) fail "cannot write the download into $(dirname "$(dirname "$output")")${reason:+ ($reason)}; is the disk full? free some space there (df -h) and run it again; nothing was changed" ;;
    *) fail "cannot reach $gitea_url${reason:+ ($reason)}; check GITEA_URL and the network" ;;
  esac
  rm -f "$output.curl-error"
  echo "$status"
}

# curl's config for the token, when there is one; empty otherwise.
curl_token_config() {
  # Under `bash -x` (an operator chasing a failure) the trace would show the token: tracing is
  # turned off here, silently, in the pipeline's subshell this runs in, not in the script.
  { set +x; } 2>/dev/null
  [ -z "${GITEA_REGISTRY_API_TOKEN:-}" ] || printf 'header = "Authorization: token %s"\n' "$GITEA_REGISTRY_API_TOKEN"
}

# Writes the JSON of the release `tag` (vX.Y.Z), or with `page` the page of the list of published
# releases that are not pre-releases.
release_json() {
  local tag="$1" output="$2" page="${3:-}" path status
  if [ -n "$page" ]; then path="releases?draft=false&pre-release=false&limit=50&page=$page"; else path="releases/tags/$tag"; fi
  status="$(gitea_get "$gitea_url/api/v1/repos/$gitea_repo/$path" "$output")"
  case "$status" in
    200) ;;
    404)
      # Gitea answers the list 404 for a repository it does not show, or whose Releases are off.
      [ -z "$page" ] || fail "$gitea_url shows no releases of $gitea_repo (404); check GITEA_URL and GITEA_REPO, that the repository's Releases are turned on, and for a private repository GITEA_REGISTRY_API_TOKEN"
      # `--version 1.2.3` for v1.2.3 is the likeliest slip: the tag is named as it would be found.
      [[ ! "$tag" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "no release $tag in $gitea_repo on $gitea_url; release tags start with v: pass --version v$tag"
      fail "no release $tag in $gitea_repo on $gitea_url; check --version, GITEA_URL and GITEA_REPO (a private repository needs GITEA_REGISTRY_API_TOKEN)" ;;
    401 | 403) fail "$gitea_url refused the token in GITEA_REGISTRY_API_TOKEN (HTTP $status); create one with read access to $gitea_repo" ;;
    *) fail "$gitea_url answered HTTP $status for the release $tag; try again later" ;;
  esac
}

# A release tag, v<semver>: only such a tag names files and directories here.
release_tag_pattern='^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$'

# The newest release's tag: the highest version among the published releases that are not
# pre-releases, read page by page. Not Gitea's releases/latest, which is the release created last
# (models/repo/release.go GetLatestReleaseByRepoID): a fix for an older line (v1.0.1), released
# after a newer one (v1.1.0), would be installed in its place.
newest_release_tag() {
  local dir="$1" page=0 json="$1/releases.json" flat="$1/releases.flat" first previous_first="" draft prerelease tag newest=""
  while ((++page)); do
    release_json latest "$json" "$page"
    json_flatten "$json" >"$flat" 2>"$dir/json-error" ||
      fail "$gitea_url answered the list of releases with something that is not JSON ($(head -n 1 "$dir/json-error")); check GITEA_URL and any proxy in between"
    first="$(flat_value "$flat" 0/id)"
    # An empty page ends the list; so does one repeating the last (a server that ignores `page`).
    if [ -z "$first" ] || [ "$first" = "$previous_first" ]; then break; fi
    previous_first="$first"
    while read -r draft prerelease tag; do
      # A tag semver_compare cannot order (v0.0.1+a+b) is no candidate: comparing it would stop the script.
      if [ "$draft" != false ] || [ "$prerelease" != false ] || [[ ! "$tag" =~ $release_tag_pattern ]] || [[ ! "$tag" =~ $semver_pattern ]]; then continue; fi
      if [ -z "$newest" ] || [ "$(semver_compare "$tag" "$newest")" = 1 ]; then newest="$tag"; fi
    done < <(listed_releases "$flat")
  done
  [ -n "$newest" ] || fail "no release published yet in $gitea_repo on $gitea_url; check GITEA_URL and GITEA_REPO (a private repository needs GITEA_REGISTRY_API_TOKEN)"
  echo "$newest"
}

# `<draft> <prerelease> <tag>` for each release of a flattened list, in its order.
listed_releases() {
  awk -F '\t' '
    { value = substr($0, length($1) + 2); split($1, at, "/") }
    $1 ~ /^[0-9]+\/tag_name$/ { tags[at[1]] = value; if (at[1] + 1 > count) count = at[1] + 1 }
    $1 ~ /^[0-9]+\/draft$/ { drafts[at[1]] = value }
    $1 ~ /^[0-9]+\/prerelease$/ { prereleases[at[1]] = value }
    END { for (i = 0; i < count; i++) if (i in tags) print drafts[i] " " prereleases[i] " " tags[i] }
  ' "$1"
}

# Looks up a release (vX.Y.Z, or "latest") into "$work/release.json", flattened into
# "$work/release.flat" for fetch_release to download from, and prints its tag.
find_release() {
  local wanted="$1" json="$2/release.json" flat="$2/release.flat" tag
  [ "$wanted" != latest ] || wanted="$(newest_release_tag "$2")"
  release_json "$wanted" "$json"
  json_flatten "$json" >"$flat" 2>"$2/json-error" ||
    fail "$gitea_url answered the release $wanted with something that is not JSON ($(head -n 1 "$2/json-error")); check GITEA_URL and any proxy in between"
  tag="$(flat_value "$flat" tag_name)"
  [ -n "$tag" ] || fail "$gitea_url answered the release $wanted without a tag name; check GITEA_URL"
  # The tag names files and directories here: only a release tag is taken.
  [[ "$tag" =~ $release_tag_pattern ]] ||
    fail "$gitea_url answered the release $wanted with the tag '$tag', which is not a release tag (v<semver>); check GITEA_URL and GITEA_REPO"
  # Older Gitea and Forgejo answer releases/tags/{tag} with a draft even to readers, and every
  # Gitea to a writer's token: a draft may be unfinished or held back on purpose.
  [ "$(flat_value "$flat" draft)" != true ] ||
    fail "the release $tag is a draft: it is not published yet; pick another --version, or wait until it is published"
  echo "$tag"
}

# Gitea writes its ROOT_URL into browser_download_url, which may name this server by another name,
# or (from a misconfigured or hostile server) another host: only the path and query are taken from
# it and asked of GITEA_URL's own origin, so the token goes nowhere but GITEA_URL. As the TypeScript
# client's downloadAsset does.
url_on_gitea() {
  [[ "$1" =~ ^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(/[^#]*)$ ]] || return 1
  echo "$gitea_origin${BASH_REMATCH[1]}"
}

# An asset is asked for at GITEA_URL's /attachments/<uuid>, where every Gitea and Forgejo reads the
# token: Gitea 1.20 read none at the /<owner>/<repo>/releases/download/<tag>/<name> that
# browser_download_url names, so a private repository answered 404 there. An asset without a uuid is
# asked for at its browser_download_url, on GITEA_URL's origin (url_on_gitea).
download_asset() {
  local flat="$1" name="$2" output="$3" tag="$4" url uuid status
  url="$(flat_asset_url "$flat" "$name")"
  uuid="$(flat_asset_url "$flat" "$name" uuid)"
  [ -n "$url$uuid" ] || fail "the release $tag has no asset $name; it was not published completely, pick another --version"
  if [[ "$uuid" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    url="$gitea_url/attachments/$uuid"
  else
    url="$(url_on_gitea "$url")" || fail "the release $tag names no download URL for $name (browser_download_url is '$(flat_asset_url "$flat" "$name")'); check GITEA_URL"
  fi
  status="$(gitea_get "$url" "$output")"
  [ "$status" = 200 ] || fail "downloading $name of $tag answered HTTP $status; try again later"
}

# The file of trusted signing keys: the operator's --allowed-signers, else what the caller keeps
# (install.sh: the keys baked in above; upgrade.sh: the installation's allowed_signers).
trusted_signers() {
  local work="$1"
  if [ -n "${allowed_signers_option:-}" ]; then
    echo "$allowed_signers_option"
  elif [ -n "${installed_signers:-}" ]; then
    echo "$installed_signers"
  else
    printf '%s' "$baked_allowed_signers" >"$work/baked_allowed_signers"
    echo "$work/baked_allowed_signers"
  fi
}

has_signing_key() {
  grep -qE '^[^#[:space:]]+[[:space:]].*(ssh-|ecdsa-|sk-)' "$1" 2>/dev/null
}

# --allowed-signers FILE, checked when the options are read, not after the tarball came down, and
# made absolute: upgrade.sh changes into the installation before it verifies.
require_allowed_signers_option() {
  [ -n "${allowed_signers_option:-}" ] || return 0
  { [ -f "$allowed_signers_option" ] && [ -r "$allowed_signers_option" ]; } ||
    fail "--allowed-signers $allowed_signers_option is no file that can be read; pass an ssh-keygen allowed_signers file; nothing was changed"
  [[ "$allowed_signers_option" == /* ]] || allowed_signers_option="$PWD/$allowed_signers_option"
}

# Refuses a release whose SHA256SUMS is not signed by a trusted key: the checksum alone comes
# from the same place as the tarball, so whoever replaced one could replace both.
verify_signature() {
  local tag="$1" work="$2" signers
  if [ "${skip_signature:-false}" = true ]; then
    echo "WARNING: --insecure-skip-signature: the signature of $tag is not checked; whoever can change the release on $gitea_url decides what runs here" >&2
    return
  fi
  signers="$(trusted_signers "$work")"
  has_signing_key "$signers" ||
    fail "$program trusts no release signing key ($signers lists none); pass --allowed-signers FILE with the release manager's public key, or --insecure-skip-signature to go on unverified"
  [ -n "$(flat_asset_url "$work/release.flat" "$signature_file")" ] ||
    fail "the release $tag is not signed (it has no $signature_file); ask its publisher to sign it, or pass --insecure-skip-signature to go on unverified; nothing was changed"
  download_asset "$work/release.flat" "$signature_file" "$work/$signature_file" "$tag"
  ssh-keygen -Y verify -f "$signers" -I "$signer_principal" -n "$signature_namespace" -s "$work/$signature_file" <"$work/$checksum_file" >"$work/verify.log" 2>&1 ||
    fail "the signature of $tag is not by a trusted key: the release was changed or signed by someone else; nothing was changed (pass --insecure-skip-signature only if you know why)"
}

# Downloads the release `tag`, found by find_release, into `work`, verifies its signature and
# SHA256SUMS and unpacks it; the unpacked release is then "$work/$bundle_name". Fails before
# unpacking anything unverified.
fetch_release() {
  local tag="$1" work="$2" tarball="$bundle_name-$1.tar.gz" flat="$2/release.flat" listed
  echo "downloading $tarball..." >&2
  download_asset "$flat" "$tarball" "$work/$tarball" "$tag"
  download_asset "$flat" "$checksum_file" "$work/$checksum_file" "$tag"
  verify_signature "$tag" "$work"
  # The name compared as a string: a tag may hold `+` or `.`, which a pattern would read as operators.
  listed="$(awk -v name="$tarball" 'substr($0, 65) == "  " name && substr($0, 1, 64) ~ /^[0-9a-f]+$/ { print; exit }' "$work/$checksum_file")"
  [ -n "$listed" ] || fail "$checksum_file of $tag does not list $tarball; the release is incomplete, nothing was changed"
  (cd "$work" && echo "$listed" | sha256sum -c - >/dev/null 2>&1) ||
    fail "$tarball does not match its checksum in $checksum_file: the download is corrupt or was tampered with; nothing was changed"
  # As root, tar would give the files the owners and the modes the tarball records: a release packed
  # on a machine where uid 1000 owned them, or with a world-writable file, would let a local user
  # change scripts root runs. The files are the installer's, and nobody else may write or setuid them.
  # The modes are the tarball's for any user (-p; root's default): for an operator who is not root,
  # tar would take the umask off them, and under a hardened one (027, 077) the containers' own users
  # (prometheus, grafana, postgres' init scripts) could not read the files bound into them.
  tar --no-same-owner -p -xzf "$work/$tarball" -C "$work" || fail "$tarball does not unpack (see above); nothing was changed"
  [ "$(cat "$work/$bundle_name/VERSION" 2>/dev/null)" = "$tag" ] || fail "$tarball does not unpack to $bundle_name/ with VERSION $tag; nothing was changed"
  chmod -R go-w,ug-s "$work/$bundle_name"
}

is_data_entry() {
  [[ "$data_entries" == *" $1 "* ]]
}

# The operator's own top-level entries: the data entries and .env, which no release replaces.
is_operators_entry() {
  is_data_entry "$1" || [ "$1" = .env ]
}

# The record of the unpacked release `dir` (see shipped_record), on stdout, sorted by path.
shipped_files_record() {
  local dir="$1" entry
  local -a entries=()
  while IFS= read -r entry; do
    is_operators_entry "$entry" || [ "$entry" = "$shipped_record" ] || entries+=("$entry")
  done < <(ls -A "$dir")
  [ "${#entries[@]}" -gt 0 ] || return 0
  (cd "$dir" && find "${entries[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum --)
}

# How the files under `dir` differ from the record `record` (see shipped_record), one
# `<edited|deleted|added><TAB><path>` line each, sorted by path: edited (another content), deleted
# (recorded, not there), added (in a recorded top-level directory, not recorded). With `release`,
# only the top-level entries that release ships too: those are the ones an upgrade to it moves away,
# the operator's own among them (an entry here the record lacks, a docker-compose.override.yml that
# the release now ships too: added).
shipped_file_changes() {
  local record="$1" dir="$2" release="${3:-}" entry counted=" " recorded=" "
  local -a present=() unrecorded=()
  while IFS= read -r entry; do
    [ -n "$entry" ] || continue
    recorded+="$entry "
    [ -z "$release" ] || [ -e "$release/$entry" ] || [ -L "$release/$entry" ] || continue
    counted+="$entry "
    if [ -e "$dir/$entry" ]; then present+=("$entry"); fi
  done < <(awk '{ path = substr($0, 67); sub(/\/.*/, "", path); print path }' "$record" | LC_ALL=C sort -u)
  if [ -n "$release" ]; then
    while IFS= read -r entry; do
      if [[ "$recorded" == *" $entry "* ]] || is_operators_entry "$entry" || [ "$entry" = "$shipped_record" ]; then continue; fi
      if [ -e "$release/$entry" ] || [ -L "$release/$entry" ]; then unrecorded+=("$entry"); fi
    done < <(ls -A "$dir")
  fi
  {
    {
      [ "${#present[@]}" -eq 0 ] || (cd "$dir" && find "${present[@]}" -type f -print0 | xargs -0 -r sha256sum --)
    } | awk -v entries="$counted" '
    function top(path) { sub(/\/.*/, "", path); return path }
    FILENAME == ARGV[1] { path = substr($0, 67); if (index(entries, " " top(path) " ")) recorded[path] = substr($0, 1, 64); next }
    { path = substr($0, 67); found[path] = substr($0, 1, 64) }
    END {
      for (path in recorded) if (!(path in found)) print "deleted\t" path; else if (found[path] != recorded[path]) print "edited\t" path
      for (path in found) if (!(path in recorded)) print "added\t" path
    }
  ' "$record" -
    [ "${#unrecorded[@]}" -eq 0 ] || (cd "$dir" && find "${unrecorded[@]}" \( -type f -o -type l \) -print | awk '{ print "added\t" $0 }')
  } | LC_ALL=C sort -t "$(printf '\t')" -k 2
}

# The wizard reads answers from the terminal: when this script is piped into bash, stdin is
# the rest of the script, which the wizard must not eat.
run_config_wizard() {
  local dir="$1"
  if (exec </dev/tty) 2>/dev/null; then
    (cd "$dir" && GITEA_URL="$gitea_url" GITEA_REPO="$gitea_repo" bash config.sh </dev/tty)
  else
    (cd "$dir" && GITEA_URL="$gitea_url" GITEA_REPO="$gitea_repo" bash config.sh </dev/null)
  fi
}

# --- Starting a release: shared with upgrade.sh, which sources this file. They read .env through
# compose_value (scripts/env-file.sh, which the caller sources) and run in the installation.

compose_command() {
  require_docker_daemon
  if docker compose version >/dev/null 2>&1; then
    echo "docker compose"
  elif command -v docker-compose >/dev/null; then
    echo docker-compose
  else
    fail "docker compose (or docker-compose) is needed to start the release; install it, $compose_missing_hint"
  fi
}

# The daemon, asked before anything changes: a user outside the docker group, or a daemon that is
# down, would otherwise get through the download and the swap, the backup reading that v2-postgres
# is not running, and fail only at the pull. A dry run says so and goes on with its plan.
require_docker_daemon() {
  local said problem remedy="start Docker (sudo systemctl start docker)"
  said="$(docker version --format '{{.Server.Version}}' 2>&1 >/dev/null)" && return 0
  [[ "$said" != *"permission denied"* ]] || remedy="run it as a user of the docker group (sudo usermod -aG docker $(id -un), then log in again), or with sudo"
  problem="cannot reach the Docker daemon as $(id -un) ($(tail -n 1 <<<"$said")): $remedy"
  if [ "${dry_run:-false}" = true ]; then
    echo "note: $problem; the run itself would stop here, changing nothing" >&2
    return 0
  fi
  fail "$problem; nothing was changed"
}

# Asked once, not before every compose call (the health wait makes one each poll); a call inside
# $(...) asks in its subshell, and the next call asks again.
compose() {
  local -a command
  [ -n "${compose_found:-}" ] || compose_found="$(compose_command)"
  read -r -a command <<<"$compose_found"
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

require_health_settings() {
  [[ "$health_poll" =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "HEALTH_POLL_SECONDS='$health_poll' is not a number of seconds"
}

# Waits up to --health-timeout seconds for every container to run (healthy, where it has a
# healthcheck) and for the api to answer ok. Returns at once when one crash-loops, exits or turns
# unhealthy. Sets `health_problem` to what is wrong when it returns non-zero, and `problem_service`
# to the service it names (empty when it names none, as when /api/health does not answer).
wait_until_healthy() {
  local deadline=$((SECONDS + health_timeout)) states service status health restarts first waiting waiting_service
  local -A first_restarts=()
  problem_service=""
  echo "waiting up to ${health_timeout}s for every service to be healthy..."
  while :; do
    waiting="" waiting_service=""
    states="$(service_states)" || { health_problem="docker cannot list the containers (see above)"; return 1; }
    [ -n "$states" ] || waiting="no container is running yet"
    while read -r service status health restarts; do
      [ -n "$service" ] || continue
      first="${first_restarts[$service]:-$restarts}"
      first_restarts[$service]="$first"
      case "$status" in
        restarting) problem_service="$service" health_problem="$service is crash-looping (restarting)"; return 1 ;;
        exited | dead) problem_service="$service" health_problem="$service has $status"; return 1 ;;
      esac
      if ((restarts > first)); then problem_service="$service" health_problem="$service is crash-looping (restarted $((restarts - first)) times)"; return 1; fi
      case "$health" in
        unhealthy) problem_service="$service" health_problem="$service failed its health check"; return 1 ;;
        starting) waiting="$service is starting" waiting_service="$service" ;;
      esac
      [ "$status" = running ] || waiting="$service is $status" waiting_service="$service"
    done <<<"$states"
    if [ -z "$waiting" ]; then
      api_reports_ok && return 0
      waiting="/api/health does not answer {\"status\":\"ok\"}"
    fi
    if ((SECONDS >= deadline)); then
      problem_service="$waiting_service"
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

# Compares each service's pulled image ($1: resolved_service_images' lines) with the digest
# image-digests.txt recorded when the release was cut, before anything starts. Sets
# `health_problem` when one differs, and `image_pushed_again` when that is because a tag now names
# another image.
check_image_digests() {
  local service reference digest image repo_digests overridden release images="$1"
  image_pushed_again=false
  if [ ! -f "$image_digests_file" ]; then
    echo "this release records no image digests ($image_digests_file); the pulled images are not checked"
    return 0
  fi
  overridden="$(compose_value IMAGE_TAG "")"
  release="$(cat VERSION)"
  while read -r service reference digest; do
    [ -n "$service" ] || continue
    # The workspace's own images are the ones the release tagged with its version (whatever the
    # imageName pattern called them), and the ones IMAGE_TAG retags; the third-party ones keep their pins.
    if [ -n "$overridden" ] && [[ "$reference" == *":$release" ]]; then
      echo "$service: IMAGE_TAG=$overridden (from .env or the environment) overrides the release's image; its digest is not checked"
      continue
    fi
    image="$(awk -v service="$service" '$1 == service { print $2 }' <<<"$images")"
    [ -n "$image" ] || { health_problem="$image_digests_file names $service, which docker-compose.yml does not run; the release is inconsistent"; return 1; }
    repo_digests="$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$image")" ||
      { health_problem="$service's image $image was not pulled"; return 1; }
    if ! grep -qF "@$digest" <<<"$repo_digests"; then
      health_problem="$service's image $image is not the one $release was cut with (expected $digest); the tag was pushed again"
      image_pushed_again=true
      return 1
    fi
  done <"$image_digests_file"
  echo "every image matches the digest its release recorded"
}

# `<image> <id>` lines: the local image each of the release's references names before its pull,
# `-` where none. `docker compose pull` moves the local tags before any digest is checked, and a
# tag left on an image the check refused would be started unchecked by the next `docker compose up
# -d` (the boot unit's, or one by hand), which recreates even a running container whose tag now
# names another image (a third-party pin two releases share, pushed again).
local_images_of() {
  local service image
  while read -r service image; do
    [ -z "$image" ] || echo "$image $(local_image_id "$image")"
  done <<<"$1"
}

# The id of the local image the tag $1 names, `-` when it names none (docker then prints an empty
# line as well as its error).
local_image_id() {
  local id
  id="$(docker image inspect --format '{{.Id}}' "$1" 2>/dev/null)" || id=""
  echo "${id:--}"
}

# Puts the local tags a pull moved back where local_images_of ($1) found them: each on the image
# it named before. With $2 = refused, a tag the pull added is taken off too (and the image with it),
# so that nothing of a pull the check refused keeps a tag. After a pull that failed or was stopped,
# such a tag stays, named by no release that runs (the one it belongs to starts only through
# start_release, which checks it), and the next try does not download its image again.
put_back_local_images() {
  local image id
  while read -r image id; do
    [ -n "$image" ] || continue
    [ "$(local_image_id "$image")" != "$id" ] || continue
    if [ "$id" = - ]; then
      [ "${2:-}" = refused ] || continue
      docker image rm "$image" >/dev/null && echo "$image: untagged the image the pull fetched (nothing had this tag before)"
    else
      docker tag "$id" "$image" && echo "$image: tagged the image it named before the pull again"
    fi || echo "$image: could not put its tag back (see above); do not run docker compose up in $PWD before a start that checks the images" >&2
  done <<<"$1"
}

# Pulls, checks the digests, starts and waits for the release whose files are in the working
# directory; `health_problem` says what failed, `release_started` whether `up` was reached.
start_release() {
  local images before outcome=checked
  release_started=false
  problem_service=""
  images="$(resolved_service_images)" || { health_problem="docker compose cannot resolve the configuration (see above)"; return 1; }
  before="$(local_images_of "$images")"
  # For on_signal: a pull or check that a signal cuts short has moved tags nothing has checked.
  images_before_pull="$before"
  if ! compose pull; then
    health_problem="pulling the images failed (see above)"
    outcome=failed
  elif ! check_image_digests "$images"; then
    outcome=refused
  fi
  [ "$outcome" = checked ] || put_back_local_images "$before" "$outcome"
  images_before_pull=""
  [ "$outcome" = checked ] || return 1
  release_started=true
  compose up -d --remove-orphans || { health_problem="docker compose up failed (see above)"; return 1; }
  wait_until_healthy
}

# What a verified start does after the pull, for the dry runs of install.sh --start and upgrade.sh --start.
verified_start_plan() {
  echo "check each against the digest its $image_digests_file records, start them only if all match and wait up to ${health_timeout}s for every service to be healthy (stopping them again if not)"
}

# Whether the installation in $1 has a scripts/upgrade.sh that takes --start. install.sh from main
# may install an older release (--version), whose upgrade.sh predates the option and refuses it.
# Read from its option parser, a `case` whose patterns are the options it takes: a line that is
# such a pattern for --start (`--start)` or `--start | -s)`), not the mere word, which help text
# and comments hold too. Neither a version comparison (which release first had it is a date this
# script would have to know, and a fork's or a local package's tags say nothing of it) nor running
# the script (which takes the installation's lock, and of an older release does what it likes
# with an option it does not know) tells it as surely.
upgrade_takes_start() {
  grep -qE '^[[:space:]]*(-[-a-z]+[[:space:]]*\|[[:space:]]*)*--start[[:space:]]*[|)]' "$1/scripts/upgrade.sh" 2>/dev/null
}

# A path as one shell word, for the commands these lines give an operator to paste: an installation
# in "/opt/change maker" would be cut at the space.
shell_word() {
  printf '%q' "$1"
}

# The command that starts the installation in $1 later, for the lines that send an operator there:
# its upgrade.sh --start, which checks the images, or, where that predates --start, docker compose
# itself, said to check nothing.
start_command() {
  if upgrade_takes_start "$1"; then
    echo "cd $(shell_word "$1") && scripts/upgrade.sh --start"
  else
    echo "cd $(shell_word "$1") && docker compose up -d (unchecked: this release's scripts/upgrade.sh predates --start, so nothing checks its images against the release's digests; install.sh --start does)"
  fi
}

# The last line of an install without --start (and of upgrade.sh --no-restart): how to start it.
start_later_hint() {
  if upgrade_takes_start "$1"; then
    echo "start it, its images checked against the release's digests, with: $(start_command "$1")"
  else
    echo "start it with: $(start_command "$1")"
  fi
}

# The last lines the failing service wrote (every service's, when the problem names none), before
# `docker compose down` removes them with the containers: the operator's one clue to why a first
# start failed. On stderr, with the problem; the containers' output only, never .env.
show_failed_logs() {
  local lines=30 whose="${problem_service:-every service}"
  echo "--- ${whose}'s last $lines log lines, before docker compose down removes them ---" >&2
  compose logs --no-color --tail "$lines" ${problem_service:+"$problem_service"} >&2 || echo "(docker compose logs failed; see above)" >&2
  echo "--- end of ${whose}'s log lines ---" >&2
}

# A first start, with no previous release to go back to (install.sh --start, upgrade.sh --start):
# start_release, and nothing is started when an image is not the one the release recorded; a start
# that does not come up healthy is stopped again (docker compose down), its logs shown first. Every
# failure ends with one line.
start_verified() {
  local tag again
  tag="$(cat VERSION)"
  again="$(start_command "$PWD")"
  starting="$tag"
  if start_release; then
    starting=""
    echo "$tag is running: every service is healthy and /api/health answers ok"
    return 0
  fi
  if [ "$release_started" = false ] && [ "$image_pushed_again" = true ]; then
    fail "$tag was not started: $health_problem; nothing runs, the files stay in $PWD; do not start it by hand: ask the release's publisher why the tag changed, or install another release"
  elif [ "$release_started" = false ]; then
    fail "$tag was not started: $health_problem; nothing runs, the files stay in $PWD; fix that, then start it with: $again"
  fi
  echo "$tag did not come up: $health_problem; stopping it (docker compose down): there is no previous release to go back to" >&2
  show_failed_logs
  compose down || fail "$tag did not come up: $health_problem; docker compose down failed too (see above); stop it yourself: cd $(shell_word "$PWD") && docker compose down"
  starting=""
  fail "$tag did not come up: $health_problem; it is stopped (docker compose down), nothing runs, and the files stay in $PWD; find the cause (its logs are above), then start it again with: $again"
}

# What is left when a signal cuts start_verified short.
start_stop_hint() {
  if [ "${release_started:-false}" = true ]; then
    echo "$starting in $PWD was started but not seen healthy yet; check it (docker compose ps), or stop it: cd $(shell_word "$PWD") && docker compose down"
  else
    echo "$starting is installed in $PWD and nothing was started; start it with: $(start_command "$PWD")"
  fi
}

# Writes what this filesystem holds in memory to disk. A rename is journaled before the data of
# the file it moves is written: after a power loss, a release unpacked a moment before could be in
# place, its VERSION there, but its files empty: install.sh would call it installed and point at
# its empty upgrade.sh. So what is unpacked is on disk before it is renamed into place (and
# upgrade.sh's swap the same, see there). `sync -f` flushes one filesystem; a sync without it
# (older busybox) flushes all.
flush_to_disk() {
  sync -f "$1" 2>/dev/null || sync
}

# A new work directory in the directory that is to hold `dir`, created if need be; prints its path.
# Refused in one line when it cannot be made there (as a user who may not write in /opt), before any download.
work_beside() {
  local parent error
  parent="$(dirname "$1")"
  error="$(mkdir -p -- "$parent" 2>&1)" ||
    fail "cannot create $parent (${error##*: }); pass a --dir whose parent you can create, or run it as a user who can; nothing was installed"
  mktemp -d "$parent/.$bundle_name-install.XXXXXX" 2>/dev/null ||
    fail "cannot write in $parent, where $(basename "$1") is to go (is it read-only, or not yours?); run it as a user who may write there (sudo), or pass another --dir; nothing was installed"
}

install_main() {
  local version=latest dir="$PWD/$bundle_name" dry_run=false configure=true start=false tag
  main_started=true
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --version) [ -n "${2:-}" ] || fail "--version needs a tag, e.g. v1.2.3"; require_release_tag "$2"; version="$2"; shift 2 ;;
      --dir) [ -n "${2:-}" ] || fail "--dir needs a path"; dir="$2"; shift 2 ;;
      --dry-run) dry_run=true; shift ;;
      --no-config) configure=false; shift ;;
      --start) start=true; shift ;;
      --health-timeout) [[ "${2:-}" =~ ^[0-9]+$ ]] || fail "--health-timeout needs a number of seconds, e.g. 300"; health_timeout="$2"; shift 2 ;;
      --allowed-signers) [ -n "${2:-}" ] || fail "--allowed-signers needs a file"; allowed_signers_option="$2"; shift 2 ;;
      --insecure-skip-signature) skip_signature=true; shift ;;
      -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]:-install.sh}" 2>/dev/null || echo "see the header of install.sh"; exit 0 ;;
      *) fail "unknown option $1; see --help" ;;
    esac
  done
  require_gitea_settings
  require_tools curl tar sha256sum awk realpath
  require_gnu_userland
  require_signature_verifier
  require_allowed_signers_option
  if [ "$start" = true ]; then
    # The services read .env, which config.sh writes: without it compose starts nothing.
    [ "$configure" = true ] || fail "--start needs the .env that config.sh writes; leave out --no-config, or install without --start, run config.sh, then start it with scripts/upgrade.sh --start"
    require_health_settings
    # Known before anything is downloaded: an install that cannot start is not begun.
    compose_command >/dev/null
  fi
  # A symlink is followed first: the release takes the place of the directory it names, and is
  # unpacked beside that directory, so that the last step is a rename on one filesystem.
  dir="$(realpath -m -- "$dir")"
  if [ -e "$dir/VERSION" ]; then fail "$dir already holds an installation ($(cat "$dir/VERSION")); run scripts/upgrade.sh there"; fi
  [ ! -e "$dir" ] || [ -d "$dir" ] || fail "$dir exists and is no directory; choose another --dir"
  [ -z "$(ls -A "$dir" 2>/dev/null)" ] || fail "$dir is not empty; choose another --dir"
  # Beside the target, so the unpacked release is renamed into place, never copied half-way; a
  # dry run creates nothing there. Global: the exit handler runs after this function has returned.
  if [ "$dry_run" = true ]; then
    work="$(mktemp -d)"
  else
    work="$(work_beside "$dir")"
  fi
  cleanup_paths+=("$work")
  tag="$(find_release "$version" "$work")"
  if [ "$dry_run" = true ]; then
    echo "would install $tag from $gitea_url ($gitea_repo) into $dir$([ "$configure" = true ] && echo ' and run config.sh')$([ "$start" = true ] && echo ", then pull the images its docker-compose.yml names, $(verified_start_plan)")"
    return
  fi
  fetch_release "$tag" "$work"
  # Written beside the release, then renamed into it: it arrives whole, with the release.
  shipped_files_record "$work/$bundle_name" >"$work/$shipped_record"
  mv "$work/$shipped_record" "$work/$bundle_name/$shipped_record"
  if [ -d "$dir" ]; then
    rmdir "$dir" 2>/dev/null ||
      fail "$dir is an empty directory that cannot be replaced (a mount point?); nothing was installed; pass a path inside it, e.g. --dir $(shell_word "$dir/$bundle_name")"
  fi
  flush_to_disk "$work/$bundle_name"
  # -T: never into a directory of that name, which would put the release one level down.
  mv -T "$work/$bundle_name" "$dir"
  installed_into="$dir"
  echo "installed $tag into $dir"
  if [ "$configure" = true ]; then
    run_config_wizard "$dir" || fail "$tag is installed in $dir, but config.sh did not finish; run it there: cd $(shell_word "$dir") && bash config.sh"
  fi
  if [ "$start" = false ]; then
    start_later_hint "$dir"
    return
  fi
  cd "$dir"
  [ -f scripts/env-file.sh ] || fail "$tag ships no scripts/env-file.sh, which --start reads .env with; it is installed in $dir: start it yourself (docker compose pull && docker compose up -d), or install a newer release"
  # shellcheck source=SCRIPTDIR/env-file.sh
  source scripts/env-file.sh
  start_verified </dev/null
}

# upgrade.sh sources this file for the functions above; run, or piped into bash, it installs.
if (return 0 2>/dev/null); then sourced=true; else install_main "$@"; fi
