"""A real Dovecot IMAP server for the tests, started on loopback ports.

The server runs from a throwaway directory (configuration, self-signed
certificate, mail, logs) and is stopped at the end of the session. Every test
gets an account of its own (:func:`imap_account`), so tests never see each
other's mail. When the test runs as root, Dovecot is started as ``nobody``:
Dovecot refuses to give mail access to root, and an unprivileged master runs
every process as one user, so one configuration fits both cases.

Served on the side, in a thread: an OAuth2 token-introspection endpoint
(``http.server``), which Dovecot's ``oauth2`` passdb asks about every XOAUTH2
token, so XOAUTH2 is tested end to end.

Use it from a test module with ``from tests.dovecot import dovecot, imap_account``
(pytest finds fixtures imported into a module).
"""

from __future__ import annotations

import contextlib
import grp
import itertools
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from imapclient import IMAPClient

HOST = "127.0.0.1"
PASSWORD = "correct-horse-battery-staple"  # no space: static passdb args split on them
# One more account, whose password is not ASCII (LOGIN cannot carry it).
ACCENTED_USER = "helene@example.test"
ACCENTED_PASSWORD = "mot-de-passe-été"

# Folders every account has; Dovecot creates them at first login. Special-use
# flags must come from the configuration: Maildir has nowhere to keep them.
FOLDERS: dict[str, str] = {
    "INBOX": "",
    "Sent": "\\Sent",
    "Junk": "\\Junk",
    "Trash": "\\Trash",
    "Archives": "",
    "Éléments envoyés": "",
}


def dovecot_binary() -> str | None:
    """Where the dovecot binary is (``/usr/sbin`` is not on a normal user's PATH)."""
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class _Tokens:
    """The access tokens the introspection endpoint accepts: token → user."""

    def __init__(self) -> None:
        self.valid: dict[str, str] = {}
        self.requests = 0


def _introspection_server(tokens: _Tokens) -> HTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode("ascii", "replace"))
            token = (form.get("token") or [""])[0]
            tokens.requests += 1
            user = tokens.valid.get(token)
            body = {"active": True, "username": user} if user else {"active": False}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    return HTTPServer((HOST, 0), Handler)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl CLI)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=analyzer test server",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,digitalSignature,keyCertSign"],
        check=True, capture_output=True,
    )
    return cert, key


def _config(root: Path, port: int, tls_port: int, user: str, group: str) -> str:
    mailboxes = "\n".join(
        f'  mailbox "{name}" {{\n    auto = create\n'
        + (f"    special_use = {flag}\n" if flag else "") + "  }"
        for name, flag in FOLDERS.items() if name != "INBOX"
    )
    return f"""
protocols = imap
listen = {HOST}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login xoauth2
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {root}/oauth2.conf.ext
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No auth penalty (growing delays after failed logins from one IP): the
  # wrong-password tests would slow down every later login from 127.0.0.1.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service pop3-login {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    """A running Dovecot: where it listens and how to reach its accounts."""

    root: Path
    port: int
    tls_port: int
    ca_file: Path
    tokens: _Tokens
    process: subprocess.Popen[bytes]
    uid: int | None = None
    gid: int | None = None
    host: str = HOST
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add_user(self) -> str:
        """A new account (every name logs in with :data:`PASSWORD`), empty until
        its first login creates the folders."""
        return f"user{next(self._counter)}@example.test"

    def connect(self, user: str, password: str = PASSWORD) -> IMAPClient:
        """A logged-in plain connection, for seeding and checking an account."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        client.plain_login(user, password)  # UTF-8, unlike LOGIN
        return client

    def run_as(self) -> dict[str, Any]:
        """``subprocess`` arguments to run a Dovecot tool (doveadm) as the server's user."""
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""


def _wait_listening(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = [(root / name).read_text("utf-8", "replace")
                    for name in ("dovecot.stderr", "dovecot.log") if (root / name).exists()]
            raise RuntimeError(f"dovecot exited with {process.returncode}: {''.join(logs)}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2) as sock:
            sock.settimeout(2)
            if sock.recv(100).startswith(b"* OK"):
                return
        time.sleep(0.05)
    raise RuntimeError("dovecot did not start listening within 15 s")


@contextlib.contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    """Start Dovecot in a fresh directory; stop it and remove the directory after."""
    binary = dovecot_binary()
    if binary is None:
        raise FileNotFoundError("dovecot")
    # A short path under /tmp: Dovecot's Unix sockets live under base_dir and
    # socket paths are limited to 108 bytes, which pytest's tmp_path can exceed.
    root = Path(tempfile.mkdtemp(prefix="anlz-dovecot-"))
    root.chmod(0o755)
    as_root = os.geteuid() == 0
    entry = pwd.getpwnam("nobody") if as_root else pwd.getpwuid(os.geteuid())
    user = entry.pw_name
    group = grp.getgrgid(entry.pw_gid).gr_name
    tokens = _Tokens()
    http = _introspection_server(tokens)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    process: subprocess.Popen[bytes] | None = None
    try:
        make_certificate(root)
        port, tls_port = _free_port(), _free_port()
        (root / "passwd").write_text(f"{ACCENTED_USER}:{{PLAIN}}{ACCENTED_PASSWORD}\n",
                                     "utf-8")
        (root / "oauth2.conf.ext").write_text(
            "introspection_mode = post\n"
            f"introspection_url = http://{HOST}:{http.server_address[1]}/introspect\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
            "force_introspection = yes\n", "utf-8")
        (root / "dovecot.conf").write_text(
            _config(root, port, tls_port, user, group), "utf-8")
        for sub in ("run", "state", "home"):
            (root / sub).mkdir()
        if as_root:
            for path in [root, *root.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        # Errors before the log file opens (a bad configuration) go to stderr.
        stderr = (root / "dovecot.stderr").open("wb")
        process = subprocess.Popen(
            [binary, "-F", "-c", str(root / "dovecot.conf")],
            stdout=subprocess.DEVNULL, stderr=stderr,
            user=entry.pw_uid if as_root else None,
            group=entry.pw_gid if as_root else None,
            extra_groups=[] if as_root else None,
        )
        _wait_listening(port, process, root)
        server = Dovecot(root, port, tls_port, root / "cert.pem", tokens, process,
                         entry.pw_uid if as_root else None, entry.pw_gid if as_root else None)
        yield server
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        http.shutdown()
        http.server_close()
        if process is not None:
            stderr.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One Dovecot for the session. Missing binary: skip, or fail in CI."""
    if dovecot_binary() is None:
        message = "dovecot not installed (run scripts/install-test-deps.sh)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; required in CI")
        pytest.skip(message)
    with running_dovecot() as server:
        yield server


@dataclass
class Account:
    """One account on the test server."""

    server: Dovecot
    user: str
    password: str = PASSWORD

    def connect(self) -> IMAPClient:
        return self.server.connect(self.user, self.password)


@pytest.fixture
def imap_account(dovecot: Dovecot) -> Account:
    """A fresh account whose folders exist (created by a first login)."""
    account = Account(dovecot, dovecot.add_user())
    with account.connect() as client:
        client.list_folders()
    return account
