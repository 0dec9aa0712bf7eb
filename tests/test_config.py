from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.config import Config, Counterpart, find_config, load_config, slugify
from analyzer.errors import ConfigError

GOOD = """
[me]
addresses = ["Julie.Moreau@exemple-perso.fr"]

[[counterpart]]
name = "France Travail"
kind = "agency"
domains = ["pole-emploi.fr", "francetravail.fr"]
addresses = []

[[counterpart]]
name = "Cabinet Avenir"
kind = "contractor"
addresses = ["relation@centre-appels.fr"]
"""


def test_load_config(tmp_path: Path) -> None:
    path = tmp_path / "analyzer.toml"
    path.write_text(GOOD, "utf-8")
    assert load_config(path) == Config(
        me=("julie.moreau@exemple-perso.fr",),
        counterparts=(
            Counterpart("France Travail", "agency", ("pole-emploi.fr", "francetravail.fr"), ()),
            Counterpart("Cabinet Avenir", "contractor", (), ("relation@centre-appels.fr",)),
        ),
        path=path,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[me]\naddresses = "julie@x.fr"\n',
         "Configuration {path}: key 'me.addresses' is invalid; expected a list of email "
         "addresses."),
        ('[me]\naddresses = ["not an address"]\n',
         "Configuration {path}: key 'me.addresses' is invalid; expected a list of email "
         "addresses (got 'not an address')."),
        ('[[counterpart]]\nname = "X"\nkind = "company"\ndomains = ["x.fr"]\n',
         "Configuration {path}: key 'counterpart[0].kind' is invalid; expected 'agency' or "
         "'contractor'."),
        ('[[counterpart]]\nname = "X"\nkind = "agency"\n',
         "Configuration {path}: key 'counterpart[0].domains' is invalid; expected at least "
         "one domain or address."),
        ('[[counterpart]]\nkind = "agency"\ndomains = ["x.fr"]\n',
         "Configuration {path}: key 'counterpart[0].name' is invalid; expected a non-empty "
         "string."),
        ('[[counterpart]]\nname = "X"\ndomains = ["http://x.fr"]\n',
         "Configuration {path}: key 'counterpart[0].domains' is invalid; expected a list of "
         "domain names (got 'http://x.fr')."),
        ('[counterparts]\n',
         "Configuration {path}: key 'counterparts' is invalid; expected one of the tables "
         "[me], [[counterpart]], [analysis], [imap]."),
        ('[analysis]\ncountry = "France"\n',
         "Configuration {path}: key 'analysis.country' is invalid; expected a two-letter "
         "country code such as \"FR\"."),
        ('[analysis]\ntimezone = "Mars/Olympus"\n',
         "Configuration {path}: key 'analysis.timezone' is invalid; expected an IANA time "
         "zone name such as \"Europe/Paris\"."),
    ],
)
def test_invalid_config_names_file_key_and_expectation(
        tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "analyzer.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.render("en") == message.format(path=path)


def test_toml_syntax_error_in_french(tmp_path: Path) -> None:
    path = tmp_path / "analyzer.toml"
    path.write_text("[me\naddresses = []\n", "utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.render("fr") == (
        f"La configuration {path} n'est pas du TOML valide (Expected ']' at the end of a "
        "table declaration (at line 1, column 4)). Corrigez le fichier puis relancez.")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.toml")
    assert err.value.render("en") == (
        f"Configuration file not found: {tmp_path / 'nope.toml'}. "
        "Check the path given to --config.")


def test_find_config_precedence(tmp_path: Path) -> None:
    mailbox, cwd, user = tmp_path / "mailbox", tmp_path / "cwd", tmp_path / "user"
    for d in (mailbox, cwd, user):
        d.mkdir()
        (d / "analyzer.toml").write_text("", "utf-8")

    def find(explicit: str | None = None, env: dict[str, str] | None = None,
             boxes: tuple[Path, ...] = (mailbox,)) -> Path | None:
        return find_config(explicit, boxes, env=env or {}, user_config_dir=user, cwd=cwd)

    assert find("given.toml") == Path("given.toml")
    assert find("") is None
    assert find(env={"ANALYZER_CONFIG": "env.toml"}) == Path("env.toml")
    assert find(env={"ANALYZER_CONFIG": ""}) is None
    assert find() == mailbox / "analyzer.toml"
    assert find(boxes=()) == cwd / "analyzer.toml"
    (cwd / "analyzer.toml").unlink()
    assert find(boxes=()) == user / "analyzer.toml"
    (user / "analyzer.toml").unlink()
    assert find(boxes=()) is None


def test_fingerprint_changes_with_counterparts() -> None:
    a = Config(me=("a@x.fr",), counterparts=(Counterpart("A", "agency", ("a.fr",)),))
    b = Config(me=("a@x.fr",), counterparts=(Counterpart("A", "agency", ("a.fr", "b.fr")),))
    assert a.fingerprint() != b.fingerprint()


def test_slugify() -> None:
    assert slugify("Caisse d'Allocations Familiales (CAF)") == "caisse-d-allocations-familiales-caf"
