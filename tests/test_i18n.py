from __future__ import annotations

import re

import pytest

from analyzer.i18n import _catalogue, default_language, keys, translate

PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("key", keys())
def test_every_message_has_both_languages_with_same_placeholders(key: str) -> None:
    entry = _catalogue()[key]
    assert entry["fr"].strip() and entry["en"].strip()
    assert set(PLACEHOLDER.findall(entry["fr"])) == set(PLACEHOLDER.findall(entry["en"]))


def test_every_case_signal_has_a_name_and_a_detail() -> None:
    # cases --explain and the HTML report print both for every link.
    names = {k.removeprefix("cases.signal.") for k in keys() if k.startswith("cases.signal.")}
    details = {k.removeprefix("cases.detail.") for k in keys() if k.startswith("cases.detail.")}
    assert names == details
    assert "notice-guessed" in names


def test_unknown_key_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        translate("no.such.key", "fr")


@pytest.mark.parametrize(
    ("env", "lang"),
    [({"LANG": "fr_FR.UTF-8"}, "fr"), ({"LANG": "en_GB.UTF-8"}, "en"),
     ({"LANG": "de_DE.UTF-8"}, "en"), ({"LC_ALL": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"}, "en"),
     ({"ANALYZER_LANG": "fr", "LC_ALL": "en_US.UTF-8"}, "fr")],
)
def test_default_language(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], lang: str
                          ) -> None:
    for var in ("ANALYZER_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert default_language() == lang
