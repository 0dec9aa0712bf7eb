#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the package
# with its test extras, and the real programs the tests drive (notmuch as the
# threading reference). Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v notmuch >/dev/null 2>&1 || need_apt+=(notmuch)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    fi
fi

python3 -m pip install -q -e '.[test]'
