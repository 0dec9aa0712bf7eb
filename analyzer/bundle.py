"""The evidence bundle of one case: what an appeal, a union delegate or a
mediator needs, in one zip file.

Inside, under a folder named after the case::

    C-8ea5c4a0/
      report.html           the case's page of the report (self-contained)
      chronology.csv        every message of the case, in order
      documents-sent.csv    the documents I sent, when and to whom (proofs of a "contrôle")
      messages/NN-….eml     the original messages, byte for byte as stored
      attachments/NN-…      their attachments, names sanitised
      SHA256SUMS            a SHA-256 line per file above (``sha256sum -c SHA256SUMS``)

``NN`` is the message's position in the chronology, so an attachment names
the message it came with. Attachment names go through
:func:`analyzer.parse.sanitize_filename`: no directory part, no control
character, never a path outside the folder. CSV cells go through
:mod:`analyzer.csvsafe`, so a subject cannot run as a spreadsheet formula.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analyzer.csvsafe import write_rows
from analyzer.i18n import translate
from analyzer.parse import sanitize_filename
from analyzer.schema import tuples

if TYPE_CHECKING:
    from analyzer.report import Summary
    from analyzer.store import Store

MANIFEST = "SHA256SUMS"
#: Zip entries carry a date; files made now get the report's as-of date so
#: that two bundles of the same data are the same bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass
class Attachment:
    name: str
    data: bytes


@dataclass
class BundleContents:
    """What :func:`write_bundle` wrote: entry names (inside the case folder) and digests."""

    folder: str
    files: dict[str, str] = field(default_factory=dict)


def attachments_of(raw: bytes) -> list[Attachment]:
    """The attachments of a raw message, names sanitised, in MIME order.

    >>> raw = (b"Content-Type: multipart/mixed; boundary=b\\r\\n\\r\\n--b\\r\\n"
    ...        b"Content-Type: text/plain\\r\\n\\r\\nhi\\r\\n--b\\r\\n"
    ...        b"Content-Type: text/plain\\r\\n"
    ...        b'Content-Disposition: attachment; filename="../../etc/passwd"\\r\\n\\r\\n'
    ...        b"x\\r\\n--b--\\r\\n")
    >>> [(a.name, a.data) for a in attachments_of(raw)]
    [('passwd', b'x')]
    """
    found: list[Attachment] = []
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        for part in message.walk():
            if part.is_multipart():
                continue
            name = part.get_filename()
            if not name and part.get_content_disposition() != "attachment":
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            found.append(Attachment(sanitize_filename(str(name or "attachment")), data))
    # The stdlib parser raises on some hostile structures; a bundle still
    # carries the .eml, where the attachment stays readable by a mail program.
    except Exception:
        return found
    return found


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        taken.add(name)
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    n = 2
    while True:
        candidate = f"{stem}-{n}.{suffix}" if suffix else f"{stem}-{n}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        n += 1


def _zip_time(moment: datetime | None) -> tuple[int, int, int, int, int, int]:
    if moment is None or moment.year < 1980:
        return _EPOCH
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def write_bundle(summary: Summary, store: Store, case_id: str, out: Path, *, lang: str,
                 title: str) -> BundleContents:
    """Write the evidence bundle of ``case_id`` to ``out`` (a .zip file).

    ``summary`` comes from :func:`analyzer.report.summarize` (with its
    frames); ``store`` gives the raw messages. Raises
    :class:`~analyzer.errors.UsageError` for an unknown case.

    >>> written = write_bundle(summary, store, "C-8ea5c4a0", Path("dossier.zip"),
    ...                        lang="fr", title="ma boîte")       # doctest: +SKIP
    >>> sorted(written.files)[:2]                                 # doctest: +SKIP
    ['attachments/02-CV_Julie_Moreau_2020.pdf', 'attachments/02-recapitulatif_candidatures.png']
    """
    from analyzer.errors import UsageError
    from analyzer.html_report import render_report

    frames = summary.frames
    if frames is None or case_id not in {c.case_id for c in summary.cases}:
        raise UsageError("cases.unknown", case=case_id)
    tz = summary.timezone
    rows = frames.messages[frames.messages["case_id"] == case_id].sort_values(
        ["sent_at", "message_id"], na_position="last")
    folder = sanitize_filename(case_id)
    contents = BundleContents(folder)
    entries: list[tuple[str, bytes, tuple[int, int, int, int, int, int]]] = []
    stamp = _zip_time(summary.as_of.replace(tzinfo=None) if summary.as_of else None)

    chronology: list[list[Any]] = []
    documents: list[list[Any]] = []
    taken: set[str] = set()
    conversations: dict[object, int] = {}
    for number, row in enumerate(tuples(rows), 1):
        when = (None if pd.isna(row.sent_at)
                else pd.Timestamp(row.sent_at).tz_convert(tz).to_pydatetime())
        conversation = conversations.setdefault(getattr(row, "conversation_id", None),
                                                len(conversations) + 1)
        raw = store.raw_message(str(row.message_id))
        eml = ""
        names: list[str] = []
        if raw is not None:
            day = when.strftime("%Y%m%d-%H%M") if when else "undated"
            eml = f"messages/{number:02d}-{day}-{row.party}.eml"
            entries.append((eml, raw, _zip_time(when)))
            for attachment in attachments_of(raw):
                name = _unique(f"attachments/{number:02d}-{attachment.name}", taken)
                entries.append((name, attachment.data, _zip_time(when)))
                names.append(name)
                if row.party == "me":
                    documents.append([
                        when.isoformat() if when else "", name,
                        len(attachment.data), hashlib.sha256(attachment.data).hexdigest(),
                        ", ".join(row.to_addrs) if isinstance(row.to_addrs, list) else "",
                        row.subject or "", eml])
        chronology.append([
            when.isoformat() if when else "", conversation, row.party,
            row.from_name or "", row.from_addr or "", row.subject or "",
            str(row.ticket_id).split(":", 1)[-1] if isinstance(row.ticket_id, str) else "",
            "true" if row.automated else "false", "true" if row.is_closure else "false",
            row.message_id, eml, "; ".join(names)])

    def t(key: str) -> str:
        return translate(key, lang)

    chronology_csv = io.StringIO()
    write_rows(chronology_csv, [t(f"bundle.col.{c}") for c in (
        "date", "conversation", "party", "name", "address", "subject", "ticket", "automated",
        "closure", "message_id", "file", "attachments")], chronology)
    documents_csv = io.StringIO()
    write_rows(documents_csv, [t(f"bundle.col.{c}") for c in (
        "date", "document", "size", "sha256", "to", "subject", "file")], documents)
    page = render_report(summary, lang, title=title, case_ids=[case_id])
    entries[:0] = [
        ("report.html", page.encode("utf-8"), stamp),
        ("chronology.csv", chronology_csv.getvalue().encode("utf-8"), stamp),
        ("documents-sent.csv", documents_csv.getvalue().encode("utf-8"), stamp),
    ]

    manifest = []
    for name, data, _ in entries:
        digest = hashlib.sha256(data).hexdigest()
        contents.files[name] = digest
        manifest.append(f"{digest}  {name}\n")
    entries.append((MANIFEST, "".join(manifest).encode("utf-8"), stamp))

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data, when_zip in entries:
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=when_zip)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return contents
