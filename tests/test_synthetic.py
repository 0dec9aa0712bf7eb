"""Tests of the synthetic mailbox generator (analyzer.synthetic).

The generator is the yardstick of other modules' tests, so these tests pin its
promises: determinism, well-formed mail, resolvable threading, consistent
truth, the reopening mix, and the wait definition of ``truth_waits``.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import mailbox
import os
import random
import re
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import synthetic
from analyzer.synthetic import (
    DEFAULT_START,
    STYLES,
    CaseTruth,
    MessageTruth,
    Scenario,
    Truth,
    generate,
    iter_message_bytes,
    message_bytes,
    scale,
    split_members,
    truth_waits,
    write_maildir,
    write_mbox,
)

ROOT = Path(__file__).resolve().parent.parent
_IDS = re.compile(r"<([^<>\s]+)>")
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate(2024, cases=40, unrelated=150)


@pytest.fixture(scope="module")
def maildir(tmp_path_factory: pytest.TempPathFactory, scenario: Scenario) -> Path:
    return write_maildir(scenario, tmp_path_factory.mktemp("synthetic") / "Mail")


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _maildir_files(root: Path) -> list[Path]:
    return sorted(p for sub in ("cur", ".Sent/cur", ".Junk/cur") for p in (root / sub).iterdir())


def _text_of(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return f"{msg['Subject']}\n{content}"


# -- determinism ---------------------------------------------------------------


def test_same_seed_gives_identical_bytes_truth_and_config() -> None:
    a = generate(11, cases=8, unrelated=40)
    b = generate(11, cases=8, unrelated=40)
    assert list(iter_message_bytes(a)) == list(iter_message_bytes(b))
    assert a.truth.to_dict() == b.truth.to_dict()
    assert a.config_toml == b.config_toml


def test_different_seeds_differ() -> None:
    a = generate(11, cases=8, unrelated=40)
    b = generate(12, cases=8, unrelated=40)
    assert list(iter_message_bytes(a)) != list(iter_message_bytes(b))
    assert {m.message_id for m in a.messages}.isdisjoint(m.message_id for m in b.messages)


def test_output_does_not_depend_on_hash_seed() -> None:
    # Set iteration order varies with PYTHONHASHSEED; the output must not.
    code = (
        "import hashlib, json\n"
        "from analyzer.synthetic import generate, iter_message_bytes\n"
        "s = generate(5, cases=6, unrelated=30)\n"
        "h = hashlib.sha256()\n"
        "for raw in iter_message_bytes(s): h.update(raw)\n"
        "h.update(json.dumps(s.truth.to_dict(), sort_keys=True).encode())\n"
        "h.update(s.config_toml.encode())\n"
        "print(h.hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_global_random_state_is_untouched() -> None:
    state = random.getstate()
    generate(3, cases=3, unrelated=10)
    assert random.getstate() == state


def test_specifics_change_wording_only() -> None:
    # Naming each matter draws from a stream of its own: the scenario's
    # structure, times and truth are those of the mailbox without them.
    named = generate(7, cases=12, unrelated=20)
    plain = generate(7, cases=12, unrelated=20, specifics=False)
    assert named.truth.to_dict() == plain.truth.to_dict()
    assert ([(m.message_id, m.received_at, m.subject) for m in named.messages]
            == [(m.message_id, m.received_at, m.subject) for m in plain.messages])
    changed = [(m, p) for m, p in zip(named.messages, plain.messages, strict=True)
               if m.text != p.text]
    assert {m.truth.party for m, _ in changed} >= {"me"}

    def lines_of_mine(s: Scenario) -> set[str]:
        return {line.strip() for m in s.messages if m.truth.party == "me"
                for line in m.text.splitlines()}

    # Others' messages change only where they quote or recall mine.
    mine_named, mine_plain = lines_of_mine(named), lines_of_mine(plain)
    for m, p in changed:
        if m.truth.party != "me":
            ours, theirs = set(m.text.splitlines()), set(p.text.splitlines())
            assert {x.lstrip("> ").strip() for x in ours - theirs} <= mine_named | {""}
            assert {x.lstrip("> ").strip() for x in theirs - ours} <= mine_plain | {""}


def test_a_case_names_one_matter() -> None:
    # Most cases name their matter (an employer, a month), each only one.
    scenario = generate(7, cases=12, unrelated=20)
    matter = re.compile(r"^(?:Cela concerne|Cela fait suite|Il s'agit de).*$", re.MULTILINE)
    named: dict[str, set[str]] = defaultdict(set)
    for m in scenario.messages:
        if m.truth.party == "me" and m.truth.case_id:
            own = m.text.split("\n>", 1)[0]
            named[m.truth.case_id].update(matter.findall(own))
    assert all(len(sentences) <= 1 for sentences in named.values())
    assert sum(1 for sentences in named.values() if sentences) >= len(named) // 2
    # The month a matter is about, or the letter it follows, came before it.
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre")
    dated = re.compile(rf"({'|'.join(months)}) (\d{{4}})")
    started = {c: min(m.truth.sent_at for m in scenario.messages if m.truth.case_id == c)
               for c in named}
    checked = 0
    for case_id, sentences in named.items():
        for sentence in sentences:
            if found := dated.search(sentence):
                month = months.index(found.group(1)) + 1
                assert (int(found.group(2)), month) <= (started[case_id].year,
                                                        started[case_id].month), sentence
                checked += 1
    assert checked >= 3


def test_a_matter_is_named_unlike_its_twins() -> None:
    builder = synthetic._Builder(1, STYLES, 0.05, DEFAULT_START, 0.3)
    state = builder.matter_rng.getstate()
    first = builder._matter(set(), DEFAULT_START)
    builder.matter_rng.setstate(state)
    assert builder._matter({first}, DEFAULT_START) != first


# -- well-formed mail ------------------------------------------------------------


def test_message_ids_are_unique(scenario: Scenario) -> None:
    worst = scale(8, 3000, 1.0)
    for s in (scenario, worst):
        ids = [m.message_id for m in s.messages]
        assert len(ids) == len(set(ids))
        assert all("<" not in i and ">" not in i and "@" in i for i in ids)


def test_every_file_parses_without_defects(scenario: Scenario, maildir: Path) -> None:
    by_id = {m.message_id: m for m in scenario.messages}
    files = _maildir_files(maildir)
    assert len(files) == len(scenario.messages)
    for path in files:
        msg = _parse(path.read_bytes())
        for part in msg.walk():
            assert not part.defects, (path.name, part.defects)
        for name, value in msg.items():
            assert not getattr(value, "defects", ()), (path.name, name, value.defects)
        mid = str(msg["Message-ID"]).strip("<>")
        original = by_id[mid]
        body = msg.get_body(("plain",))
        assert body is not None
        assert body.get_content().rstrip("\n") == original.text.rstrip("\n")
        assert str(msg["Subject"]) == original.subject
        sender = msg["From"].addresses[0]
        assert (sender.display_name, sender.addr_spec) == (
            original.sender.name,
            original.sender.email,
        )
        date = email.utils.parsedate_to_datetime(str(msg["Date"]))
        assert date == original.sent_at
        if original.attachment is not None:
            names = [p.get_filename() for p in msg.iter_attachments()]
            assert names == [original.attachment.filename]


def test_headers_carry_timezones_and_delivery_time(scenario: Scenario) -> None:
    offsets = set()
    for m in scenario.messages:
        msg = _parse(message_bytes(m))
        date = email.utils.parsedate_to_datetime(str(msg["Date"]))
        assert date.tzinfo is not None
        offsets.add(date.utcoffset())
        if m.folder != "Sent":
            received = str(msg["Received"]).rsplit(";", 1)[1]
            assert email.utils.parsedate_to_datetime(received) >= date
    assert {timedelta(hours=1), timedelta(hours=2), timedelta(0)} <= offsets


def test_mime_shapes_are_mixed(scenario: Scenario) -> None:
    kinds = Counter(_parse(message_bytes(m)).get_content_type() for m in scenario.messages)
    assert kinds["text/plain"] > 0
    assert kinds["multipart/alternative"] > 0
    assert kinds["multipart/mixed"] > 0
    share = sum(1 for m in scenario.messages if m.attachment) / len(scenario.messages)
    assert 0.02 <= share <= 0.10
    raw = b"".join(iter_message_bytes(scenario))
    assert b"Content-Transfer-Encoding: quoted-printable" in raw
    assert b"=?utf-8?q?" in raw


def test_references_resolve_within_the_mailbox_except_phantoms(
    scenario: Scenario, maildir: Path
) -> None:
    ids = set()
    referenced: list[str] = []
    for path in _maildir_files(maildir):
        msg = _parse(path.read_bytes())
        ids.add(str(msg["Message-ID"]).strip("<>"))
        for header in ("In-Reply-To", "References"):
            referenced += _IDS.findall(str(msg.get(header, "")))
    missing = {r for r in referenced if r not in ids}
    assert missing, "the scenario should contain on-purpose phantom references"
    assert missing == set(scenario.truth.phantom_ids)
    shapes = re.compile(
        r"^(RT-Ticket-\d+@.+|[0-9A-Z]{10,11}@zendesk\.com|GLPI_[0-9a-f]+-Ticket-\d+@.+)$"
    )
    assert all(shapes.match(p) for p in missing), missing


# -- truth ----------------------------------------------------------------------------


def test_truth_mirrors_messages(scenario: Scenario) -> None:
    assert [t.message_id for t in scenario.truth.messages] == [
        m.message_id for m in scenario.messages
    ]
    times = [m.sent_at for m in scenario.messages]
    assert times == sorted(times)
    cases = {c.case_id: c for c in scenario.truth.cases}
    for t in scenario.truth.messages:
        assert t.party in {"me", "agency", "contractor", "other"}
        assert t.sent_at.tzinfo is not None and t.sent_at.utcoffset() == timedelta(0)
        if t.case_id is None:
            assert t.counterpart is None and t.ticket_id is None
        else:
            case = cases[t.case_id]
            assert t.counterpart == case.counterpart and t.style == case.style
            assert t.ticket_id in case.tickets
        if t.kind in {"ack", "closure", "survey", "ooo", "rejection", "newsletter", "shop"}:
            assert t.automated
        if t.kind in {"question", "reply", "reminder", "addendum", "notification", "demand"}:
            assert not t.automated


def test_answers_point_to_earlier_messages_of_the_same_case(scenario: Scenario) -> None:
    by_id = scenario.truth.by_id()
    answered = 0
    for t in scenario.truth.messages:
        if t.answers is None:
            continue
        answered += 1
        target = by_id[t.answers]
        assert target.case_id == t.case_id is not None
        assert target.sent_at < t.sent_at
    assert answered > len(scenario.truth.cases)


def test_tickets_of_a_case_follow_each_other(scenario: Scenario) -> None:
    for case in scenario.truth.cases:
        assert 1 <= len(case.tickets) <= 5
        assert len(set(case.tickets)) == len(case.tickets)
        msgs = [t for t in scenario.truth.messages if t.case_id == case.case_id]
        first_seen = list(dict.fromkeys(t.ticket_id for t in msgs))
        assert first_seen == case.tickets
        reopenings = [t for t in msgs if t.is_reopening]
        assert len(reopenings) == len(case.tickets) - 1


def _reopenings(s: Scenario) -> list[tuple[MessageTruth, list[str]]]:
    cases = {c.case_id: c for c in s.truth.cases}
    out = []
    for t in s.truth.messages:
        if t.is_reopening:
            assert t.case_id is not None and t.ticket_id is not None
            tickets = cases[t.case_id].tickets
            out.append((t, tickets[: tickets.index(t.ticket_id)]))
    return out


def test_reopenings_follow_their_reference_kind(scenario: Scenario) -> None:
    by_id = {m.message_id: m for m in scenario.messages}
    reopenings = _reopenings(scenario)
    kinds = Counter(t.reopen_reference for t, _ in reopenings)
    assert set(kinds) == {"ticket-number", "quote", "none"}
    assert kinds["none"] >= len(reopenings) / 4
    for t, earlier in reopenings:
        assert earlier
        msg = by_id[t.message_id]
        parsed = _parse(message_bytes(msg))
        text = _text_of(parsed)
        if t.reopen_reference == "none":
            assert msg.in_reply_to is None and not msg.references
            assert parsed["In-Reply-To"] is None and parsed["References"] is None
            for old in earlier:
                assert not re.search(rf"(?<![\w-]){re.escape(old)}(?![\w-])", text), old
            assert "\n>" not in text and "Message transféré" not in text
        elif t.reopen_reference == "ticket-number":
            assert earlier[-1] in text
            assert msg.in_reply_to is None
        else:
            assert "\n> " in text or "Message transféré" in text


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_at_least_a_quarter_of_reopenings_are_reference_free(seed: int) -> None:
    s = generate(seed, cases=20, unrelated=0)
    kinds = [t.reopen_reference for t, _ in _reopenings(s)]
    assert kinds.count("none") >= len(kinds) / 4


def test_reference_free_share_is_a_parameter() -> None:
    s = generate(9, cases=40, unrelated=0, reference_free_share=0.6)
    kinds = [t.reopen_reference for t, _ in _reopenings(s)]
    assert kinds.count("none") >= 0.6 * len(kinds)
    with pytest.raises(ValueError):
        generate(9, reference_free_share=1.5)


def _classify(address: str, config: dict[str, Any]) -> str:
    address = address.lower()
    if address in config["me"]["addresses"]:
        return "me"
    domain = address.rsplit("@", 1)[1]
    for cp in config["counterpart"]:
        if address in cp["addresses"] or any(
            domain == d or domain.endswith("." + d) for d in cp["domains"]
        ):
            return str(cp["kind"])
    return "other"


def test_party_counts_match_the_addresses_of_the_config(scenario: Scenario, maildir: Path) -> None:
    config = tomllib.loads((maildir / "analyzer.toml").read_text(encoding="utf-8"))
    assert config == tomllib.loads(scenario.config_toml)
    assert config["me"]["addresses"] == [scenario.me]
    assert {cp["kind"] for cp in config["counterpart"]} == {"agency", "contractor"}
    names = [cp["name"] for cp in config["counterpart"]]
    assert "France Travail" in names and len(names) == len(set(names))
    by_header: Counter[str] = Counter()
    by_id = scenario.truth.by_id()
    for path in _maildir_files(maildir):
        msg = _parse(path.read_bytes())
        party = _classify(msg["From"].addresses[0].addr_spec, config)
        by_header[party] += 1
        truth = by_id[str(msg["Message-ID"]).strip("<>")]
        assert party == truth.party, (path.name, truth)
        if truth.party == "me" and truth.case_id is not None:
            recipients = [a.addr_spec for a in msg["To"].addresses]
            assert any(_classify(a, config) != "other" for a in recipients)
        if truth.party != "me":
            assert scenario.me in [a.addr_spec for a in msg["To"].addresses]
    assert by_header == Counter(t.party for t in scenario.truth.messages)


def test_truth_json_matches_the_objects(scenario: Scenario, maildir: Path) -> None:
    doc = json.loads((maildir / "truth.json").read_text(encoding="utf-8"))
    assert doc["me"] == scenario.me
    assert doc["messages"] == [t.to_dict() for t in scenario.truth.messages]
    assert doc["cases"] == [c.to_dict() for c in scenario.truth.cases]
    first = doc["messages"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["sent_at"])
    assert set(first) >= {
        "message_id",
        "case_id",
        "ticket_id",
        "party",
        "counterpart",
        "automated",
        "kind",
        "style",
        "sent_at",
        "answers",
        "is_reopening",
        "reopen_reference",
    }


# -- the situation the generator must reproduce ---------------------------------


def test_every_style_is_generated_with_its_markers() -> None:
    patterns = {
        "zendesk": r"_sprut@zendesk\.com>",
        "zammad": r"Message-ID: <\d{14}\.\d+\.[0-9a-f]{8}-[0-9a-f-]{27}@",
        "rt": r"References: <RT-Ticket-\d+@",
        "glpi": r"Message-ID: <GLPI_[0-9a-f]+-Ticket-\d+/",
        "redmine": r"Message-ID: <redmine\.(issue|journal)-\d+\.\d{14}\.",
        "otrs": r"\[Ticket#\d{16}\]",
        "freshdesk": r"fd_tkt_identifier",
        "servicenow": r"Ref:MSG\d+_[A-Za-z0-9]{20}",
        "salesforce": r"ref:!00D\w+\.!500\w+:ref",
        "fr-portal": r"Nouveau message dans votre espace personnel",
        "contractor": r"accompagnement obligatoire",
    }
    assert set(patterns) == set(STYLES)
    for style, pattern in patterns.items():
        s = generate(31, cases=6, unrelated=0, styles=[style])
        assert {t.style for t in s.truth.messages} == {style}
        raw = b"\n".join(iter_message_bytes(s))
        decoded = "\n".join(_text_of(_parse(message_bytes(m))) for m in s.messages)
        assert re.search(pattern.encode(), raw) or re.search(pattern, decoded), style


def test_unknown_style_is_rejected() -> None:
    with pytest.raises(ValueError):
        generate(1, styles=["lotus-notes"])


def test_fr_portal_mail_looks_like_france_travail() -> None:
    s = generate(17, cases=30, unrelated=0, styles=["fr-portal"])
    kinds = Counter(t.kind for t in s.truth.messages)
    assert kinds["ack"] and kinds["closure"] and kinds["notification"] and kinds["reminder"]
    for m in s.messages:
        t = m.truth
        if t.kind == "notification":
            assert not t.automated and t.party == "agency"
            assert m.sender.email.startswith("ne-pas-repondre@")
            assert "nouveau message dans votre espace personnel" in m.text
        if t.kind == "closure":
            assert "clôturée" in m.text and "nouvelle demande" in m.text
        if t.party == "agency":
            domain = m.sender.email.rsplit("@", 1)[1]
            assert domain == ("pole-emploi.fr" if m.sent_at.year < 2024 else "francetravail.fr")
    texts = "\n".join(m.text for m in s.messages)
    assert "sous 48 heures" in texts and "avant le " in texts
    assert any(t.deadline is not None for t in s.truth.messages)
    advisors = {m.sender.email for m in s.messages if m.truth.kind == "reply"}
    assert len(advisors) >= 3


def test_agency_replies_land_in_office_hours() -> None:
    s = generate(23, cases=30, unrelated=0, styles=["fr-portal", "glpi"])
    replies = [t for t in s.truth.messages if t.party == "agency" and t.kind == "reply"]
    assert replies
    for t in replies:
        local = t.sent_at.astimezone(PARIS)
        assert local.weekday() < 5, t
        assert (local.hour, local.minute) >= (8, 30) and local.hour < 18, t


def test_contractors_write_from_unknown_addresses() -> None:
    s = generate(29, cases=20, unrelated=0, styles=["contractor"])
    senders = {m.sender.email for m in s.messages if m.truth.party == "contractor"}
    domains = {a.rsplit("@", 1)[1] for a in senders}
    assert len(domains) >= 3  # call centre, firm and webmail
    assert any(m.folder == "Junk" for m in s.messages)
    texts = "\n".join(m.text for m in s.messages)
    assert "Identifiant France Travail" in texts or "identifiant France Travail" in texts


def test_hard_negatives_and_boilerplate_subjects(scenario: Scenario) -> None:
    spans: dict[str, tuple[datetime, datetime]] = {}
    for t in scenario.truth.messages:
        if t.case_id:
            lo, hi = spans.get(t.case_id, (t.sent_at, t.sent_at))
            spans[t.case_id] = (min(lo, t.sent_at), max(hi, t.sent_at))
    cases = scenario.truth.cases
    twins = [
        (a.case_id, b.case_id)
        for i, a in enumerate(cases)
        for b in cases[i + 1 :]
        if (a.counterpart, a.topic) == (b.counterpart, b.topic)
        and spans[a.case_id][0] <= spans[b.case_id][1]
        and spans[b.case_id][0] <= spans[a.case_id][1]
    ]
    assert twins
    cases_by_subject: dict[str, set[str]] = {}
    for m in scenario.messages:
        if m.truth.case_id:
            cases_by_subject.setdefault(m.subject, set()).add(m.truth.case_id)
    assert max(len(v) for v in cases_by_subject.values()) >= 3
    unrelated_subjects = {m.subject for m in scenario.messages if m.truth.case_id is None}
    assert any(s.startswith(("RE :", "TR :", "Re:", "Fwd:")) for s in unrelated_subjects)


def test_waits_are_asymmetric() -> None:
    s = generate(41, cases=40, unrelated=0, styles=["fr-portal"])
    agency = [
        w["delay_seconds"] for w in truth_waits(s) if w["requester"] == "me" and w["answered_at"]
    ]
    me = [w["delay_seconds"] for w in truth_waits(s) if w["requester"] != "me" and w["answered_at"]]
    agency.sort()
    me.sort()
    assert 2 * 86400 < agency[len(agency) // 2] < 12 * 86400
    assert me[len(me) // 2] < 2 * 86400


# -- truth_waits -------------------------------------------------------------------------


def test_truth_waits_on_a_hand_checked_scenario() -> None:
    t0 = datetime(2024, 2, 5, 9, 0, tzinfo=UTC)
    ft, cap = "France Travail", "Cap Avenir Conseil"

    def m(
        mid: str,
        case: str | None,
        party: str,
        at: timedelta,
        kind: str,
        auto: bool = False,
        ticket: str | None = "T1",
    ) -> MessageTruth:
        counterpart = {"c1": ft, "c2": cap}.get(case or "")
        return MessageTruth(
            mid,
            case,
            ticket if case else None,
            party,
            counterpart,
            auto,
            kind,
            "fr-portal" if case == "c1" else None,
            t0 + at,
        )

    day, hour = timedelta(days=1), timedelta(hours=1)
    truth = Truth(
        messages=[
            m("q1", "c1", "me", 0 * day, "question"),
            m("ack1", "c1", "agency", timedelta(minutes=1), "ack", True),
            m("n1", "c2", "contractor", 2 * hour, "contractor", ticket="CAP-1"),
            m("rem1", "c1", "me", 4 * day, "reminder"),
            m("x1", None, "other", 4 * day, "personal"),
            m("r2", "c2", "me", 5 * hour, "reply", ticket="CAP-1"),
            m("add2", "c2", "me", 5 * hour + timedelta(minutes=5), "addendum", ticket="CAP-1"),
            m("not1", "c1", "agency", 6 * day, "notification"),
            m("clo1", "c1", "agency", 6 * day + hour, "closure", True),
            m("q2", "c1", "me", 8 * day, "question", ticket="T2"),
            m("rep2", "c1", "agency", 15 * day, "reply", ticket="T2"),
            m("dem2", "c1", "agency", 15 * day + 2 * hour, "reply", ticket="T2"),
            m("ooo2", "c1", "agency", 16 * day, "ooo", True, ticket="T2"),
        ],
        cases=[
            CaseTruth("c1", ft, "fr-portal", ["T1", "T2"], "paiement"),
            CaseTruth("c2", cap, "contractor", ["CAP-1"], "accompagnement"),
        ],
    )

    def row(
        case: str,
        req: str,
        resp: str,
        asked: str,
        at: timedelta,
        answer: str | None,
        answered: timedelta | None,
    ) -> dict[str, Any]:
        return {
            "case_id": case,
            "requester": req,
            "responder": resp,
            "asked_at": t0 + at,
            "answered_at": t0 + answered if answered is not None else None,
            "delay_seconds": int((answered - at).total_seconds()) if answered is not None else None,
            "asked_message_id": asked,
            "answer_message_id": answer,
        }

    assert truth_waits(truth) == [
        row("c1", "me", ft, "q1", 0 * day, "not1", 6 * day),  # reminder does not restart it
        row("c1", ft, "me", "not1", 6 * day, "q2", 8 * day),  # runs across the closure
        row("c1", "me", ft, "q2", 8 * day, "rep2", 15 * day),
        row("c1", ft, "me", "rep2", 15 * day, None, None),  # open; out-of-office ignored
        row("c2", cap, "me", "n1", 2 * hour, "r2", 5 * hour),
        row("c2", "me", cap, "r2", 5 * hour, None, None),
    ]
    assert truth_waits(truth)[0]["delay_seconds"] == 518_400


def test_truth_waits_on_generated_scenarios_are_consistent(scenario: Scenario) -> None:
    by_id = scenario.truth.by_id()
    waits = truth_waits(scenario)
    assert {w["case_id"] for w in waits} == {c.case_id for c in scenario.truth.cases}
    previous: dict[str, Any] = {}
    for w in waits:
        asked = by_id[w["asked_message_id"]]
        assert not asked.automated and asked.case_id == w["case_id"]
        assert (asked.party == "me") == (w["requester"] == "me")
        assert w["responder"] != w["requester"]
        if w["answered_at"] is None:
            assert w["answer_message_id"] is None and w["delay_seconds"] is None
        else:
            answer = by_id[w["answer_message_id"]]
            assert (answer.party == "me") == (w["responder"] == "me")
            assert w["delay_seconds"] == (answer.sent_at - asked.sent_at).total_seconds() >= 0
        last = previous.get(w["case_id"])
        if last is not None:
            assert last["answer_message_id"] == w["asked_message_id"]
        previous[w["case_id"]] = w
    assert all(w["answered_at"] is None for w in previous.values())


# -- scale and writers ------------------------------------------------------------------


@pytest.mark.parametrize(("total", "share"), [(3000, 0.1), (2500, 1.0), (1234, 0.37), (500, 0.0)])
def test_scale_hits_the_total_and_the_share(total: int, share: float) -> None:
    s = scale(6, total, share)
    assert len(s.messages) == total
    in_cases = sum(1 for t in s.truth.messages if t.case_id is not None)
    assert abs(in_cases / total - share) <= 0.01
    kinds = [t.reopen_reference for t, _ in _reopenings(s)]
    assert kinds.count("none") >= len(kinds) / 4
    ids = {m.message_id for m in s.messages}
    for m in s.messages:
        for ref in (m.in_reply_to, *m.references):
            assert ref is None or ref in ids or ref in s.truth.phantom_ids


def test_maildir_layout(scenario: Scenario, maildir: Path) -> None:
    names = re.compile(r"^\d{10}\.\d+\.synthetic:2,S$")
    folders = {"cur": "INBOX", ".Sent/cur": "Sent", ".Junk/cur": "Junk"}
    by_id = {m.message_id: m for m in scenario.messages}
    for sub, folder in folders.items():
        files = list((maildir / sub).iterdir())
        assert files, sub
        for path in files:
            assert names.match(path.name), path.name
            mid = _IDS.search(path.read_bytes().split(b"\nMessage-ID: ", 1)[1].decode())
            assert mid is not None
            assert by_id[mid.group(1)].folder == folder
            if folder == "Sent":
                assert by_id[mid.group(1)].truth.party == "me"
    for sub in ("new", "tmp", ".Sent/new", ".Junk/tmp"):
        assert (maildir / sub).is_dir()
    assert (maildir / ".Sent" / "maildirfolder").exists()
    md = mailbox.Maildir(maildir, factory=None, create=False)
    assert len(md) + len(md.get_folder("Sent")) + len(md.get_folder("Junk")) == len(
        scenario.messages
    )


def test_mbox_quotes_from_lines(tmp_path: Path) -> None:
    s = generate(13, cases=2, unrelated=80)
    english = [m for m in s.messages if "\nFrom our readers" in m.text]
    assert english, "the sample should contain body lines starting with 'From '"
    path = write_mbox(s, tmp_path / "mail.mbox")
    raw = path.read_bytes()
    separators = [line for line in raw.split(b"\n") if line.startswith(b"From ")]
    assert len(separators) == len(s.messages)
    assert b"\n>From our readers" in raw
    box = mailbox.mbox(path, create=False)
    assert [str(msg["Message-ID"]).strip("<>") for msg in box] == [m.message_id for m in s.messages]
    assert (tmp_path / "mail.mbox.truth.json").is_file()
    assert (tmp_path / "mail.mbox.analyzer.toml").is_file()


def test_split_members_gives_one_mailbox_each() -> None:
    s = generate(19, members=3, cases=4, unrelated=10)
    assert len(s.members) == len(set(s.members)) == 3
    assert tomllib.loads(s.config_toml)["me"]["addresses"] == list(s.members)
    parts = split_members(s)
    assert [p.me for p in parts] == list(s.members)
    assert sum(len(p.messages) for p in parts) == len(s.messages)
    for index, part in enumerate(parts):
        assert {t.member for t in part.truth.messages} == {index}
        assert tomllib.loads(part.config_toml)["me"]["addresses"] == [part.me]
        senders = {m.sender.email for m in part.messages if m.truth.party == "me"}
        assert senders == {part.me}


# -- seeds nobody looked at ----------------------------------------------------------


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    cases=st.integers(min_value=0, max_value=12),
    unrelated=st.integers(min_value=0, max_value=30),
    styles=st.lists(st.sampled_from(STYLES), min_size=1, max_size=4, unique=True),
)
def test_invariants_hold_for_any_seed(
    seed: int, cases: int, unrelated: int, styles: list[str]
) -> None:
    s = generate(seed, cases=cases, unrelated=unrelated, styles=styles)
    ids = [m.message_id for m in s.messages]
    assert len(ids) == len(set(ids))
    assert len(s.truth.cases) == cases
    assert sum(1 for t in s.truth.messages if t.case_id is None and t.party != "me") <= unrelated
    known = set(ids) | set(s.truth.phantom_ids)
    by_id = s.truth.by_id()
    for m in s.messages:
        assert all(r in known for r in (m.in_reply_to, *m.references) if r)
        for ref in (m.in_reply_to, *m.references):
            if ref in by_id:
                assert by_id[ref].sent_at <= m.sent_at
        if m.truth.answers is not None:
            assert by_id[m.truth.answers].case_id == m.truth.case_id
    kinds = [t.reopen_reference for t, _ in _reopenings(s)]
    assert kinds.count("none") >= len(kinds) / 4
    for w in truth_waits(s):
        assert w["delay_seconds"] is None or w["delay_seconds"] >= 0


def test_empty_style_list_is_rejected() -> None:
    with pytest.raises(ValueError):
        generate(1, styles=[])


def test_start_date_is_honoured() -> None:
    start = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    s = generate(3, cases=5, unrelated=5, start=start)
    assert min(m.sent_at for m in s.messages) >= start
    agency = {m.sender.email.rsplit("@", 1)[1] for m in s.messages if m.truth.party == "agency"}
    assert "pole-emploi.fr" not in agency  # after the renaming only francetravail.fr


def test_maildir_is_not_written_twice(tmp_path: Path) -> None:
    s = generate(2, cases=1, unrelated=2)
    write_maildir(s, tmp_path / "Mail")
    with pytest.raises(FileExistsError):
        write_maildir(s, tmp_path / "Mail")
