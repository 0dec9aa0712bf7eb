"""Secrets for the IMAP account, never written to disk in plain text.

A password comes from, in order: the environment variable
``ANALYZER_IMAP_PASSWORD``, the system keyring (only a secure backend: the
Secret Service, macOS Keychain, Windows Credential Locker, KWallet — never a
plain-text file backend), then an interactive prompt when there is a terminal.

OAuth2 accounts (Gmail, Microsoft), which refuse passwords, use a
``token_command``: a command that prints a fresh access token, run at each
connection since tokens expire within the hour (as mbsync's ``PassCmd``).

No secret ever appears in an error message, a log line or a ``repr``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from analyzer.errors import CredentialsError

ENV_VAR = "ANALYZER_IMAP_PASSWORD"
TOKEN_TIMEOUT = 60.0

# Backends that keep secrets in clear text or keep nothing at all. Matched on
# "module.ClassName" so that a backend is recognised without importing the
# optional package (keyrings.alt) that defines it.
_INSECURE_BACKENDS = frozenset({
    "keyring.backends.fail.Keyring",
    "keyring.backends.null.Keyring",
    "keyrings.alt.file.PlaintextKeyring",
})
_CHAINER = "keyring.backends.chainer.ChainerBackend"


@dataclass(frozen=True)
class Secret:
    """A credential: an IMAP password or an OAuth2 access token.

    The value is left out of ``repr`` so that a traceback or a debug print
    never shows it.

    >>> Secret("password", "hunter2")
    Secret(kind='password')
    """

    kind: Literal["password", "oauth2"]
    value: str = field(repr=False)


def backend_name(backend: object) -> str:
    """``module.ClassName`` of a keyring backend.

    >>> class Keyring: pass
    >>> Keyring.__module__ = "keyring.backends.fail"
    >>> backend_name(Keyring())
    'keyring.backends.fail.Keyring'
    """
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def secure_backends(backend: object) -> list[Any]:
    """The backends of ``backend`` that keep secrets safely, in priority order.

    A chainer (keyring's default when several backends are usable) is
    opened up so that its plain-text members are never asked: a password
    saved in clear text by another program must not be picked up.

    >>> class Keyring: pass
    >>> Keyring.__module__ = "keyring.backends.fail"
    >>> secure_backends(Keyring())
    []
    >>> class Store:
    ...     priority = 5
    >>> Store.__module__ = "keyring.backends.SecretService"
    >>> [backend_name(b) for b in secure_backends(Store())]
    ['keyring.backends.SecretService.Store']
    """
    name = backend_name(backend)
    if name == _CHAINER:
        members: Iterable[object] = getattr(backend, "backends", ())
        return [b for member in members for b in secure_backends(member)]
    if name in _INSECURE_BACKENDS or "plaintext" in name.lower():
        return []
    try:
        if float(getattr(backend, "priority", 1)) <= 0:
            return []  # keyring's own marker for "not usable here"
    except (TypeError, ValueError, RuntimeError):
        return []
    return [backend]


def keyring_service(host: str) -> str:
    """The keyring service name under which the password of ``host`` is kept.

    >>> keyring_service("imap.example.org")
    'analyzer imap://imap.example.org'
    """
    return f"analyzer imap://{host}"


def _system_backend() -> object | None:
    try:
        import keyring
    except ImportError:
        return None
    try:
        return keyring.get_keyring()
    # A broken keyring configuration (bad keyringrc, D-Bus gone) must not stop
    # the fetch: the next source of passwords is asked instead.
    except Exception:
        return None


def password_from_keyring(host: str, user: str,
                          backend: object | None = None) -> str | None:
    """The password saved in a secure keyring backend, or None."""
    chosen = _system_backend() if backend is None else backend
    if chosen is None:
        return None
    for member in secure_backends(chosen):
        try:
            value = member.get_password(keyring_service(host), user)
        # Backends raise their own errors (locked, D-Bus, KeyringError).
        except Exception:
            continue
        if value:
            return str(value)
    return None


def get_password(
    host: str,
    user: str,
    *,
    environ: Mapping[str, str] | None = None,
    backend: object | None = None,
    prompt: Callable[[str], str] | None = None,
    interactive: bool | None = None,
    prompt_text: str = "",
) -> Secret:
    """The IMAP password: environment, then secure keyring, then prompt.

    Raises :class:`CredentialsError` (``credentials.none``) when no source has
    one and there is no terminal to ask on.

    >>> get_password("h", "u", environ={ENV_VAR: "s3cret"}).kind
    'password'
    """
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR)
    if value:
        return Secret("password", value)
    value = password_from_keyring(host, user, backend)
    if value:
        return Secret("password", value)
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stderr.isatty()
    if interactive:
        if prompt is None:
            import getpass

            prompt = getpass.getpass
        try:
            value = prompt(prompt_text or f"{user}@{host}: ")
        except (EOFError, KeyboardInterrupt):
            value = ""
        if value:
            return Secret("password", value)
    raise CredentialsError("credentials.none", user=user, host=host, variable=ENV_VAR)


def _argv(command: str | Sequence[str]) -> list[str]:
    if isinstance(command, str):
        return ["/bin/sh", "-c", command] if os.name == "posix" else shlex.split(command)
    return list(command)


def token_from_command(command: str | Sequence[str], timeout: float = TOKEN_TIMEOUT) -> Secret:
    """Run ``token_command`` and return the access token it prints.

    A string runs through the shell (like mbsync's ``PassCmd``), a list runs
    as is. Its output is stripped and never logged; its error output is not
    shown either, since token helpers may print secrets there.

    >>> token_from_command(["printf", "  ya29.token\\n"]).value
    'ya29.token'
    """
    argv = _argv(command)
    through_shell = isinstance(command, str) and argv[:2] == ["/bin/sh", "-c"]
    # Only the program's name is ever shown: arguments may hold a client secret.
    words = command.split() if isinstance(command, str) else argv
    program = os.path.basename(words[0]) if words else ""
    if not argv or not program:
        raise CredentialsError("credentials.token_not_found", program="")
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise CredentialsError("credentials.token_not_found", program=program) from None
    except PermissionError:
        raise CredentialsError("credentials.token_not_found", program=program) from None
    except subprocess.TimeoutExpired:
        raise CredentialsError("credentials.token_timeout", program=program,
                               seconds=int(timeout)) from None
    if done.returncode != 0:
        if done.returncode in (126, 127) and through_shell:
            raise CredentialsError("credentials.token_not_found", program=program)
        raise CredentialsError("credentials.token_failed", program=program,
                               code=done.returncode)
    token = done.stdout.decode("utf-8", "replace").strip()
    if not token:
        raise CredentialsError("credentials.token_empty", program=program)
    if any(c.isspace() for c in token):
        # JSON or a message rather than a bare token: sending it would fail
        # anyway, and the server might echo part of it back.
        raise CredentialsError("credentials.token_bad_output", program=program)
    return Secret("oauth2", token)
