#!/usr/bin/env bash
# Installs the Debian packages the tests and the local demo run for real: buildah, podman and
# docker.io (whose daemon the tests start privately) build images, docker-registry is a real
# registry on loopback, skopeo gives a second opinion, ssh-keygen (openssh-client) signs and verifies releases,
# and PostgreSQL restores real backups (restore.sh).
# Does nothing when they are all present; needs root (or sudo) when something is missing.
set -euo pipefail

required_packages=(buildah podman docker.io docker-registry busybox-static skopeo shellcheck apache2-utils docker-compose openssl openssh-client postgresql)

missing=()
for package in "${required_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "missing ${missing[*]} and no apt-get: install them with your package manager" >&2
  exit 1
fi
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q "${missing[@]}"
