#!/usr/bin/env python3
# ruff: noqa: E501  (long French text literals)
"""Generate ``sample_mailbox/``: a fictional French Maildir++ mailbox and its ground truth.

Everything here is invented (people, addresses, numbers, firms). The stories follow
the situations told in the project's reference material, rewritten in our own words.

Run from the repository root::

    python tools/make_sample_mailbox.py            # (re)writes sample_mailbox/
    python tools/make_sample_mailbox.py --check    # write, then run the consistency checks

Output is deterministic: same script, same bytes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import struct
import sys
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "sample_mailbox"
PARIS = ZoneInfo("Europe/Paris")

ME = "julie.moreau@exemple-perso.fr"
ME_OLD = "j.moreau@exemple-perso.fr"
MX = "mx1.exemple-perso.fr"

FT = "France Travail"
FIRM = "Élan Parcours Conseil"

# sending infrastructure per sender domain: (outbound host, documentation IP)
HOSTS = {
    "pole-emploi.fr": ("smtp-out2.pole-emploi.fr", "192.0.2.41"),
    "francetravail.fr": ("smtp-out2.francetravail.fr", "192.0.2.42"),
    "elanparcours-conseil.fr": ("mail.elanparcours-conseil.fr", "198.51.100.23"),
    "relais-rdv.fr": ("smtp.relais-rdv.fr", "198.51.100.77"),
    "cooperative-ouvrage.coop": ("mail.cooperative-ouvrage.coop", "203.0.113.12"),
    "courriel-libre.fr": ("smtp.courriel-libre.fr", "203.0.113.50"),
    "banque-lumiere.fr": ("notif.banque-lumiere.fr", "203.0.113.88"),
    "lesmotspassants.fr": ("mta.lesmotspassants.fr", "203.0.113.91"),
    "greffe-tc-villebrune.fr": ("relay.greffe-tc-villebrune.fr", "192.0.2.120"),
    "cabinet-perrin-associes.fr": ("mx.cabinet-perrin-associes.fr", "203.0.113.140"),
    "fabrique-numerique-solidaire.org": (
        "lists.fabrique-numerique-solidaire.org",
        "198.51.100.160",
    ),
    "digitalinclusion-network.org": ("mailer.digitalinclusion-network.org", "198.51.100.170"),
    "francetravail-verification.com": ("vps-4471.hebergement-low-cost.net", "203.0.113.201"),
    "promo-gagnant-express.net": ("srv12.bulk-sender.biz", "203.0.113.222"),
}


def tiny_png(rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """An 8x8 solid PNG (about 80 bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + bytes(rgb) * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def tiny_pdf(text: str) -> bytes:
    """A minimal one-page PDF showing one ASCII line."""
    safe = text.encode("ascii", "replace").decode().replace("(", "[").replace(")", "]")
    stream = f"BT /F1 12 Tf 40 100 Td ({safe}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 160] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


@dataclass
class Att:
    filename: str
    kind: str  # "pdf" | "png"
    text: str = ""

    def payload(self) -> tuple[bytes, str, str]:
        if self.kind == "png":
            return tiny_png(), "image", "png"
        return tiny_pdf(self.text or self.filename), "application", "pdf"


@dataclass
class Msg:
    key: str
    folder: str  # "" (INBOX) | ".Sent" | ".Junk"
    date: str  # local Paris time "YYYY-MM-DD HH:MM:SS"
    frm: str
    to: str
    subject: str
    body: str
    # ground truth
    party: str
    counterpart: str | None
    automated: bool
    case: str | None
    ticket: str | None
    sender_person: str | None
    # options
    cc: str | None = None
    html: str | None = None
    html_only_alt: bool = True  # html given -> multipart/alternative
    atts: list[Att] = field(default_factory=list)
    reply_to_key: str | None = None  # In-Reply-To target (References built from it)
    refs_extra: list[str] = field(default_factory=list)  # keys prepended to References
    mid: str | None = None
    delay: int = 7  # seconds between Date and delivery
    headers: list[tuple[str, str]] = field(default_factory=list)
    reply_to: str | None = None
    cte: str = "quoted-printable"
    agent: str | None = None  # User-Agent / X-Mailer
    style: str = "UTF-8?Q"  # RFC 2047 charset?encoding used by the sending client

    @property
    def dt(self) -> datetime:
        return datetime.strptime(self.date, "%Y-%m-%d %H:%M:%S").replace(tzinfo=PARIS)


def addr_domain(header: str) -> str:
    return header.rsplit("@", 1)[1].rstrip(">").strip().lower()


# ---------------------------------------------------------------- header encoding like real clients
_Q_SAFE = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/")


def encoded_words(text: str, style: str) -> list[str]:
    """RFC 2047 words (each at most 75 chars), never splitting a UTF-8 sequence."""
    charset, enc = style.split("?")
    head, tail = f"=?{charset}?{enc}?", "?="
    words, cur = [], b""

    def enc_bytes(b: bytes) -> str:
        if enc.upper() == "B":
            return base64.b64encode(b).decode()
        return "".join("_" if c == 32 else chr(c) if c in _Q_SAFE else f"={c:02X}" for c in b)

    for ch in text:
        cand = cur + ch.encode("utf-8")
        if cur and len(head) + len(enc_bytes(cand)) + len(tail) > 75:
            words.append(head + enc_bytes(cur) + tail)
            cand = ch.encode("utf-8")
        cur = cand
    if cur:
        words.append(head + enc_bytes(cur) + tail)
    return words


def fold_words(name: str, words: list[str]) -> str:
    lines, cur = [], f"{name}:"
    for w in words:
        if len(cur) + 1 + len(w) > 76 and cur != f"{name}:":
            lines.append(cur)
            cur = " " + w
        else:
            cur += " " + w
    lines.append(cur)
    return "\n".join(lines)


def encode_unstructured(name: str, value: str, style: str) -> str:
    if value.isascii():
        return fold_words(name, value.split(" "))
    return fold_words(name, encoded_words(value, style))


def encode_addresses(name: str, value: str, style: str) -> str:
    parts = []
    for one in value.split(", "):
        if "<" not in one:
            parts.append(one)
            continue
        disp, addr = one.rsplit("<", 1)
        disp = disp.strip()
        if disp.isascii():
            if any(c in disp for c in '()<>[]:;@\\,."'):
                disp = '"' + disp.replace('"', '\\"') + '"'
            parts.append(f"{disp} <{addr}")
        else:
            parts.append(" ".join(encoded_words(disp, style)) + f" <{addr}")
    return fold_words(name, ", ".join(parts).split(" "))


def rewrite_headers(raw: bytes, m: Msg) -> bytes:
    head, body = raw.split(b"\n\n", 1)
    lines = head.decode("ascii").split("\n")
    fields: list[list[str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            fields[-1].append(line)
        else:
            fields.append([line])
    style = m.style
    new = {
        "subject": encode_unstructured("Subject", m.subject, style),
        "from": encode_addresses("From", m.frm, style),
        "to": encode_addresses("To", m.to, style),
    }
    if m.cc:
        new["cc"] = encode_addresses("Cc", m.cc, style)
    if m.reply_to:
        new["reply-to"] = encode_addresses("Reply-To", m.reply_to, style)
    out = []
    for f in fields:
        key = f[0].split(":", 1)[0].lower()
        out.append(new.get(key, "\n".join(f)))
    body = body.replace(b"\nMIME-Version: 1.0\n", b"\n")
    return "\n".join(out).encode("ascii") + b"\n\n" + body


def render(m: Msg, by_key: dict[str, Msg]) -> tuple[bytes, int, list[str]]:
    msg = EmailMessage(policy=policy.default)
    received_mail = m.folder != ".Sent"
    delivered = m.dt + timedelta(seconds=m.delay)
    if received_mail:
        dom = addr_domain(m.frm)
        host, ip = HOSTS[dom]
        hexid = hashlib.sha1(m.key.encode()).hexdigest()[:11].upper()
        rcpt = ME_OLD if ME_OLD in m.to else ME
        msg["Return-Path"] = (
            f"<bounce+{hexid.lower()}@{dom}>"
            if m.automated
            else f"<{m.frm.rsplit('<', 1)[-1].rstrip('>')}>"
        )
        msg["Delivered-To"] = rcpt
        msg["Received"] = (
            f"from {host} ({host} [{ip}]) by {MX} (Postfix) with ESMTPS id 4{hexid}"
            f" for <{rcpt}>; {format_datetime(delivered)}"
        )
        relay = m.dt + timedelta(seconds=max(1, m.delay // 3))
        msg["Received"] = (
            f"from localhost (localhost [127.0.0.1]) by {host} with ESMTP id"
            f" {hexid[:8].lower()}; {format_datetime(relay.astimezone(ZoneInfo('UTC')))}"
        )
        if m.folder == ".Junk":
            msg["X-Spam-Flag"] = "YES"
            msg["X-Spam-Status"] = (
                "Yes, score=6.4 required=5.0 tests=HTML_MESSAGE,URIBL_BLOCKED,BULK_SENDER"
            )
        else:
            msg["X-Spam-Status"] = "No, score=-0.8 required=5.0"
    msg["Date"] = format_datetime(m.dt)
    msg["From"] = m.frm
    msg["To"] = m.to
    if m.cc:
        msg["Cc"] = m.cc
    if m.reply_to:
        msg["Reply-To"] = m.reply_to
    msg["Subject"] = m.subject
    msg["Message-ID"] = f"<{m.mid}>"
    refs: list[str] = []
    if m.reply_to_key:
        parent = by_key[m.reply_to_key]
        refs = [by_key[k].mid for k in m.refs_extra] + parent_refs(parent, by_key) + [parent.mid]
        # keep order, drop duplicates
        seen: set[str] = set()
        refs = [r for r in refs if not (r in seen or seen.add(r))]
        msg["In-Reply-To"] = f"<{parent.mid}>"
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    m._refs = refs  # type: ignore[attr-defined]
    for k, v in m.headers:
        msg[k] = v
    if m.agent:
        msg["User-Agent" if m.folder == ".Sent" or "Thunderbird" in m.agent else "X-Mailer"] = (
            m.agent
        )
    msg["MIME-Version"] = "1.0"
    msg.set_content(m.body, subtype="plain", charset="utf-8", cte=m.cte)
    if m.html:
        msg.add_alternative(m.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for a in m.atts:
        data, maintype, subtype = a.payload()
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=a.filename)
    for i, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"------------{_h('boundary', m.key, i)[:24]}")
    raw = rewrite_headers(msg.as_bytes(policy=policy.default.clone(linesep="\n")), m)
    epoch = int((delivered if received_mail else m.dt).timestamp())
    return raw, epoch, refs


def parent_refs(m: Msg, by_key: dict[str, Msg]) -> list[str]:
    return list(getattr(m, "_refs", []))


def write(run_check: bool) -> int:
    story = build()
    msgs: list[Msg] = story["messages"]
    by_key = {m.key: m for m in msgs}
    assert len(by_key) == len(msgs), "duplicate keys"
    if OUT.exists():
        for p in OUT.iterdir():
            if p.name not in ("analyzer.toml", "expected.json") and p.is_dir():
                shutil.rmtree(p)
    OUT.mkdir(exist_ok=True)
    entries = []
    # render in date order so parents get their References first
    for n, m in enumerate(sorted(msgs, key=lambda x: x.dt), 1):
        raw, epoch, _ = render(m, by_key)
        folder = OUT / m.folder / "cur" if m.folder else OUT / "cur"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{epoch}.M{n:03d}P{3100 + n}.sample:2,S"
        (folder / name).write_bytes(raw)
        rel = f"{m.folder}/cur/{name}" if m.folder else f"cur/{name}"
        entries.append(
            {
                "file": rel,
                "message_id": m.mid,
                "date": format_datetime(m.dt),
                "subject": m.subject,
                "party": m.party,
                "counterpart": m.counterpart,
                "automated": m.automated,
                "case": m.case,
                "ticket": m.ticket,
                "sender_person": m.sender_person,
            }
        )
    mid_of = {m.key: m.mid for m in msgs}
    expected = {
        "me": [ME, ME_OLD],
        "messages": entries,
        "counterparts": story["counterparts"],
        "cases": story["cases"],
        "key_waits": [
            {
                **w,
                "asked_message_id": mid_of[w["asked_message_id"]],
                "answer_message_id": mid_of[w["answer_message_id"]]
                if w["answer_message_id"]
                else None,
            }
            for w in story["key_waits"]
        ],
        "deadlines": [{**d, "message_id": mid_of[d["message_id"]]} for d in story["deadlines"]],
    }
    (OUT / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (OUT / "analyzer.toml").write_text(story["toml"], encoding="utf-8")
    print(f"wrote {len(entries)} messages to {OUT}")
    if run_check:
        return check(OUT)
    return 0


# ---------------------------------------------------------------- checks


def check(root: Path) -> int:
    """Consistency checks of the written mailbox against expected.json."""
    errors: list[str] = []
    files = sorted(p for p in root.rglob("*") if p.is_file() and "/cur/" in str(p))
    exp = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    by_file = {e["file"]: e for e in exp["messages"]}
    if len(by_file) != len(exp["messages"]):
        errors.append("expected.json lists a file twice")
    msgs = {}
    dates = {}
    for p in files:
        rel = str(p.relative_to(root))
        raw = p.read_bytes()
        m = BytesParser(policy=policy.default).parsebytes(raw)
        defects = list(m.defects) + [d for part in m.walk() for d in part.defects]
        if defects:
            errors.append(f"{rel}: defects {defects}")
        for h in ("Message-ID", "Date", "From", "To", "Subject", "MIME-Version", "Content-Type"):
            if m[h] is None:
                errors.append(f"{rel}: missing {h}")
        mid = str(m["Message-ID"]).strip().strip("<>")
        if mid in msgs:
            errors.append(f"duplicate Message-ID {mid}")
        msgs[mid] = (rel, m)
        d = parsedate_to_datetime(str(m["Date"]))
        dates[mid] = d
        # DST offset sanity (Europe/Paris)

        if d.utcoffset() != d.astimezone(ZoneInfo("Europe/Paris")).utcoffset():
            errors.append(f"{rel}: wrong offset {m['Date']}")
        e = by_file.get(rel)
        if e is None:
            errors.append(f"{rel}: not in expected.json")
        elif e["message_id"] != mid:
            errors.append(f"{rel}: expected id {e['message_id']} != {mid}")
        elif str(m["Subject"]) != e["subject"]:
            errors.append(f"{rel}: subject roundtrip {m['Subject']!r} != {e['subject']!r}")
        for h in ("From", "To", "Cc", "Reply-To"):
            if m[h] is not None and (m[h].defects or not m[h].addresses):
                errors.append(f"{rel}: bad {h}: {m[h]!r} {m[h].defects}")
        if any(len(line) > 998 for line in raw.split(b"\n")):
            errors.append(f"{rel}: line too long")
        epoch = int(rel.split("/")[-1].split(".")[0])
        recvd = m.get_all("Received") or []
        if rel.startswith(".Sent"):
            if recvd:
                errors.append(f"{rel}: Sent with Received")
            if epoch != int(d.timestamp()):
                errors.append(f"{rel}: sent epoch mismatch")
        else:
            if not recvd:
                errors.append(f"{rel}: no Received")
            top = parsedate_to_datetime(str(recvd[0]).rsplit(";", 1)[1].strip())
            if not (d < top and (top - d).total_seconds() < 600):
                errors.append(f"{rel}: Received {top} not shortly after Date {d}")
            if epoch != int(top.timestamp()):
                errors.append(f"{rel}: delivery epoch mismatch")
        # encoded words present in raw headers for non-ASCII (no raw 8-bit headers)
        head = raw.split(b"\n\n", 1)[0]
        if any(b > 127 for b in head):
            errors.append(f"{rel}: raw 8-bit header")
        if m.get_body(("plain",)) is None:
            errors.append(f"{rel}: no text/plain body")
    for rel in by_file:
        if not (root / rel).is_file():
            errors.append(f"expected.json lists missing file {rel}")
    for mid, (rel, m) in msgs.items():
        for h in ("In-Reply-To", "References"):
            for ref in str(m.get(h, "")).split():
                ref = ref.strip("<>")
                if ref not in msgs:
                    errors.append(f"{rel}: {h} points to unknown {ref}")
                elif dates[ref] >= dates[mid]:
                    errors.append(f"{rel}: {h} target {ref} is not earlier")
    ids = {e["message_id"] for e in exp["messages"]}
    for w in exp["key_waits"]:
        for k in ("asked_message_id", "answer_message_id"):
            if w[k] and w[k] not in ids:
                errors.append(f"key_wait unknown {w[k]}")
        if w["answer_message_id"]:
            days = (
                dates[w["answer_message_id"]] - dates[w["asked_message_id"]]
            ).total_seconds() / 86400
            if abs(days - w["approx_days"]) > max(1.0, 0.1 * days):
                errors.append(
                    f"key_wait {w['note'][:40]}: approx_days {w['approx_days']} vs {days:.2f}"
                )
    for d in exp["deadlines"]:
        rel, m = msgs[d["message_id"]]
        body = m.get_body(("plain",)).get_content().lower()
        if d["phrase"].lower() not in body:
            errors.append(f"deadline phrase {d['phrase']} not in {rel}")
    case_names = {c["name"] for c in exp["cases"]}
    cps = {c["name"] for c in exp["counterparts"]}
    for e in exp["messages"]:
        if e["party"] in ("agency", "contractor") and e["case"] is None:
            errors.append(f"{e['file']}: counterpart message without case")
        if e["case"] is not None and e["case"] not in case_names:
            errors.append(f"{e['file']}: unknown case {e['case']}")
        if e["counterpart"] is not None and e["counterpart"] not in cps:
            errors.append(f"{e['file']}: unknown counterpart")
        if e["party"] == "other" and (e["case"] or e["counterpart"]):
            errors.append(f"{e['file']}: other with case/counterpart")
    for c in exp["cases"]:
        for t in c["tickets"]:
            rels = [e for e in exp["messages"] if e["ticket"] == t]
            if not any(t in e["subject"] for e in rels):
                errors.append(f"ticket {t} never in a subject")
    print(f"{len(files)} message files")
    print("folders:", dict(Counter(f.split("/")[0] for f in by_file)))
    print("party:", dict(Counter(e["party"] for e in exp["messages"])))
    print("automated:", dict(Counter((e["party"], e["automated"]) for e in exp["messages"])))
    print("cases:", dict(Counter(e["case"] for e in exp["messages"])))
    print("tickets:", dict(Counter(e["ticket"] for e in exp["messages"] if e["ticket"])))
    for e in errors:
        print("ERROR", e)
    print("OK" if not errors else f"{len(errors)} errors")
    return 1 if errors else 0


# --------------------------------------------------------------------------- content
def _h(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def tb_id(key: str) -> str:
    """Thunderbird-style id for Julie's own mail."""
    h = _h("tb", key)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}@exemple-perso.fr"


def crm_id(key: str, date: str, ticket: str, domain: str) -> str:
    stamp = date.replace("-", "").replace(" ", "").replace(":", "")
    return f"{stamp}.{ticket}.{_h('crm', key)[:10]}@crm.{domain}"


def notif_id(key: str, domain: str) -> str:
    return f"notif-{_h('notif', key)[:20]}@notifications.{domain}"


def plain_id(key: str, domain: str, prefix: str = "") -> str:
    return f"{prefix}{_h('plain', key)[:24]}@{domain}"


JULIE = "Julie Moreau <julie.moreau@exemple-perso.fr>"
JULIE_OLD = "Julie Moreau <j.moreau@exemple-perso.fr>"
TB68 = "Mozilla/5.0 (X11; Linux x86_64; rv:68.0) Gecko/20100101 Thunderbird/68.5.0"
TB115 = "Mozilla Thunderbird 115.4.1"
SIG = "\n-- \nJulie Moreau\n06 12 34 56 78\n"

PE_AGENCE = "Pôle emploi – Agence Les Tilleuls <ape.lestilleuls@pole-emploi.fr>"
FT_AGENCE = "France Travail – Agence Les Tilleuls <ape.lestilleuls@francetravail.fr>"
CONTROLE = (
    "Pôle emploi – Contrôle de la recherche d'emploi <controle.recherche-emploi@pole-emploi.fr>"
)

ID_FT = "3318406M"

STATUS = "changement-statut-2023"
CONTROLE_CASE = "controle-2020"
PRESTA = "accompagnement-prestataire"


def build() -> dict:
    msgs: list[Msg] = []

    def add(m: Msg) -> Msg:
        msgs.append(m)
        return m

    def sent(
        key,
        date,
        to,
        subject,
        body,
        *,
        case=None,
        ticket=None,
        counterpart=None,
        frm=JULIE,
        agent=TB115,
        **kw,
    ) -> Msg:
        return add(
            Msg(
                key=key,
                folder=".Sent",
                date=date,
                frm=frm,
                to=to,
                subject=subject,
                body=body,
                party="me",
                counterpart=counterpart,
                automated=False,
                case=case,
                ticket=ticket,
                sender_person="Julie Moreau",
                mid=tb_id(key),
                agent=agent,
                headers=[("Content-Language", "fr")],
                **kw,
            )
        )

    # ---- helpdesk machinery of the agency (Pôle emploi until 2023, France Travail from 2024)
    def brand(date: str) -> tuple[str, str]:
        return (
            ("francetravail.fr", "France Travail")
            if date >= "2024-01-01"
            else ("pole-emploi.fr", "Pôle emploi")
        )

    def ack(key, date, ticket, opened_key, opened_date, *, case=STATUS, auto_header=True) -> Msg:
        dom, name = brand(date)
        hdrs = [("X-Mailer", "GRC-Messagerie 3.2")]
        if auto_header:
            hdrs = [("Auto-Submitted", "auto-generated"), *hdrs]
        body = (
            "Bonjour,\n\n"
            f"Nous avons bien reçu votre demande n° {ticket} du {opened_date} et nous vous en remercions.\n\n"
            "Elle a été transmise au service compétent de votre agence. Un conseiller vous "
            "répondra dans les meilleurs délais, par courriel ou dans votre espace personnel "
            f"sur {dom}.\n\n"
            f"Pour tout échange sur ce sujet, merci de rappeler le numéro de votre demande : {ticket}.\n\n"
            "Ceci est un message automatique, merci de ne pas y répondre.\n\n"
            f"{name}\n"
        )
        return add(
            Msg(
                key=key,
                folder="",
                date=date,
                frm=f"{name} <ne-pas-repondre@{dom}>",
                to=ME,
                subject=f"Accusé de réception de votre demande n° {ticket}",
                body=body,
                party="agency",
                counterpart=FT,
                automated=True,
                case=case,
                ticket=ticket,
                sender_person=None,
                mid=crm_id(key, date, ticket, dom),
                reply_to_key=opened_key,
                headers=hdrs,
                delay=4,
                style="utf-8?B",
            )
        )

    def closure(key, date, ticket, subject_of_demand, *, case=STATUS) -> Msg:
        dom, name = brand(date)
        body = (
            "Bonjour,\n\n"
            f"Votre demande n° {ticket} (« {subject_of_demand} ») a été clôturée.\n\n"
            "Vous ne pouvez plus répondre à ce message : toute réponse envoyée à la suite de "
            "cette demande ne sera pas traitée. Si vous avez une autre question, merci de créer "
            "une nouvelle demande depuis votre espace personnel ou en écrivant à votre agence.\n\n"
            "Nous vous remercions de votre confiance.\n\n"
            f"{name}\n"
            "Ceci est un message automatique, merci de ne pas y répondre.\n"
        )
        return add(
            Msg(
                key=key,
                folder="",
                date=date,
                frm=f"{name} <ne-pas-repondre@{dom}>",
                to=ME,
                subject=f"Votre demande n° {ticket} a été clôturée",
                body=body,
                party="agency",
                counterpart=FT,
                automated=True,
                case=case,
                ticket=ticket,
                sender_person=None,
                mid=crm_id(key, date, ticket, dom),
                headers=[("X-Mailer", "GRC-Messagerie 3.2")],
                delay=5,
                style="utf-8?B",
            )
        )

    def notification(key, date, objet, *, case, ticket=None) -> Msg:
        dom, name = brand(date)
        text = (
            "Bonjour Madame MOREAU,\n\n"
            "Vous avez reçu un nouveau message dans votre espace personnel.\n\n"
            f"Objet du message : {objet}\n\n"
            f"Pour le consulter, connectez-vous à votre espace personnel sur www.{dom} "
            "(rubrique « Mes échanges »).\n\n"
            f"{name}\n\n"
            "Merci de ne pas répondre directement à ce courriel : cette adresse n'est pas "
            "consultée.\n"
        )
        html = (
            '<html><body style="font-family:Arial,sans-serif;font-size:14px">'
            f"<p><strong>{name}</strong></p>"
            "<p>Bonjour Madame MOREAU,</p>"
            "<p>Vous avez reçu un nouveau message dans votre espace personnel.</p>"
            f"<p>Objet du message&nbsp;: <em>{objet}</em></p>"
            f'<p><a href="https://www.{dom}/espacepersonnel/mes-echanges">Consulter mon message</a></p>'
            '<p style="color:#666;font-size:11px">Merci de ne pas répondre directement à ce '
            "courriel&nbsp;: cette adresse n'est pas consultée.</p></body></html>"
        )
        return add(
            Msg(
                key=key,
                folder="",
                date=date,
                frm=f"{name} <no-reply@{dom}>",
                to=ME,
                subject="Vous avez reçu un nouveau message",
                body=text,
                html=html,
                party="agency",
                counterpart=FT,
                automated=False,
                case=case,
                ticket=ticket,
                sender_person=None,
                mid=notif_id(key, dom),
                delay=11,
                style="utf-8?B",
            )
        )

    def agency_reply(
        key, date, ticket, subject, body, person, reply_to_key, *, case=STATUS, atts=()
    ) -> Msg:
        dom, _name = brand(date)
        frm = FT_AGENCE if dom == "francetravail.fr" else PE_AGENCE
        return add(
            Msg(
                key=key,
                folder="",
                date=date,
                frm=frm,
                to=JULIE,
                subject=f"RE: [Demande n° {ticket}] {subject}",
                body=body,
                party="agency",
                counterpart=FT,
                automated=False,
                case=case,
                ticket=ticket,
                sender_person=person,
                mid=crm_id(key, date, ticket, dom),
                reply_to_key=reply_to_key,
                headers=[("X-Mailer", "GRC-Messagerie 3.2")],
                atts=list(atts),
                delay=9,
                style="utf-8?B",
            )
        )

    def other(
        key, date, frm, subject, body, *, automated, person, folder="", to=JULIE, mid=None, **kw
    ) -> Msg:
        return add(
            Msg(
                key=key,
                folder=folder,
                date=date,
                frm=frm,
                to=to,
                subject=subject,
                body=body,
                party="other",
                counterpart=None,
                automated=automated,
                case=None,
                ticket=None,
                sender_person=person,
                mid=mid or plain_id(key, addr_domain(frm)),
                **kw,
            )
        )

    # ======================================================================== ordinary, early 2020
    other(
        "news-2020-02",
        "2020-02-06 08:00:00",
        "La Fabrique du numérique solidaire <lettre@fabrique-numerique-solidaire.org>",
        "La lettre de la Fabrique – février 2020",
        "Bonjour à toutes et à tous,\n\n"
        "Au sommaire ce mois-ci :\n"
        "- retour sur les rencontres régionales de la médiation numérique ;\n"
        "- un nouveau module de formation « accompagner les démarches en ligne sans faire à "
        "la place » ;\n"
        "- l'agenda des ateliers de mars.\n\n"
        "Bonne lecture, et à bientôt !\n"
        "L'équipe de la Fabrique\n\n"
        "Vous recevez cette lettre car vous êtes inscrite à notre liste. Se désinscrire : "
        "https://fabrique-numerique-solidaire.org/desinscription\n",
        automated=True,
        person=None,
        to=ME,
        headers=[
            ("List-Id", "Lettre de la Fabrique <lettre.fabrique-numerique-solidaire.org>"),
            ("List-Unsubscribe", "<https://fabrique-numerique-solidaire.org/desinscription>"),
            ("Precedence", "bulk"),
        ],
    )

    # ======================================================================== story (a) controle-2020
    ctrl_text = (
        "Madame,\n\n"
        "Comme suite à notre entretien téléphonique de ce jour, je vous confirme que votre "
        "dossier de demandeuse d'emploi fait l'objet d'un CONTRÔLE DE LA RECHERCHE D'EMPLOI.\n\n"
        "Vous devez nous transmettre SOUS 48 HEURES, en réponse à ce courriel, et au plus tard "
        "AVANT LE 21/02/2020, l'ENSEMBLE DES JUSTIFICATIFS de vos démarches de recherche "
        "d'emploi depuis votre inscription (candidatures, réponses d'employeurs, contacts, "
        "prospection, formations, etc.).\n\n"
        "Vous devez également METTRE À JOUR VOTRE PROFIL DE COMPÉTENCES dans votre espace "
        "personnel sur pole-emploi.fr.\n\n"
        "Votre dossier sera examiné par la commission le 21/02/2020.\n\n"
        "En l'absence de réponse de votre part dans le délai indiqué, votre dossier sera "
        "étudié en l'état.\n\n"
        "Cordialement,\n\n"
        "Sandrine Lefebvre\n"
        "Conseillère – Équipe contrôle de la recherche d'emploi\n"
        "Pôle emploi Île-de-France\n"
    )
    red = 'style="color:#ff0000"'
    ctrl_html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
        '<body style="font-family:Calibri,Arial,sans-serif;font-size:11pt">'
        "<p>Madame,</p>"
        "<p>Comme suite à notre entretien téléphonique de ce jour, je vous confirme que votre dossier "
        "de demandeuse d'emploi fait l'objet d'un "
        f"<span {red}><b><u>contrôle de la recherche d'emploi</u></b></span>.</p>"
        f"<p>Vous devez nous transmettre <span {red}><b><u>sous 48 heures</u></b></span>, en réponse "
        f"à ce courriel, et au plus tard <span {red}><b><u>avant le 21/02/2020</u></b></span>, "
        f"<span {red}><b><u>l'ensemble des justificatifs</u></b></span> de vos démarches de recherche "
        "d'emploi depuis votre inscription (candidatures, réponses d'employeurs, contacts, "
        "prospection, formations, etc.).</p>"
        f"<p>Vous devez également <span {red}><b><u>mettre à jour votre profil de compétences</u></b></span> "
        "dans votre espace personnel sur pole-emploi.fr.</p>"
        "<p>Votre dossier sera examiné par la commission le <b>21/02/2020</b>.</p>"
        f"<p><span {red}><b>En l'absence de réponse de votre part dans le délai indiqué, votre dossier "
        "sera étudié en l'état.</b></span></p>"
        "<p>Cordialement,</p>"
        "<p>Sandrine Lefebvre<br>Conseillère – Équipe contrôle de la recherche d'emploi<br>"
        "Pôle emploi Île-de-France</p></body></html>"
    )
    add(
        Msg(
            key="ctrl-demande",
            folder="",
            date="2020-02-19 11:14:37",
            frm=CONTROLE,
            to=JULIE,
            subject="Contrôle de la recherche d'emploi – justificatifs à transmettre sous 48 heures",
            body=ctrl_text,
            html=ctrl_html,
            party="agency",
            counterpart=FT,
            automated=False,
            case=CONTROLE_CASE,
            ticket=None,
            sender_person="Sandrine Lefebvre",
            mid=f"{_h('exch', 'ctrl1')[:32].upper()}@EXMBX07.pole-emploi.fr",
            headers=[
                ("Importance", "high"),
                ("X-Priority", "1"),
                ("X-MS-Has-Attach", ""),
                ("Content-Language", "fr-FR"),
            ],
            agent="Microsoft Outlook 16.0",
            delay=23,
            style="utf-8?Q",
        )
    )

    sent(
        "cae-convention-ask",
        "2020-02-19 15:20:05",
        "Coopérative Ouvrage – Accueil <accueil@cooperative-ouvrage.coop>",
        "Convention CAE / Pôle emploi – demande urgente",
        "Bonjour Élodie,\n\n"
        "Pôle emploi vient de m'appeler : mon dossier fait l'objet d'un contrôle de recherche "
        "d'emploi et je dois envoyer tous mes justificatifs avant vendredi. Je voudrais joindre "
        "la convention qui lie la coopérative à Pôle emploi, pour montrer que mon activité "
        "d'entrepreneure-salariée est bien une démarche de retour à l'emploi.\n\n"
        "Est-ce que tu pourrais me l'envoyer au plus vite ? Désolée pour l'urgence.\n\n"
        "Merci beaucoup,\nJulie" + SIG,
        agent=TB68,
    )

    sent(
        "ctrl-envoi-1",
        "2020-02-19 16:02:48",
        CONTROLE,
        "Re: Contrôle de la recherche d'emploi – justificatifs à transmettre sous 48 heures",
        "Madame Lefebvre,\n\n"
        "Je fais suite à votre appel et à votre courriel de ce matin.\n\n"
        "Vous trouverez ci-joint un premier ensemble de justificatifs :\n"
        "- mon CV à jour ;\n"
        "- le tableau récapitulatif de mes candidatures depuis juillet 2019.\n\n"
        "Je vous envoie dans la foulée, en plusieurs messages, les autres pièces (convention "
        "de ma coopérative d'activité et d'emploi, copies de mes candidatures envoyées).\n\n"
        "Je vous prie d'agréer, Madame, mes salutations distinguées.\n\n"
        "Julie Moreau\nIdentifiant Pôle emploi : " + ID_FT + "\n" + SIG,
        case=CONTROLE_CASE,
        counterpart=FT,
        agent=TB68,
        reply_to_key="ctrl-demande",
        atts=[
            Att("CV_Julie_Moreau_2020.pdf", "pdf", "CV - Julie Moreau - 2020"),
            Att("recapitulatif_candidatures.png", "png"),
        ],
    )

    other(
        "cae-convention-reponse",
        "2020-02-20 09:02:11",
        "Élodie Garnier <e.garnier@cooperative-ouvrage.coop>",
        "Re: Convention CAE / Pôle emploi – demande urgente",
        "Bonjour Julie,\n\n"
        "Voici la convention de partenariat signée avec Pôle emploi (version 2019).\n"
        "Je t'ajoute aussi l'attestation qui précise que tu es entrepreneure-salariée de la "
        "coopérative depuis septembre. Courage pour le contrôle, ça arrive à d'autres "
        "personnes de la coopérative en ce moment.\n\n"
        "Élodie\n\n--\nÉlodie Garnier\nChargée d'accueil – Coopérative Ouvrage (CAE)\n",
        automated=False,
        person="Élodie Garnier",
        reply_to_key="cae-convention-ask",
        atts=[
            Att(
                "convention_Ouvrage_PoleEmploi_2019.pdf",
                "pdf",
                "Convention CAE Ouvrage - Pole emploi",
            ),
            Att("attestation_entrepreneure_salariee_JMoreau.pdf", "pdf", "Attestation J. Moreau"),
        ],
        agent="Roundcube Webmail/1.4.2",
        delay=31,
    )

    sent(
        "ctrl-envoi-2",
        "2020-02-20 10:31:19",
        CONTROLE,
        "Re: Contrôle de la recherche d'emploi – justificatifs à transmettre sous 48 heures",
        "Madame Lefebvre,\n\n"
        "Deuxième envoi de justificatifs, comme annoncé hier :\n"
        "- la convention de partenariat entre ma coopérative d'activité et d'emploi "
        "(Coopérative Ouvrage) et Pôle emploi ;\n"
        "- l'attestation de la coopérative indiquant mon statut d'entrepreneure-salariée.\n\n"
        "Mon activité au sein de la coopérative fait partie de ma recherche d'emploi : je "
        "prospecte des clients pour développer mon activité de formatrice.\n\n"
        "Je vous écris exceptionnellement depuis mon ancienne adresse, merci de continuer à "
        "utiliser julie.moreau@exemple-perso.fr pour me répondre.\n\n"
        "Cordialement,\nJulie Moreau\n",
        frm=JULIE_OLD,
        reply_to=JULIE,
        case=CONTROLE_CASE,
        counterpart=FT,
        agent=TB68,
        reply_to_key="ctrl-envoi-1",
        atts=[
            Att(
                "convention_Ouvrage_PoleEmploi_2019.pdf",
                "pdf",
                "Convention CAE Ouvrage - Pole emploi",
            ),
            Att("attestation_entrepreneure_salariee_JMoreau.pdf", "pdf", "Attestation J. Moreau"),
        ],
    )

    sent(
        "ctrl-envoi-3",
        "2020-02-20 21:47:02",
        CONTROLE,
        "Re: Contrôle de la recherche d'emploi – justificatifs à transmettre sous 48 heures",
        "Madame Lefebvre,\n\n"
        "Voici mon dernier envoi : des captures d'écran de candidatures et de messages de "
        "prospection envoyés entre octobre 2019 et janvier 2020 (le détail complet figure dans "
        "le tableau transmis hier).\n\n"
        "J'ai également mis à jour mon profil de compétences dans mon espace personnel cet "
        "après-midi, comme vous me l'aviez demandé.\n\n"
        "Pourriez-vous me confirmer la bonne réception de l'ensemble de ces documents avant la "
        "commission de demain ?\n\n"
        "Je vous remercie par avance.\n\n"
        "Cordialement,\nJulie Moreau\nIdentifiant Pôle emploi : " + ID_FT + "\n" + SIG,
        case=CONTROLE_CASE,
        counterpart=FT,
        agent=TB68,
        reply_to_key="ctrl-envoi-2",
        atts=[Att("candidature_oct2019.png", "png"), Att("prospection_janv2020.png", "png")],
    )

    sent(
        "ami-controle",
        "2020-02-21 22:10:40",
        "Camille Roux <camille.roux@courriel-libre.fr>",
        "Journée de dingue",
        "Coucou Camille,\n\n"
        "Tu ne devineras jamais : mercredi, Pôle emploi m'a appelée pour un contrôle « "
        "aléatoire », puis m'a envoyé un mail plein de mots en rouge souligné, avec 48 heures "
        "pour tout prouver. J'ai passé deux jours à scanner, faire des captures d'écran et "
        "fouiller dans mes mails envoyés. Et bien sûr, aucune nouvelle depuis.\n\n"
        "Le pire c'est que je ne touche même pas d'allocation… Je n'ose pas imaginer pour "
        "quelqu'un qui en dépend.\n\n"
        "Un verre la semaine prochaine pour décompresser ?\n\nBises,\nJulie\n",
        agent=TB68,
    )

    other(
        "ami-controle-reponse",
        "2020-02-22 10:33:54",
        "Camille Roux <camille.roux@courriel-libre.fr>",
        "Re: Journée de dingue",
        "Oh la la, quelle histoire ! Tu as bien fait de tout envoyer tout de suite.\n"
        "Ma sœur a eu la même chose l'an dernier, elle a attendu deux mois avant d'avoir une "
        "réponse…\n\n"
        "Partante pour un verre jeudi soir, au café habituel ?\n\nCamille\n\n"
        "> Le pire c'est que je ne touche même pas d'allocation…\n",
        automated=False,
        person="Camille Roux",
        reply_to_key="ami-controle",
        delay=14,
    )

    other(
        "banque-2020-03",
        "2020-03-03 07:12:00",
        "Banque Lumière <ne-pas-repondre@banque-lumiere.fr>",
        "Votre relevé de compte de février est disponible",
        "Madame MOREAU,\n\n"
        "Votre relevé de compte du mois de février 2020 est disponible dans votre espace "
        "client Banque Lumière, rubrique « Mes documents ».\n\n"
        "Pour votre sécurité, nous ne vous demanderons jamais vos codes par courriel.\n\n"
        "Banque Lumière – Service clients\n",
        automated=True,
        person=None,
        headers=[("Auto-Submitted", "auto-generated")],
    )

    sent(
        "ctrl-relance",
        "2020-03-12 09:20:33",
        CONTROLE,
        "Relance : contrôle de ma recherche d'emploi – justificatifs envoyés les 19 et 20/02",
        "Madame Lefebvre,\n\n"
        "Je me permets de revenir vers vous au sujet du contrôle de ma recherche d'emploi.\n\n"
        "Comme demandé, je vous ai transmis l'ensemble de mes justificatifs dans le délai de "
        "48 heures, en trois envois, les 19 et 20 février, et j'ai mis à jour mon profil de "
        "compétences. Je n'ai depuis reçu aucun accusé de réception ni aucune information sur "
        "la décision de la commission du 21 février.\n\n"
        "Pourriez-vous m'indiquer où en est mon dossier et si des pièces complémentaires sont "
        "nécessaires ?\n\n"
        "Je vous remercie par avance de votre retour.\n\n"
        "Cordialement,\nJulie Moreau\nIdentifiant Pôle emploi : " + ID_FT + "\n" + SIG,
        case=CONTROLE_CASE,
        counterpart=FT,
        agent=TB68,
        reply_to_key="ctrl-envoi-3",
    )

    other(
        "news-2020-04",
        "2020-04-02 16:30:00",
        "Digital Inclusion Network <digest@digitalinclusion-network.org>",
        "Digital Inclusion Digest – April 2020",
        "Hello everyone,\n\n"
        "This month: remote support during the lockdown, free tools for video calls, and a "
        "call for stories from digital helpers across Europe.\n\n"
        "Stay safe,\nThe Digital Inclusion Network team\n\n"
        "Unsubscribe: https://digitalinclusion-network.org/unsubscribe\n",
        automated=True,
        person=None,
        to=ME,
        headers=[
            ("List-Unsubscribe", "<https://digitalinclusion-network.org/unsubscribe>"),
            ("Precedence", "list"),
        ],
    )

    add(
        Msg(
            key="ctrl-cloture",
            folder="",
            date="2020-04-16 14:03:12",
            frm=CONTROLE,
            to=JULIE,
            subject="Contrôle de la recherche d'emploi – clôture de votre dossier",
            body="Madame,\n\n"
            "Nous vous informons que le contrôle de votre recherche d'emploi, engagé le "
            "19/02/2020, est clôturé.\n\n"
            "Au vu des éléments transmis, aucune suite n'est donnée : votre inscription sur la "
            "liste des demandeurs d'emploi est maintenue sans changement.\n\n"
            "Compte tenu du contexte sanitaire, nous vous prions de bien vouloir excuser le "
            "délai de traitement de votre dossier.\n\n"
            "Cordialement,\n\n"
            "Bruno Tessier\n"
            "Équipe contrôle de la recherche d'emploi\n"
            "Pôle emploi Île-de-France\n",
            party="agency",
            counterpart=FT,
            automated=False,
            case=CONTROLE_CASE,
            ticket=None,
            sender_person="Bruno Tessier",
            mid=f"{_h('exch', 'ctrl2')[:32].upper()}@EXMBX04.pole-emploi.fr",
            headers=[("Content-Language", "fr-FR")],
            agent="Microsoft Outlook 16.0",
            delay=41,
            style="utf-8?Q",
        )
    )

    # ======================================================================== ordinary, autumn 2023
    other(
        "librairie-commande",
        "2023-10-12 19:45:10",
        "Librairie Les Mots Passants <commandes@lesmotspassants.fr>",
        "Confirmation de votre commande n° LMP-58231",
        "Bonjour Julie,\n\n"
        "Merci pour votre commande n° LMP-58231 passée le 12/10/2023.\n\n"
        "- « Le guide des droits des chômeurs et précaires » (1 ex.) : 18,00 €\n"
        "- « Coopérer pour entreprendre » (1 ex.) : 22,00 €\n"
        "Frais de port : offerts\nTotal : 40,00 €\n\n"
        "Vous recevrez un courriel dès l'expédition de votre colis.\n\n"
        "À bientôt,\nL'équipe des Mots Passants\n",
        automated=True,
        person=None,
        to=ME,
        headers=[("Auto-Submitted", "auto-generated")],
    )

    other(
        "librairie-expedition",
        "2023-10-14 11:02:44",
        "Librairie Les Mots Passants <commandes@lesmotspassants.fr>",
        "Votre commande n° LMP-58231 a été expédiée",
        "Bonjour Julie,\n\n"
        "Bonne nouvelle : votre commande n° LMP-58231 a été remise au transporteur aujourd'hui.\n"
        "Numéro de suivi : 6A21948837104\n\n"
        "L'équipe des Mots Passants\n",
        automated=True,
        person=None,
        to=ME,
    )

    other(
        "greffe-rejet",
        "2023-10-24 10:02:19",
        "Greffe du tribunal de commerce de Villebrune <ne-pas-repondre@greffe-tc-villebrune.fr>",
        "Formalité n° M2023-014772 – demande de régularisation",
        "Madame,\n\n"
        "La formalité n° M2023-014772 (transformation de SARL en SCOP SA – société ATELIER "
        "MÉDIANE) déposée le 28/09/2023 ne peut pas être inscrite en l'état.\n\n"
        "Motif : l'attestation de parution de l'avis de transformation dans un support "
        "habilité à recevoir les annonces légales est manquante.\n\n"
        "Vous disposez d'un délai de quinze jours pour régulariser votre dossier. À défaut, la "
        "formalité sera rejetée.\n\n"
        "Le greffe du tribunal de commerce de Villebrune\n"
        "Message généré automatiquement – merci de ne pas répondre.\n",
        automated=True,
        person=None,
        to=ME,
    )

    sent(
        "compta-greffe",
        "2023-10-24 11:30:57",
        "Olivier Perrin <o.perrin@cabinet-perrin-associes.fr>",
        "Atelier Médiane : le greffe bloque la transformation",
        "Bonjour Olivier,\n\n"
        "Je reçois ce matin un message du greffe : la transformation d'Atelier Médiane en SCOP "
        "n'est pas inscrite, il manque l'attestation de parution de l'annonce légale. Je croyais "
        "que c'était inclus dans le dépôt de septembre ?\n\n"
        "C'est assez urgent de mon côté : tant que le Kbis me mentionne comme cogérante, je ne "
        "peux pas faire valoir mes droits au chômage pour la période qui suit la fin de mon "
        "mandat.\n\n"
        "Merci de me dire ce qu'il faut faire.\n\nJulie" + SIG,
    )

    other(
        "compta-greffe-reponse",
        "2023-10-25 09:15:40",
        "Olivier Perrin <o.perrin@cabinet-perrin-associes.fr>",
        "RE: Atelier Médiane : le greffe bloque la transformation",
        "Bonjour Julie,\n\n"
        "Effectivement, l'annonce a été commandée mais le journal ne l'a publiée qu'avec un "
        "erratum sur le capital, qui doit lui-même paraître. Je relance le journal aujourd'hui "
        "et je redéposerai le dossier complet dès réception de l'attestation.\n\n"
        "Compte tenu des délais habituels du greffe, je pense qu'il faut compter fin décembre, "
        "voire début janvier, pour avoir le nouveau Kbis.\n\n"
        "Bien à vous,\n\nOlivier Perrin\nExpert-comptable – Cabinet Perrin & Associés\n",
        automated=False,
        person="Olivier Perrin",
        reply_to_key="compta-greffe",
        agent="Microsoft Outlook 16.0",
        delay=18,
    )

    # ======================================================================== story (b) status, ticket 1
    t1 = "2023-418552"
    subj1 = "Situation après transformation de ma société en SCOP – ouverture de droits"
    text1 = (
        "Madame, Monsieur,\n\n"
        "Je suis inscrite comme demandeuse d'emploi depuis le 2 novembre 2023 (identifiant "
        f"{ID_FT}) et je souhaite savoir comment ma situation doit être prise en compte pour "
        "l'ouverture de mes droits.\n\n"
        "Jusqu'au 30 septembre 2023, j'étais cogérante non salariée de la SARL Atelier Médiane. "
        "Lors de l'assemblée générale du 15 septembre, la société a été transformée en SCOP ; "
        "j'ai quitté mes fonctions de gérante et j'ai été salariée de la SCOP du 1er au 31 "
        "octobre 2023, date de fin de mon contrat.\n\n"
        "Le greffe du tribunal de commerce n'a pas encore inscrit la transformation : mon Kbis "
        "me mentionne donc toujours comme gérante, alors que ce n'est plus le cas. Lors de mon "
        "inscription en ligne, aucune case ne correspondait à cette situation.\n\n"
        "Pouvez-vous m'indiquer les documents à vous fournir et ce que je dois déclarer lors de "
        "mon actualisation ?\n\n"
        "Je vous remercie par avance.\n\n"
        "Julie Moreau\n"
    )
    sent(
        "s1-demande",
        "2023-11-06 09:41:12",
        PE_AGENCE,
        subj1,
        text1 + SIG,
        case=STATUS,
        ticket=t1,
        counterpart=FT,
    )
    ack("s1-ar", "2023-11-06 09:43:50", t1, "s1-demande", "06/11/2023")

    sent(
        "hugo-repas",
        "2023-11-10 21:03:27",
        "Hugo Lemaire <hugo.lemaire@courriel-libre.fr>",
        "Re: Dîner samedi 18 ?",
        "Avec plaisir ! J'apporte le dessert. Et promis, je ne parle pas de Pôle emploi de "
        "toute la soirée :)\n\nJulie\n",
        reply_to_key="hugo-invitation",
    )

    agency_reply(
        "s1-reponse",
        "2023-11-14 15:20:41",
        t1,
        subj1,
        "Bonjour Madame Moreau,\n\n"
        "Nous avons bien pris connaissance de votre situation.\n\n"
        "Afin d'étudier vos droits, merci de nous transmettre :\n"
        "- le procès-verbal de l'assemblée générale ayant décidé la transformation de la société ;\n"
        "- les nouveaux statuts de la SCOP ;\n"
        "- un extrait Kbis faisant apparaître la fin de votre mandat de gérante.\n\n"
        "Vous pouvez répondre directement à ce courriel en joignant ces documents.\n\n"
        "Cordialement,\n\n"
        "Nadia Benali\nConseillère indemnisation\nPôle emploi – Agence Les Tilleuls\n\n"
        "> " + subj1 + "\n",
        "Nadia Benali",
        "s1-demande",
    )

    sent(
        "s1-complement",
        "2023-11-15 08:57:36",
        PE_AGENCE,
        f"Re: [Demande n° {t1}] {subj1}",
        "Bonjour Madame Benali,\n\n"
        "Merci pour votre réponse. Vous trouverez ci-joint le procès-verbal de l'assemblée "
        "générale du 15 septembre 2023 et les nouveaux statuts de la SCOP Atelier Médiane.\n\n"
        "Pour le Kbis, je ne peux malheureusement pas encore vous le fournir : le greffe du "
        "tribunal de commerce a demandé une pièce complémentaire (attestation de parution de "
        "l'annonce légale) et notre expert-comptable a dû redéposer le dossier. Le procès-verbal "
        "mentionne cependant explicitement la fin de mon mandat au 30 septembre 2023.\n\n"
        "Pouvez-vous étudier mes droits sur la base de ces documents ?\n\n"
        "Bien cordialement,\nJulie Moreau\n" + SIG,
        case=STATUS,
        ticket=t1,
        counterpart=FT,
        reply_to_key="s1-reponse",
        atts=[
            Att(
                "PV_AG_2023-09-15_Atelier_Mediane.pdf", "pdf", "PV AG 15/09/2023 - Atelier Mediane"
            ),
            Att("Statuts_SCOP_Atelier_Mediane.pdf", "pdf", "Statuts SCOP Atelier Mediane"),
        ],
    )

    closure("s1-cloture", "2023-11-21 11:05:02", t1, subj1)

    # ---- ticket 2: re-explains, re-pastes ticket-1 text, quotes the old number
    t2 = "2023-431907"
    subj2 = f"Suite de ma demande n° {t1} clôturée – documents SCOP transmis"
    sent(
        "s2-demande",
        "2023-11-22 19:12:08",
        PE_AGENCE,
        subj2,
        "Madame, Monsieur,\n\n"
        f"Ma demande n° {t1} a été clôturée hier alors que je venais d'envoyer, le 15 novembre, "
        "les documents demandés par Mme Benali (procès-verbal d'assemblée générale et statuts, "
        "que je joins à nouveau). Je n'ai reçu aucune réponse sur le fond.\n\n"
        "J'ai essayé d'appeler le 39 49 : on m'a indiqué qu'on ne pouvait pas me passer ma "
        "conseillère et qu'il fallait écrire.\n\n"
        "Je vous recopie ci-dessous mon message initial du 6 novembre :\n\n"
        + "".join(f"> {line}\n" if line else ">\n" for line in text1.splitlines())
        + "\nMerci de bien vouloir étudier mon dossier.\n\nJulie Moreau\n"
        + SIG,
        case=STATUS,
        ticket=t2,
        counterpart=FT,
        atts=[
            Att(
                "PV_AG_2023-09-15_Atelier_Mediane.pdf", "pdf", "PV AG 15/09/2023 - Atelier Mediane"
            ),
            Att("Statuts_SCOP_Atelier_Mediane.pdf", "pdf", "Statuts SCOP Atelier Mediane"),
        ],
    )
    ack("s2-ar", "2023-11-22 19:14:31", t2, "s2-demande", "22/11/2023")
    notification(
        "s2-notif", "2023-12-01 10:22:15", "Votre demande d'ouverture de droits", case=STATUS
    )
    closure("s2-cloture", "2023-12-05 17:40:09", t2, subj2)

    # ---- ticket 3: new advisor, new explanation, no old number quoted
    t3 = "2023-447120"
    subj3 = "Ouverture de droits ARE – ancienne cogérante d'une SCOP en cours d'immatriculation"
    sent(
        "s3-demande",
        "2023-12-06 08:30:44",
        PE_AGENCE,
        subj3,
        "Madame, Monsieur,\n\n"
        "Dans mon espace personnel, M. Thomas Girard m'indique que ma demande relève du service "
        "indemnisation et que mon dossier lui a été transmis ; la demande a ensuite été close. "
        "Je me permets donc d'écrire de nouveau.\n\n"
        "En résumé : j'ai été cogérante non salariée d'Atelier Médiane jusqu'au 30/09/2023, "
        "puis salariée de cette même société devenue SCOP du 01/10 au 31/10/2023. Je suis "
        "inscrite depuis le 02/11/2023 et aucune décision n'a été prise sur mes droits. Le "
        "greffe n'a toujours pas enregistré la transformation de la société, ce qui explique "
        "que le Kbis n'est pas à jour.\n\n"
        "Vous trouverez ci-joint le récépissé du nouveau dépôt au greffe.\n\n"
        "Que me manque-t-il pour que mes droits soient étudiés ?\n\n"
        "Cordialement,\nJulie Moreau\n" + SIG,
        case=STATUS,
        ticket=t3,
        counterpart=FT,
        atts=[
            Att("recepisse_depot_greffe_M2023-014772.pdf", "pdf", "Recepisse depot M2023-014772")
        ],
    )
    ack("s3-ar", "2023-12-06 08:32:58", t3, "s3-demande", "06/12/2023")

    other(
        "compta-annonce",
        "2023-12-11 16:20:03",
        "Olivier Perrin <o.perrin@cabinet-perrin-associes.fr>",
        "Atelier Médiane – annonce légale parue, dossier redéposé",
        "Bonjour Julie,\n\n"
        "L'attestation de parution (avec l'erratum) est enfin arrivée, j'ai redéposé le dossier "
        "complet au greffe ce matin. Je vous transfère le récépissé dès que je l'ai.\n\n"
        "Le greffe annonce trois à quatre semaines de délai en ce moment.\n\n"
        "Bien à vous,\n\nOlivier Perrin\nExpert-comptable – Cabinet Perrin & Associés\n",
        automated=False,
        person="Olivier Perrin",
        agent="Microsoft Outlook 16.0",
        delay=15,
    )

    agency_reply(
        "s3-reponse",
        "2023-12-13 16:45:27",
        t3,
        subj3,
        "Bonjour Madame,\n\n"
        "Votre dossier a bien été transmis au service indemnisation.\n\n"
        "Tant que l'extrait Kbis vous mentionne comme gérante, nous ne pouvons pas prendre de "
        "décision : le système considère que vous exercez toujours un mandat social. Pour "
        "avancer, merci de nous adresser l'attestation employeur correspondant à votre période "
        "de salariat d'octobre 2023, ainsi que tout document attestant de la fin de votre mandat.\n\n"
        "Cordialement,\n\n"
        "Claire Dumont\nService indemnisation\nPôle emploi – Agence Les Tilleuls\n",
        "Claire Dumont",
        "s3-demande",
    )

    sent(
        "s3-complement",
        "2023-12-14 09:10:16",
        PE_AGENCE,
        f"Re: [Demande n° {t3}] {subj3}",
        "Bonjour Madame Dumont,\n\n"
        "Merci pour votre retour. Vous trouverez ci-joint l'attestation employeur de la SCOP "
        "pour la période du 01/10 au 31/10/2023.\n\n"
        "Concernant le Kbis : notre expert-comptable a redéposé le dossier le 11 décembre, "
        "après la parution de l'annonce légale exigée par le greffe du tribunal de commerce. "
        "Le greffe annonce trois à quatre semaines de délai. Le procès-verbal déjà transmis "
        "acte la fin de mon mandat au 30/09/2023.\n\n"
        "Je vous remercie de ne pas clôturer ma demande avant qu'une décision soit prise.\n\n"
        "Cordialement,\nJulie Moreau\n" + SIG,
        case=STATUS,
        ticket=t3,
        counterpart=FT,
        reply_to_key="s3-reponse",
        atts=[
            Att("attestation_employeur_oct2023.pdf", "pdf", "Attestation employeur - octobre 2023")
        ],
    )

    agency_reply(
        "s3-reponse-2",
        "2023-12-20 10:12:50",
        t3,
        subj3,
        "Bonjour Madame,\n\n"
        "Bien noté, l'attestation employeur a été ajoutée à votre dossier. Nous restons en "
        "attente de l'extrait Kbis à jour pour finaliser l'étude de vos droits. Merci de nous "
        "le faire parvenir dès que vous l'aurez.\n\n"
        "Cordialement,\n\n"
        "Claire Dumont\nService indemnisation\nPôle emploi – Agence Les Tilleuls\n",
        "Claire Dumont",
        "s3-complement",
    )
    closure("s3-cloture", "2023-12-22 09:00:37", t3, subj3)
    # ---- ticket 4: France Travail era; she still writes to the old pole-emploi.fr address
    other(
        "greffe-kbis",
        "2024-01-08 08:31:45",
        "Greffe du tribunal de commerce de Villebrune <ne-pas-repondre@greffe-tc-villebrune.fr>",
        "Formalité n° M2023-014772 – inscription effectuée",
        "Madame,\n\n"
        "La formalité n° M2023-014772 (société ATELIER MÉDIANE) a été inscrite au registre du "
        "commerce et des sociétés le 05/01/2024.\n\n"
        "Votre extrait Kbis à jour est disponible au téléchargement depuis votre compte.\n\n"
        "Le greffe du tribunal de commerce de Villebrune\n"
        "Message généré automatiquement – merci de ne pas répondre.\n",
        automated=True,
        person=None,
        to=ME,
    )

    t4 = "2024-006318"
    subj4 = f"Kbis à jour – reprise de mon dossier (demandes {t1} et {t3})"
    text4 = (
        "Madame, Monsieur,\n\n"
        f"Je reviens vers vous au sujet de mes demandes n° {t1} et n° {t3}, toutes deux "
        "clôturées sans décision sur mes droits.\n\n"
        "Le service indemnisation (Mme Dumont) attendait l'extrait Kbis à jour de la société "
        "Atelier Médiane. Le greffe du tribunal de commerce a enfin inscrit la transformation en "
        "SCOP le 5 janvier : vous trouverez le nouveau Kbis ci-joint. Il ne me mentionne plus "
        "comme gérante.\n\n"
        "Pour rappel : fin de mandat de cogérante le 30/09/2023, salariée de la SCOP du 01/10 au "
        "31/10/2023, inscrite depuis le 02/11/2023. Toutes les autres pièces (procès-verbal, "
        "statuts, attestation employeur) ont déjà été transmises.\n\n"
        "Pouvez-vous maintenant étudier l'ouverture de mes droits ?\n\n"
        "Cordialement,\nJulie Moreau\n"
    )
    sent(
        "s4-demande",
        "2024-01-10 14:02:21",
        PE_AGENCE,
        subj4,
        text4 + SIG,
        case=STATUS,
        ticket=t4,
        counterpart=FT,
        atts=[
            Att("Kbis_Atelier_Mediane_2024-01-05.pdf", "pdf", "Extrait Kbis - Atelier Mediane SCOP")
        ],
    )
    ack("s4-ar", "2024-01-10 14:04:06", t4, "s4-demande", "10/01/2024", auto_header=False)

    agency_reply(
        "s4-reponse",
        "2024-01-18 10:40:12",
        t4,
        subj4,
        "Bonjour Madame Moreau,\n\n"
        "Je reprends votre dossier. Le Kbis a bien été reçu, merci.\n\n"
        "Une période n'apparaît pas clairement dans vos déclarations : pouvez-vous me confirmer "
        "la date exacte de fin de votre contrat de travail avec la SCOP et si vous avez perçu "
        "une rémunération au titre du mois de novembre ?\n\n"
        "Dès réception de votre réponse, je transmets votre dossier pour décision.\n\n"
        "Bien cordialement,\n\n"
        "Julien Marchand\nConseiller\nFrance Travail – Agence Les Tilleuls\n",
        "Julien Marchand",
        "s4-demande",
    )

    sent(
        "s4-complement",
        "2024-01-18 12:15:49",
        FT_AGENCE,
        f"Re: [Demande n° {t4}] {subj4}",
        "Bonjour Monsieur Marchand,\n\n"
        "Mon contrat de travail avec la SCOP Atelier Médiane a pris fin le 31 octobre 2023, "
        "comme indiqué sur l'attestation employeur. Je n'ai perçu aucune rémunération pour le "
        "mois de novembre, ni de la SCOP ni d'un autre employeur, et je l'ai déclaré ainsi lors "
        "de mon actualisation.\n\n"
        "Merci de votre aide.\n\nCordialement,\nJulie Moreau\n" + SIG,
        case=STATUS,
        ticket=t4,
        counterpart=FT,
        reply_to_key="s4-reponse",
    )

    other(
        "phishing",
        "2024-01-17 06:58:02",
        "France Travail <securite@francetravail-verification.com>",
        "Action requise : mettez à jour vos coordonnées bancaires",
        "Cher(e) allocataire,\n\n"
        "Suite à la transformation de Pôle emploi en France Travail, vos coordonnées bancaires "
        "doivent être vérifiées sous 24h, sinon vos paiements seront suspendus.\n\n"
        "Cliquez ici pour confirmer : http://francetravail-verification.com/maj-rib\n\n"
        "Service Paiements France Travail\n",
        automated=True,
        person=None,
        folder=".Junk",
        to=ME,
        html="<html><body><p>Cher(e) allocataire,</p><p>Vos coordonnées bancaires doivent être "
        'vérifiées <b>sous 24h</b>.</p><p><a href="http://francetravail-verification.com/'
        'maj-rib">Confirmer mes informations</a></p></body></html>',
    )

    closure("s4-cloture", "2024-01-24 16:30:55", t4, subj4)

    # ---- ticket 5: fifth advisor, settles it
    t5 = "2024-019844"
    subj5 = "Toujours aucune décision sur mes droits – merci de ne pas clôturer avant réponse"
    sent(
        "s5-demande",
        "2024-01-25 09:05:30",
        FT_AGENCE,
        subj5,
        "Madame, Monsieur,\n\n"
        f"Ma demande n° {t4} a été clôturée hier, alors que M. Marchand m'avait indiqué qu'il "
        "transmettait mon dossier pour décision après ma réponse du 18 janvier. Je n'ai reçu "
        "aucune décision.\n\n"
        "Je suis inscrite depuis près de trois mois sans savoir si et quand je serai indemnisée. "
        "Je vous recopie mon précédent message :\n\n"
        + "".join(f"> {line}\n" if line else ">\n" for line in text4.splitlines())
        + "\nMerci de ne pas clôturer cette demande avant qu'une décision m'ait été notifiée.\n\n"
        "Julie Moreau\n" + SIG,
        case=STATUS,
        ticket=t5,
        counterpart=FT,
    )
    ack("s5-ar", "2024-01-25 09:07:14", t5, "s5-demande", "25/01/2024", auto_header=False)

    agency_reply(
        "s5-reponse",
        "2024-02-01 15:30:08",
        t5,
        subj5,
        "Bonjour Madame Moreau,\n\n"
        "Votre dossier a été régularisé : vos droits à l'allocation d'aide au retour à l'emploi "
        "sont ouverts à compter du 2 novembre 2023. Le rappel des allocations dues depuis cette "
        "date sera versé dans les prochains jours.\n\n"
        "La notification de décision est disponible dans votre espace personnel.\n\n"
        "Je vous prie de nous excuser pour le délai de traitement.\n\n"
        "Cordialement,\n\n"
        "Sophie Lambert\nConseillère indemnisation\nFrance Travail – Agence Les Tilleuls\n",
        "Sophie Lambert",
        "s5-demande",
    )
    notification(
        "s5-notif",
        "2024-02-01 15:34:40",
        "Notification de décision – allocation d'aide au retour à l'emploi",
        case=STATUS,
    )

    sent(
        "s5-merci",
        "2024-02-02 08:47:03",
        FT_AGENCE,
        f"Re: [Demande n° {t5}] {subj5}",
        "Bonjour Madame Lambert,\n\n"
        "Merci beaucoup pour votre réponse et pour la régularisation de mon dossier. J'ai bien "
        "trouvé la notification dans mon espace personnel.\n\n"
        "Bonne journée,\nJulie Moreau\n" + SIG,
        case=STATUS,
        ticket=t5,
        counterpart=FT,
        reply_to_key="s5-reponse",
    )
    sent(
        "ami-fin",
        "2024-02-02 19:30:12",
        "Camille Roux <camille.roux@courriel-libre.fr>",
        "Enfin !",
        "Camille,\n\n"
        "Ça y est : après trois mois, cinq conseillers différents et cinq demandes « clôturées », "
        "France Travail a enfin ouvert mes droits. Il a fallu attendre que le greffe daigne "
        "enregistrer la SCOP…\n\n"
        "On fête ça samedi ?\n\nJulie\n",
    )
    closure("s5-cloture", "2024-02-07 10:00:21", t5, subj5)

    other(
        "banque-rappel",
        "2024-02-09 07:05:00",
        "Banque Lumière <ne-pas-repondre@banque-lumiere.fr>",
        "Alerte : virement reçu sur votre compte",
        "Madame MOREAU,\n\n"
        "Un virement de 3 412,57 € a été crédité sur votre compte courant le 08/02/2024.\n"
        "Libellé : FRANCE TRAVAIL ARE RAPPEL 11/2023-01/2024\n\n"
        "Banque Lumière – Alertes\n",
        automated=True,
        person=None,
        headers=[("Auto-Submitted", "auto-generated")],
    )

    # ======================================================================== ordinary, winter 2023-2024
    other(
        "hugo-invitation",
        "2023-11-10 18:20:31",
        "Hugo Lemaire <hugo.lemaire@courriel-libre.fr>",
        "Dîner samedi 18 ?",
        "Salut Julie,\n\n"
        "On organise un petit dîner à la maison samedi 18 novembre, avec Camille et Samir. Tu es "
        "libre ?\n\nHugo\n",
        automated=False,
        person="Hugo Lemaire",
        delay=12,
    )
    other(
        "banque-2023-12",
        "2023-12-15 07:10:00",
        "Banque Lumière <ne-pas-repondre@banque-lumiere.fr>",
        "Votre relevé de compte de novembre est disponible",
        "Madame MOREAU,\n\n"
        "Votre relevé de compte du mois de novembre 2023 est disponible dans votre espace "
        "client, rubrique « Mes documents ».\n\n"
        "Pour votre sécurité, nous ne vous demanderons jamais vos codes par courriel.\n\n"
        "Banque Lumière – Service clients\n",
        automated=True,
        person=None,
        headers=[("Auto-Submitted", "auto-generated")],
    )
    other(
        "spam-gagnant",
        "2023-12-03 03:14:27",
        "Service Gagnants <gagnant@promo-gagnant-express.net>",
        "Félicitations ! Vous avez été sélectionnée",
        "Bonjour,\n\nVous avez été sélectionnée pour recevoir un robot cuiseur d'une valeur de "
        "899 €. Il vous suffit de régler les frais de port (1,95 €) :\n"
        "http://promo-gagnant-express.net/cadeau\n",
        automated=True,
        person=None,
        folder=".Junk",
        to=ME,
    )
    other(
        "news-2024-01",
        "2024-01-05 08:00:00",
        "La Fabrique du numérique solidaire <lettre@fabrique-numerique-solidaire.org>",
        "La lettre de la Fabrique – janvier 2024 : nos vœux",
        "Bonjour à toutes et à tous,\n\n"
        "Toute l'équipe vous souhaite une belle année 2024 !\n\n"
        "Au sommaire : le bilan des permanences numériques de 2023, un dossier sur la "
        "dématérialisation des services publics, et l'agenda des ateliers de janvier.\n\n"
        "L'équipe de la Fabrique\n\n"
        "Se désinscrire : https://fabrique-numerique-solidaire.org/desinscription\n",
        automated=True,
        person=None,
        to=ME,
        headers=[
            ("List-Id", "Lettre de la Fabrique <lettre.fabrique-numerique-solidaire.org>"),
            ("List-Unsubscribe", "<https://fabrique-numerique-solidaire.org/desinscription>"),
            ("Precedence", "bulk"),
        ],
    )
    # ======================================================================== contractor story
    ELAN_CAMPAGNE = "Élan Parcours Conseil <ne-pas-repondre@elanparcours-conseil.fr>"
    ELAN_RDV = "Élan Parcours Conseil – Rendez-vous <rendez-vous@elanparcours-conseil.fr>"
    PLANIF = "Élan Parcours – Planification <planification@relais-rdv.fr>"
    KARINE = "Karine Vasseur <k.vasseur@elanparcours-conseil.fr>"

    def firm(key, date, frm, subject, body, *, automated, person, folder="", **kw) -> Msg:
        dom = addr_domain(frm)
        prefix = "cmp." if automated else ""
        return add(
            Msg(
                key=key,
                folder=folder,
                date=date,
                frm=frm,
                to=kw.pop("to", JULIE),
                subject=subject,
                body=body,
                party="contractor",
                counterpart=FIRM,
                automated=automated,
                case=PRESTA,
                ticket=None,
                sender_person=person,
                mid=plain_id(key, ("campagnes." if automated else "") + dom, prefix),
                style="UTF-8?B" if automated else "UTF-8?Q",
                **kw,
            )
        )

    firm(
        "c-selection",
        "2023-11-16 10:12:40",
        ELAN_CAMPAGNE,
        "Votre accompagnement renforcé vers l'emploi – action requise",
        "Madame MOREAU Julie,\n\n"
        "Dans le cadre du programme national « Cap Activité+ » mis en œuvre pour le compte de "
        "Pôle emploi, vous avez été sélectionnée pour bénéficier d'un accompagnement renforcé "
        "vers l'emploi assuré par notre cabinet.\n\n"
        "Cet accompagnement est OBLIGATOIRE. Merci de prendre rendez-vous sous 8 jours sur notre "
        "plateforme : https://rdv.elanparcours-conseil.fr/cap-activite\n\n"
        "Sans réponse de votre part, votre conseiller en sera informé.\n\n"
        "L'équipe Élan Parcours Conseil\n"
        "Prestataire de services d'accompagnement\n",
        automated=True,
        person=None,
        folder=".Junk",
        to=ME,
        html='<html><body style="font-family:Verdana,sans-serif">'
        '<h2 style="color:#1d4e89">Cap Activité+</h2>'
        "<p>Madame MOREAU Julie,</p>"
        "<p>Dans le cadre du programme national « Cap Activité+ » mis en œuvre pour le compte de "
        "Pôle emploi, vous avez été sélectionnée pour bénéficier d'un accompagnement renforcé "
        "vers l'emploi assuré par notre cabinet.</p>"
        "<p>Cet accompagnement est <b>obligatoire</b>. Merci de prendre rendez-vous <b>sous 8 "
        'jours</b>&nbsp;:</p><p><a href="https://rdv.elanparcours-conseil.fr/cap-activite" '
        'style="background:#1d4e89;color:#fff;padding:8px 14px">Je prends rendez-vous</a></p>'
        "<p>Sans réponse de votre part, votre conseiller en sera informé.</p>"
        "<p>L'équipe Élan Parcours Conseil</p></body></html>",
        headers=[
            ("X-Mailer", "Campagnes Pro 4.2"),
            ("Precedence", "bulk"),
            ("List-Unsubscribe", "<mailto:desabonnement@elanparcours-conseil.fr>"),
        ],
    )

    tp = "2023-428340"
    subjp = (
        "Question : courriel d'un cabinet « Élan Parcours Conseil » – accompagnement obligatoire ?"
    )
    sent(
        "c-question",
        "2023-11-17 09:34:26",
        PE_AGENCE,
        subjp,
        "Bonjour,\n\n"
        "J'ai reçu hier un courriel d'un cabinet privé, Élan Parcours Conseil, qui m'annonce que "
        "j'ai été sélectionnée pour un « accompagnement renforcé » obligatoire, dans le cadre "
        "d'un programme appelé « Cap Activité+ », et me demande de prendre rendez-vous sous 8 "
        "jours.\n\n"
        "Je n'ai aucun message à ce sujet dans mon espace personnel et je ne connais pas ce "
        "cabinet. S'agit-il bien d'une démarche de Pôle emploi ? Suis-je obligée d'y donner "
        "suite ?\n\n"
        "Merci de votre réponse.\n\nJulie Moreau\nIdentifiant : " + ID_FT + "\n" + SIG,
        case=PRESTA,
        ticket=tp,
        counterpart=FT,
    )
    ack("c-question-ar", "2023-11-17 09:36:02", tp, "c-question", "17/11/2023", case=PRESTA)
    agency_reply(
        "c-question-reponse",
        "2023-11-21 14:10:33",
        tp,
        subjp,
        "Bonjour Madame Moreau,\n\n"
        "Après vérification, vous n'êtes pas concernée par ce dispositif : il s'agit d'une "
        "erreur. Vous pouvez ne pas tenir compte de ce courriel.\n\n"
        "Cordialement,\n\n"
        "Marc Aubert\nConseiller référent\nPôle emploi – Agence Les Tilleuls\n",
        "Marc Aubert",
        "c-question",
        case=PRESTA,
    )
    closure("c-question-cloture", "2023-11-24 18:02:44", tp, subjp, case=PRESTA)

    firm(
        "c-planif",
        "2023-11-28 11:03:15",
        PLANIF,
        "Suite à notre appel – accompagnement Cap Activité+",
        "Madame Moreau,\n\n"
        "Comme convenu lors de notre échange téléphonique de ce matin, je vous confirme que "
        "l'accompagnement Cap Activité+ est un dispositif national de Pôle emploi. Votre "
        "conseiller n'en est pas forcément informé, mais votre participation reste obligatoire.\n\n"
        "Je fais déposer dès aujourd'hui un message dans votre espace personnel Pôle emploi pour "
        "vous le confirmer.\n\n"
        "Merci de confirmer votre premier rendez-vous sous 72 heures en répondant à ce courriel "
        "ou sur https://rdv.elanparcours-conseil.fr/cap-activite\n\n"
        "Cordialement,\n\n"
        "Laetitia Roussel\nConseillère planification – pour Élan Parcours Conseil\n",
        automated=False,
        person="Laetitia Roussel",
        delay=9,
    )

    sent(
        "c-objection",
        "2023-11-28 13:20:07",
        PLANIF,
        "Re: Suite à notre appel – accompagnement Cap Activité+",
        "Madame Roussel,\n\n"
        f"Comme je vous l'ai dit au téléphone, mon conseiller m'a répondu par écrit le 21 "
        f"novembre (demande n° {tp}) que je n'étais pas concernée par ce dispositif et qu'il "
        "s'agissait d'une erreur.\n\n"
        "J'attends donc le message dans mon espace personnel dont vous m'avez parlé avant de "
        "prendre rendez-vous.\n\n"
        "Cordialement,\nJulie Moreau\n" + SIG,
        case=PRESTA,
        counterpart=FIRM,
        reply_to_key="c-planif",
    )

    notification(
        "c-notif",
        "2023-11-29 09:48:30",
        "Information – prestation d'accompagnement Élan Parcours Conseil",
        case=PRESTA,
    )

    sent(
        "c-accord",
        "2023-11-29 12:05:51",
        PLANIF,
        "Re: Suite à notre appel – accompagnement Cap Activité+",
        "Madame Roussel,\n\n"
        "J'ai bien reçu le message dans mon espace personnel. Je prends donc rendez-vous : le "
        "mardi 5 décembre à 10 h me conviendrait.\n\n"
        "Cordialement,\nJulie Moreau\n" + SIG,
        case=PRESTA,
        counterpart=FIRM,
        reply_to_key="c-objection",
    )

    def visio(code: str) -> str:
        return f"https://visio.elanparcours-conseil.fr/salle/{code}"

    firm(
        "c-rdv1-confirm",
        "2023-11-30 08:15:02",
        ELAN_RDV,
        "Confirmation de votre rendez-vous du mardi 5 décembre 2023 à 10h00",
        "Bonjour Julie MOREAU,\n\n"
        "Votre rendez-vous Cap Activité+ est confirmé :\n"
        "- date : mardi 5 décembre 2023 à 10h00 (durée : 1 h)\n"
        "- accompagnatrice : Karine Vasseur\n"
        "- modalité : visioconférence\n\n"
        f"Lien de connexion : {visio('cap-7Q2K-44')}\n\n"
        "En cas d'empêchement, merci de nous prévenir au moins 48 heures à l'avance.\n\n"
        "Élan Parcours Conseil\nCe message est envoyé automatiquement.\n",
        automated=True,
        person=None,
        folder=".Junk",
        headers=[("X-Mailer", "AgendaPro Notifications")],
    )
    firm(
        "c-rdv1-rappel",
        "2023-12-04 10:00:03",
        ELAN_RDV,
        "Rappel : votre rendez-vous de demain à 10h00",
        "Bonjour Julie MOREAU,\n\n"
        "Nous vous rappelons votre rendez-vous Cap Activité+ avec Karine Vasseur demain, mardi "
        "5 décembre 2023 à 10h00, en visioconférence.\n\n"
        f"Lien de connexion : {visio('cap-7Q2K-44')}\n\n"
        "Élan Parcours Conseil\nCe message est envoyé automatiquement.\n",
        automated=True,
        person=None,
        headers=[("X-Mailer", "AgendaPro Notifications")],
    )
    firm(
        "c-seance1",
        "2023-12-05 12:26:40",
        KARINE,
        "Suite à notre premier entretien",
        "Bonjour Julie,\n\n"
        "Merci pour notre échange de ce matin. Comme convenu, je vous envoie le questionnaire "
        "« projet professionnel » à compléter avant notre prochain rendez-vous, le mardi 19 "
        "décembre à 14h.\n\n"
        "Bonne journée,\n\n"
        "Karine Vasseur\nAccompagnatrice emploi – Élan Parcours Conseil\n",
        automated=False,
        person="Karine Vasseur",
        agent="Microsoft Outlook 16.0",
        atts=[
            Att(
                "questionnaire_projet_professionnel.pdf",
                "pdf",
                "Questionnaire projet professionnel",
            )
        ],
    )
    sent(
        "c-questionnaire",
        "2023-12-12 21:40:18",
        KARINE,
        "Re: Suite à notre premier entretien",
        "Bonjour Karine,\n\n"
        "Voici le questionnaire complété. Comme je vous l'ai expliqué, mon projet est déjà "
        "bien défini (formatrice au sein de ma coopérative) ; ma difficulté principale tient "
        "surtout à mon dossier d'indemnisation, bloqué depuis novembre.\n\n"
        "À mardi prochain,\nJulie\n" + SIG,
        case=PRESTA,
        counterpart=FIRM,
        reply_to_key="c-seance1",
        atts=[Att("questionnaire_projet_JMoreau.pdf", "pdf", "Questionnaire complete - J. Moreau")],
    )
    firm(
        "c-rdv2-rappel",
        "2023-12-18 10:00:04",
        ELAN_RDV,
        "Rappel : votre rendez-vous de demain à 14h00",
        "Bonjour Julie MOREAU,\n\n"
        "Nous vous rappelons votre rendez-vous Cap Activité+ avec Karine Vasseur demain, mardi "
        "19 décembre 2023 à 14h00, en visioconférence.\n\n"
        f"Lien de connexion : {visio('cap-9M4T-12')}\n\n"
        "Élan Parcours Conseil\nCe message est envoyé automatiquement.\n",
        automated=True,
        person=None,
        headers=[("X-Mailer", "AgendaPro Notifications")],
    )
    firm(
        "c-seance2-lien",
        "2023-12-19 13:52:09",
        KARINE,
        "Nouveau lien pour notre rendez-vous de 14h",
        "Bonjour Julie,\n\n"
        "La salle de visio prévue ne fonctionne pas cet après-midi. Merci d'utiliser ce lien "
        f"à la place : {visio('cap-9M4T-12b')}\n\n"
        "À tout de suite,\nKarine Vasseur\n",
        automated=False,
        person="Karine Vasseur",
        agent="Microsoft Outlook 16.0",
    )
    firm(
        "c-seance3-proposition",
        "2024-01-09 11:30:27",
        KARINE,
        "Dernière séance de votre accompagnement",
        "Bonjour Julie,\n\n"
        "Je vous propose notre dernière séance le mardi 16 janvier à 15h, en visio. Nous y "
        "ferons le bilan de l'accompagnement.\n\n"
        "Merci de me confirmer cette date.\n\n"
        "Bonne année et à bientôt,\nKarine Vasseur\nAccompagnatrice emploi – Élan Parcours Conseil\n",
        automated=False,
        person="Karine Vasseur",
        agent="Microsoft Outlook 16.0",
    )
    sent(
        "c-seance3-ok",
        "2024-01-09 18:02:55",
        KARINE,
        "Re: Dernière séance de votre accompagnement",
        "Bonjour Karine,\n\nC'est noté pour le mardi 16 janvier à 15h.\n\nBonne soirée,\nJulie\n",
        case=PRESTA,
        counterpart=FIRM,
        reply_to_key="c-seance3-proposition",
    )
    firm(
        "c-rdv3-rappel",
        "2024-01-15 15:00:02",
        ELAN_RDV,
        "Rappel : votre rendez-vous de demain à 15h00",
        "Bonjour Julie MOREAU,\n\n"
        "Nous vous rappelons votre rendez-vous Cap Activité+ avec Karine Vasseur demain, mardi "
        "16 janvier 2024 à 15h00, en visioconférence.\n\n"
        f"Lien de connexion : {visio('cap-3X8P-70')}\n\n"
        "Élan Parcours Conseil\nCe message est envoyé automatiquement.\n",
        automated=True,
        person=None,
        folder=".Junk",
        headers=[("X-Mailer", "AgendaPro Notifications")],
    )
    firm(
        "c-bilan",
        "2024-01-23 17:45:36",
        KARINE,
        "Bilan de votre accompagnement Cap Activité+",
        "Bonjour Julie,\n\n"
        "Vous trouverez ci-joint le bilan de votre accompagnement, qui sera également transmis à "
        "votre conseiller France Travail.\n\n"
        "En résumé : projet professionnel validé (formatrice en médiation numérique au sein de "
        "votre coopérative), pas de besoin de formation identifié, accompagnement terminé.\n\n"
        "Je vous souhaite une bonne continuation.\n\n"
        "Karine Vasseur\nAccompagnatrice emploi – Élan Parcours Conseil\n",
        automated=False,
        person="Karine Vasseur",
        agent="Microsoft Outlook 16.0",
        atts=[Att("bilan_Cap_Activite_JMoreau.pdf", "pdf", "Bilan Cap Activite+ - J. Moreau")],
    )
    sent(
        "c-bilan-merci",
        "2024-01-24 09:15:40",
        KARINE,
        "Re: Bilan de votre accompagnement Cap Activité+",
        "Bonjour Karine,\n\nMerci pour le bilan et pour votre disponibilité.\n\nBonne continuation,\nJulie\n",
        case=PRESTA,
        counterpart=FIRM,
        reply_to_key="c-bilan",
    )
    firm(
        "c-enquete",
        "2024-01-31 10:00:00",
        "Élan Parcours Conseil <enquetes@elanparcours-conseil.fr>",
        "Votre avis sur l'accompagnement Cap Activité+",
        "Bonjour,\n\n"
        "Vous avez récemment terminé votre accompagnement Cap Activité+. Pourriez-vous nous "
        "donner votre avis en 3 minutes ?\n"
        "https://enquetes.elanparcours-conseil.fr/cap-activite/satisfaction\n\n"
        "Merci !\nÉlan Parcours Conseil\n",
        automated=True,
        person=None,
        folder=".Junk",
        to=ME,
        headers=[("Precedence", "bulk"), ("X-Mailer", "Campagnes Pro 4.2")],
    )
    # ======================================================================== ground truth
    counterparts = [
        {
            "name": FT,
            "kind": "agency",
            "domains": ["pole-emploi.fr", "francetravail.fr"],
            "addresses": [],
        },
        {
            "name": FIRM,
            "kind": "contractor",
            "domains": ["elanparcours-conseil.fr"],
            "addresses": ["planification@relais-rdv.fr"],
        },
    ]
    cases = [
        {
            "name": CONTROLE_CASE,
            "story": "a",
            "counterpart": FT,
            "tickets": [],
            "interlocutors": ["Sandrine Lefebvre", "Bruno Tessier"],
            "summary_fr": "Contrôle aléatoire de la recherche d'emploi en février 2020 : justificatifs "
            "exigés sous 48 heures et envoyés dans le délai en trois courriels, une relance "
            "restée sans réponse, puis clôture sans suite annoncée près de huit semaines "
            "plus tard.",
        },
        {
            "name": STATUS,
            "story": "b",
            "counterpart": FT,
            "tickets": [t1, t2, t3, t4, t5],
            "interlocutors": [
                "Nadia Benali",
                "Thomas Girard",
                "Claire Dumont",
                "Julien Marchand",
                "Sophie Lambert",
            ],
            "summary_fr": "Ouverture des droits au chômage après la transformation de sa société en SCOP, "
            "bloquée par le retard d'inscription au greffe du tribunal de commerce : cinq "
            "demandes successives (clôturées une à une, Pôle emploi devenu France Travail en "
            "cours de route), cinq conseillers, près de trois mois pour obtenir la décision. "
            "Thomas Girard ne répond que dans l'espace personnel : une notification sans nom "
            "en garde la trace, et Julie le nomme dans son courriel suivant.",
        },
        {
            "name": PRESTA,
            "story": "b",
            "counterpart": FIRM,
            "other_counterparts": [FT],
            "tickets": [tp],
            "interlocutors": ["Marc Aubert", "Laetitia Roussel", "Karine Vasseur"],
            "summary_fr": "Accompagnement « Cap Activité+ » imposé par le cabinet privé Élan Parcours "
            "Conseil : le conseiller de l'agence répond (demande n° " + tp + ") que c'est une "
            "erreur, le centre d'appel du cabinet insiste et fait déposer un message dans "
            "l'espace personnel, puis une accompagnatrice mène trois séances en visio ; "
            "l'échange avec l'agence est rangé dans ce dossier car il porte sur le "
            "prestataire, pas sur les droits.",
        },
    ]
    key_waits = [
        {
            "case": CONTROLE_CASE,
            "requester": "agency",
            "responder": "me",
            "asked_message_id": "ctrl-demande",
            "answer_message_id": "ctrl-envoi-1",
            "approx_days": 0.2,
            "note": "Sommée de répondre sous 48 heures, elle envoie un premier lot de justificatifs dans "
            "l'après-midi (et le dernier le lendemain soir).",
        },
        {
            "case": CONTROLE_CASE,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "ctrl-envoi-3",
            "answer_message_id": "ctrl-cloture",
            "approx_days": 56,
            "note": "Elle demande un accusé de réception avant la commission ; la seule réponse est la "
            "clôture du contrôle, huit semaines plus tard.",
        },
        {
            "case": CONTROLE_CASE,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "ctrl-relance",
            "answer_message_id": "ctrl-cloture",
            "approx_days": 35,
            "note": "Relance trois semaines après l'envoi, sans réponse directe.",
        },
        {
            "case": STATUS,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "s1-demande",
            "answer_message_id": "s1-reponse",
            "approx_days": 8,
            "note": "Première demande (n° " + t1 + "), réponse de Nadia Benali.",
        },
        {
            "case": STATUS,
            "requester": "agency",
            "responder": "me",
            "asked_message_id": "s1-reponse",
            "answer_message_id": "s1-complement",
            "approx_days": 0.7,
            "note": "Elle fournit les pièces demandées dès le lendemain matin.",
        },
        {
            "case": STATUS,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "s1-complement",
            "answer_message_id": None,
            "approx_days": 6,
            "note": "Jamais de réponse : la demande est clôturée six jours plus tard (délai jusqu'à la "
            "clôture).",
        },
        {
            "case": STATUS,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "s2-demande",
            "answer_message_id": "s2-notif",
            "approx_days": 8.6,
            "note": "La réponse n'existe que dans l'espace personnel ; seule la notification en garde la trace.",
        },
        {
            "case": STATUS,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "s3-demande",
            "answer_message_id": "s3-reponse",
            "approx_days": 7.3,
            "note": "Troisième demande, réponse de Claire Dumont.",
        },
        {
            "case": STATUS,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "s3-complement",
            "answer_message_id": "s3-reponse-2",
            "approx_days": 6,
            "note": "Attestation employeur envoyée, accusé humain six jours plus tard.",
        },
        {
            "case": STATUS,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "s4-demande",
            "answer_message_id": "s4-reponse",
            "approx_days": 7.9,
            "note": "Kbis transmis, Julien Marchand répond par une nouvelle question.",
        },
        {
            "case": STATUS,
            "requester": "agency",
            "responder": "me",
            "asked_message_id": "s4-reponse",
            "answer_message_id": "s4-complement",
            "approx_days": 0.06,
            "note": "Elle répond en moins de deux heures.",
        },
        {
            "case": STATUS,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "s4-complement",
            "answer_message_id": "s5-reponse",
            "approx_days": 14.1,
            "note": "Réponse seulement après clôture et nouvelle demande (n° " + t5 + ").",
        },
        {
            "case": STATUS,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "s1-demande",
            "answer_message_id": "s5-reponse",
            "approx_days": 87,
            "note": "Du premier courriel à la décision : près de trois mois, sur cinq demandes.",
        },
        {
            "case": PRESTA,
            "requester": "me",
            "responder": "agency",
            "asked_message_id": "c-question",
            "answer_message_id": "c-question-reponse",
            "approx_days": 4.2,
            "note": "Le conseiller répond que la sélection par le cabinet est une erreur.",
        },
        {
            "case": PRESTA,
            "requester": "contractor",
            "responder": "me",
            "asked_message_id": "c-planif",
            "answer_message_id": "c-objection",
            "approx_days": 0.1,
            "note": "Le centre d'appel exige une confirmation sous 72 heures ; elle répond dans l'heure.",
        },
    ]
    deadlines = [
        {"message_id": "ctrl-demande", "phrase": "sous 48 heures", "demanded_hours": 48},
        {"message_id": "c-selection", "phrase": "sous 8 jours", "demanded_hours": 192},
        {"message_id": "c-planif", "phrase": "sous 72 heures", "demanded_hours": 72},
    ]
    toml = """# Configuration of the sample mailbox (fictional person, fictional firm).
[me]
addresses = ["julie.moreau@exemple-perso.fr", "j.moreau@exemple-perso.fr"]

[[counterpart]]
name = "France Travail"
kind = "agency"            # agency | contractor
# Pôle emploi was renamed France Travail on 1 January 2024; both domains are in use in this mailbox.
domains = ["pole-emploi.fr", "francetravail.fr"]
addresses = []

[[counterpart]]
name = "Élan Parcours Conseil"
kind = "contractor"
domains = ["elanparcours-conseil.fr"]
# the firm's call centre writes from another company's domain
addresses = ["planification@relais-rdv.fr"]
"""
    return {
        "messages": msgs,
        "counterparts": counterparts,
        "cases": cases,
        "key_waits": key_waits,
        "deadlines": deadlines,
        "toml": toml,
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="run the consistency checks after writing")
    sys.exit(write(ap.parse_args().check))
