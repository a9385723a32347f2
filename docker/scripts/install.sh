#!/usr/bin/env bash
# Installs a Changemaker Lite release: finds it on the project's Gitea (the latest, or --version),
# downloads its tarball and SHA256SUMS, verifies the checksum, unpacks it into --dir and runs the
# configuration wizard (config.sh).
#
#   curl -fsSL <gitea>/admin/changemaker.lite/raw/branch/main/docker/scripts/install.sh | bash
#   bash install.sh --version v1.2.3 --dir /opt/changemaker-lite
#   bash install.sh --dry-run          say which release would go where, change nothing
#   bash install.sh --no-config        unpack only; run config.sh yourself later
#
# Environment: GITEA_URL (default https://gitea.bnkops.com), GITEA_REPO (default
# admin/changemaker.lite), GITEA_REGISTRY_API_TOKEN for a private repository (read access is
# enough; sent as a header, never in arguments or URLs). DOMAIN and ADMIN_EMAIL answer the wizard.
set -euo pipefail
# A failure inside $(...) stops the script too, instead of going on with an empty answer.
shopt -s inherit_errexit

program="${program:-install.sh}"
gitea_url="${GITEA_URL:-https://gitea.bnkops.com}"
gitea_url="${gitea_url%/}"
gitea_repo="${GITEA_REPO:-admin/changemaker.lite}"
bundle_name=changemaker-lite

fail() {
  echo "$program: $*" >&2
  exit 1
}

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

# GETs a URL from the Gitea into a file and prints the HTTP status. The token reaches curl on
# stdin, so no process listing shows it; curl sends it to that host only, never on a redirect
# to another (object storage).
gitea_get() {
  local url="$1" output="$2" status
  status="$(curl_token_config | curl -sSL --proto '=http,https' --retry 3 -K - -o "$output" -w '%{http_code}' "$url")" ||
    fail "cannot reach $gitea_url; check GITEA_URL and the network"
  echo "$status"
}

# curl's config for the token, when there is one; empty otherwise.
curl_token_config() {
  [ -z "${GITEA_REGISTRY_API_TOKEN:-}" ] || printf 'header = "Authorization: token %s"\n' "$GITEA_REGISTRY_API_TOKEN"
}

# Writes the release's JSON (tag vX.Y.Z, or "latest": the newest published non-prerelease).
release_json() {
  local tag="$1" output="$2" path status
  if [ "$tag" = latest ]; then path=releases/latest; else path="releases/tags/$tag"; fi
  status="$(gitea_get "$gitea_url/api/v1/repos/$gitea_repo/$path" "$output")"
  case "$status" in
    200) ;;
    404) fail "no release ${tag/#latest/published yet} in $gitea_repo on $gitea_url; check --version, GITEA_URL and GITEA_REPO (a private repository needs GITEA_REGISTRY_API_TOKEN)" ;;
    401 | 403) fail "$gitea_url refused the token in GITEA_REGISTRY_API_TOKEN (HTTP $status); create one with read access to $gitea_repo" ;;
    *) fail "$gitea_url answered HTTP $status for the release $tag; try again later" ;;
  esac
}

# Gitea's JSON is one line; each object's fields are flat between braces, so a field of the
# release or of one asset is found without a JSON parser (none is on a bare server).
json_tag_name() {
  grep -o '"tag_name":"[^"]*"' "$1" | head -n 1 | cut -d '"' -f 4
}

json_asset_url() {
  local json="$1" name="$2"
  tr '{' '\n' <"$json" | sed 's/^/,/' | grep -F ",\"name\":\"$name\"" | grep -o '"browser_download_url":"[^"]*"' | head -n 1 | cut -d '"' -f 4
}

# Looks up a release (vX.Y.Z, or "latest") into "$work/release.json", which fetch_release then
# downloads from, and prints its tag.
find_release() {
  local wanted="$1" json="$2/release.json" tag
  release_json "$wanted" "$json"
  tag="$(json_tag_name "$json")"
  [ -n "$tag" ] || fail "$gitea_url answered the release $wanted without a tag name; check GITEA_URL"
  echo "$tag"
}

