"""The one message catalogue: every user-facing sentence, in French and English.

Messages live in ``catalogue.toml`` beside this module, one table per key with
an ``fr`` and an ``en`` entry; French is the reference text. Later features add
keys rather than write strings into code.
"""

from __future__ import annotations

import locale
import os
import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("fr", "en")


@cache
def _catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("analyzer").joinpath("catalogue.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    flat: dict[str, dict[str, str]] = {}

    def walk(prefix: str, table: dict[str, Any]) -> None:
        if "fr" in table and "en" in table and isinstance(table["fr"], str):
            flat[prefix] = {"fr": table["fr"], "en": table["en"]}
            return
        for name, sub in table.items():
            walk(f"{prefix}.{name}" if prefix else name, sub)

    walk("", raw)
    return flat


def keys() -> list[str]:
    """Every key of the catalogue, sorted.

    >>> "config.not_found" in keys()
    True
    """
    return sorted(_catalogue())


def translate(key: str, lang: str = "en", /, **params: Any) -> str:
    """The message ``key`` in ``lang``, filled with ``params``.

    French takes a decimal comma ("similarité 0,24").

    >>> translate("import.summary.skipped", "fr", count=2)
    '2 fichier(s) ignoré(s) (pas des messages) :'
    >>> translate("cases.detail.reopen-after-closure", "fr", days=3, similarity=0.24)[-17:]
    '(similarité 0,24)'
    """
    entry = _catalogue().get(key)
    if entry is None:
        raise KeyError(f"message {key!r} is not in the catalogue")
    if lang == "fr" or lang not in entry:
        lang = "fr"
        params = {name: str(value).replace(".", ",") if isinstance(value, float) else value
                  for name, value in params.items()}
    template = entry[lang]
    return template.format(**params) if params else template


def default_language() -> str:
    """``fr`` or ``en`` from the environment (LC_ALL, LC_MESSAGES, LANG); French
    when nothing says otherwise, since French speakers are the first audience.

    >>> default_language() in LANGUAGES
    True
    """
    for var in ("ANALYZER_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            code = value.split(":")[0][:2].lower()
            return code if code in LANGUAGES else "en"
    try:
        code = (locale.getlocale()[0] or "")[:2].lower()
    except ValueError:
        code = ""
    return code if code in LANGUAGES else "fr"
