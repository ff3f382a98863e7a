#!/usr/bin/env bash
# Install the system programs the pipeline or the tests need, from Debian/Ubuntu packages, when missing:
#   java      pycocoevalcap's PTB tokenizer and METEOR (the eval stage and its tests)
#   chromium  renders the curation report headless in the full test suite
# Usage: scripts/system-deps.sh java [chromium]
set -euo pipefail
declare -A package=([java]=default-jre-headless [chromium]=chromium)
missing=()
for program in "$@"; do
  command -v "$program" >/dev/null 2>&1 || missing+=("${package[$program]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${missing[*]}; install them with your package manager (as root: apt-get install ${missing[*]}), then rerun" >&2
  exit 1
fi
echo "installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