download_asset() {
  local json="$1" name="$2" output="$3" tag="$4" url status
  url="$(json_asset_url "$json" "$name")"
  [ -n "$url" ] || fail "the release $tag has no asset $name; it was not published completely, pick another --version"
  status="$(gitea_get "$url" "$output")"
  [ "$status" = 200 ] || fail "downloading $name of $tag answered HTTP $status; try again later"
}

# Downloads the release `tag`, found by find_release, into `work`, verifies it against its
# SHA256SUMS and unpacks it; the unpacked release is then "$work/$bundle_name". Fails before
# unpacking anything unverified.
fetch_release() {
  local tag="$1" work="$2" tarball="$bundle_name-$1.tar.gz" json="$2/release.json" listed
  echo "downloading $tarball..." >&2
  download_asset "$json" "$tarball" "$work/$tarball" "$tag"
  download_asset "$json" SHA256SUMS "$work/SHA256SUMS" "$tag"
  listed="$(grep -E "^[0-9a-f]{64}  $tarball\$" "$work/SHA256SUMS" || true)"
  [ -n "$listed" ] || fail "SHA256SUMS of $tag does not list $tarball; the release is incomplete, nothing was changed"
  (cd "$work" && echo "$listed" | sha256sum -c --quiet - >/dev/null 2>&1) ||
    fail "$tarball does not match its checksum in SHA256SUMS: the download is corrupt or was tampered with; nothing was changed"
  tar -xzf "$work/$tarball" -C "$work"
  [ "$(cat "$work/$bundle_name/VERSION" 2>/dev/null)" = "$tag" ] || fail "$tarball does not unpack to $bundle_name/ with VERSION $tag; nothing was changed"
}

# The wizard reads answers from the terminal: when this script is piped into bash, stdin is
# the rest of the script, which the wizard must not eat.
run_config_wizard() {
  local dir="$1"
  if (exec </dev/tty) 2>/dev/null; then
    (cd "$dir" && bash config.sh </dev/tty)
  else
    (cd "$dir" && bash config.sh </dev/null)
  fi
}

install_main() {
  local version=latest dir="$PWD/$bundle_name" dry_run=false configure=true tag
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --version) [ -n "${2:-}" ] || fail "--version needs a tag, e.g. v1.2.3"; require_release_tag "$2"; version="$2"; shift 2 ;;
      --dir) [ -n "${2:-}" ] || fail "--dir needs a path"; dir="$2"; shift 2 ;;
      --dry-run) dry_run=true; shift ;;
      --no-config) configure=false; shift ;;
      -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]:-install.sh}" 2>/dev/null || echo "see the header of install.sh"; exit 0 ;;
      *) fail "unknown option $1; see --help" ;;
    esac
  done
  require_tools curl tar sha256sum
  if [ -e "$dir/VERSION" ]; then fail "$dir already holds an installation ($(cat "$dir/VERSION")); run scripts/upgrade.sh there"; fi
  [ -z "$(ls -A "$dir" 2>/dev/null)" ] || fail "$dir is not empty; choose another --dir"
  # Beside the target, so the unpacked release is renamed into place, never copied half-way; a
  # dry run creates nothing there. Global: the EXIT trap runs after this function has returned.
  if [ "$dry_run" = true ]; then
    work="$(mktemp -d)"
  else
    mkdir -p "$(dirname "$dir")"
    work="$(mktemp -d "$(dirname "$dir")/.$bundle_name-install.XXXXXX")"
  fi
  trap 'rm -rf "$work"' EXIT
  tag="$(find_release "$version" "$work")"
  if [ "$dry_run" = true ]; then
    echo "would install $tag from $gitea_url ($gitea_repo) into $dir$([ "$configure" = true ] && echo ' and run config.sh')"
    return
  fi
  fetch_release "$tag" "$work"
  rmdir "$dir" 2>/dev/null || true
  mv "$work/$bundle_name" "$dir"
  echo "installed $tag into $dir"
  if [ "$configure" = true ]; then
    run_config_wizard "$dir" || fail "$tag is installed in $dir, but config.sh did not finish; run it there: cd $dir && bash config.sh"
  fi
  echo "start it with: cd $dir && docker compose up -d"
}

# upgrade.sh sources this file for the functions above; run, or piped into bash, it installs.
if ! (return 0 2>/dev/null); then install_main "$@"; fi
