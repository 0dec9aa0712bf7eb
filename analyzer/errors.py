"""One error family for the whole package.

Every error carries a key of the message catalogue (:mod:`analyzer.i18n`) and
its parameters, so the CLI can show it in the user's language. Third-party
errors are wrapped where they enter the package.
"""

from __future__ import annotations

from typing import Any


class AnalyzerError(Exception):
    """Base of every error this package raises on purpose.

    ``key`` names a message of the catalogue; ``params`` fill it in.
    """

    default_key = "error.generic"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or self.default_key
        self.params = params
        super().__init__(self.render("en"))

    def render(self, lang: str = "en") -> str:
        """The error as one or two sentences in ``lang`` (``fr`` or ``en``)."""
        from analyzer.i18n import translate

        return translate(self.key, lang, **self.params)


class ConfigError(AnalyzerError):
    """Raised when the TOML configuration is missing, unreadable or invalid."""

    default_key = "config.invalid"


class StoreError(AnalyzerError):
    """Raised when the SQLite store cannot be opened, is foreign, corrupted,
    from a newer version, or locked by another run."""

    default_key = "store.error"


class SourceError(AnalyzerError):
    """Raised when a mail source (file, folder) cannot be read at all.

    A single unreadable *message* never raises: it is stored raw and reported.
    """

    default_key = "source.error"


class UsageError(AnalyzerError):
    """Raised when the caller asked for something that makes no sense
    (unknown case id, bad filter value); the CLI exits with code 2."""

    default_key = "usage.error"


class SchemaError(UsageError):
    """Raised when a DataFrame handed to a public function breaks its column
    contract (:mod:`analyzer.schema`): a column is missing, has the wrong
    dtype, holds missing values where none are allowed, or a value outside
    its closed set. The message names the function, the column and what was
    expected. A caller error, hence a :class:`UsageError` (exit code 2)."""

    default_key = "schema.invalid"


class ImapError(AnalyzerError):
    """Raised by the IMAP fetcher (:mod:`analyzer.imap`) when the server cannot
    be reached or used: unknown host, connection refused, timeout, TLS
    certificate not trusted, disconnection (BYE), throttling, a folder that
    does not exist, or a server error. The message never holds a secret."""

    default_key = "imap.error"


class CredentialsError(AnalyzerError):
    """Raised when no usable credential is found or the server refuses it:
    no password in the environment, a secure keyring or a terminal prompt;
    a failing ``token_command``; a password or token rejected at login (with
    a hint about app passwords for Gmail and Microsoft accounts). The message
    names the account, never the secret."""

    default_key = "credentials.error"


class MissingExtraError(AnalyzerError):
    """Raised when a file needs an optional extra that is not installed (an
    Outlook ``.msg`` needs ``extract-msg``, a ``.pst``/``.ost`` needs
    ``libpff-python``). The import stops before storing anything, rather than
    leave the file's messages out unnoticed; the message says what to install."""

    default_key = "extra.missing"
