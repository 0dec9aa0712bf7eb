#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the package
# with its test extras, and the real programs the tests drive. Safe to run
# again: it installs only what is missing.
#   notmuch        the threading reference (tests/test_threader.py)
#   dovecot-imapd  a real IMAP server, started by the tests on loopback
#   openssl        the self-signed certificates of the TLS tests
#   isync          mbsync, the IMAP benchmark's reference
#   chromium, chromium-driver  the headless browser the HTML report is rendered
#                  in (tests/test_html_report.py), driven by selenium; never a
#                  tool that downloads a browser of its own
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v notmuch >/dev/null 2>&1 || need_apt+=(notmuch)
{ command -v dovecot || [ -x /usr/sbin/dovecot ]; } >/dev/null 2>&1 || need_apt+=(dovecot-imapd)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v mbsync >/dev/null 2>&1 || need_apt+=(isync)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        "${need_apt[@]}" >/dev/null
    # The tests start a Dovecot of their own; the system-wide one the package
    # enables would only expose this machine's accounts over IMAP.
    if [[ " ${need_apt[*]} " == *" dovecot-imapd "* ]] && command -v systemctl >/dev/null 2>&1
    then
        "${sudo_cmd[@]}" systemctl disable --now dovecot.service >/dev/null 2>&1 || true
    fi
fi

python3 -m pip install -q -e '.[test]'
