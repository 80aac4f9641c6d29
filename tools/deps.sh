#!/usr/bin/env bash
# Installs the Debian packages onepath builds and tests with, only those missing.
# Works as root, or through sudo otherwise; does nothing when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libspdlog-dev libfmt-dev libcli11-dev doctest-dev libluajit2-5.1-dev libssl-dev libtomlplusplus-dev
  libsqlite3-dev libpq-dev postgresql libboost1.81-dev nlohmann-json3-dev openssl ca-certificates
  libxgboost-dev libjs-dygraphs chromium fonts-dejavu-core slurm-wlm munge prometheus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
