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

# The IMAP fetcher (tests/test_imap.py, benchmarks/bench_imap.py): a real
# Dovecot started by the tests on loopback ports, openssl for its self-signed
# certificate, and mbsync (isync) as the benchmark's reference.
need_apt=()
{ command -v dovecot || [ -x /usr/sbin/dovecot ]; } >/dev/null 2>&1 || need_apt+=(dovecot-imapd)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v mbsync >/dev/null 2>&1 || need_apt+=(isync)
if [ ${#need_apt[@]} -gt 0 ]; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    # The tests start a Dovecot of their own; the system-wide one the package
    # enables would only expose this machine's accounts over IMAP.
    if [[ " ${need_apt[*]} " == *" dovecot-imapd "* ]] && command -v systemctl >/dev/null 2>&1; then
        "${sudo_cmd[@]}" systemctl disable --now dovecot.service >/dev/null 2>&1 || true
    fi
fi
