"""Outlook files: ``.msg`` messages and ``.pst``/``.ost`` archives as RFC 822 bytes.

Outlook desktop keeps mail as MAPI properties, not as Internet messages. This
module turns each item into the RFC 822 bytes the rest of the pipeline reads:
the transport headers the item kept (``PR_TRANSPORT_MESSAGE_HEADERS``, the
headers as the message arrived: the most faithful source), completed from the
MAPI properties (Message-ID, In-Reply-To, References, Date, From, To, Cc,
Subject) for what they lack, then a MIME body rebuilt from the item's text,
HTML and attachments.

Both readers are optional extras, imported only when an Outlook file is met:
``extract-msg`` for ``.msg`` (``analyzer[outlook]``) and ``libpff-python``
(module ``pypff``) for ``.pst``/``.ost`` (``analyzer[pst]``). :func:`require`
raises :class:`~analyzer.errors.MissingExtraError` saying how to install one.
"""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.parser import HeaderParser
from typing import Any

from analyzer.errors import MissingExtraError
from analyzer.parse import STORED_TIME
from analyzer.sources import Unit

# kind of unit -> (module of the extra, catalogue key of the error)
_EXTRAS = {"msg": ("extract_msg", "outlook.missing_msg"), "pst": ("pypff", "outlook.missing_pst")}

# MAPI property ids (MS-OXPROPS).
_SUBJECT, _SENT_REPR_NAME, _SENT_REPR_ADDRTYPE, _SENT_REPR_ADDR = 0x0037, 0x0042, 0x0064, 0x0065
_SENDER_NAME, _SENDER_ADDRTYPE, _SENDER_ADDR = 0x0C1A, 0x0C1E, 0x0C1F
_SENDER_SMTP, _SENT_REPR_SMTP = 0x5D01, 0x5D02
_CREATOR_ADDR, _CREATOR_SMTP, _MODIFIER_ADDR, _MODIFIER_SMTP = 0x4023, 0x5D0A, 0x4025, 0x5D0B
_MESSAGE_ID, _REFERENCES, _IN_REPLY_TO = 0x1035, 0x1039, 0x1042
_MESSAGE_CLASS, _BODY = 0x001A, 0x1000
_RECIPIENT_TYPE, _DISPLAY_NAME, _EMAIL_ADDRESS, _SMTP_ADDRESS = 0x0C15, 0x3001, 0x3003, 0x39FE
_ATTACH_FILENAME, _ATTACH_LONG_FILENAME, _ATTACH_METHOD, _ATTACH_MIME = (
    0x3704, 0x3707, 0x3705, 0x370E)
_ATTACH_BY_VALUE = 1

# Items of these classes are not mail (calendar entries, contacts, tasks,
# notes, Outlook's own settings); an archive holds many of them.
_NOT_MAIL = ("ipm.appointment", "ipm.contact", "ipm.distlist", "ipm.task", "ipm.stickynote",
             "ipm.activity", "ipm.microsoft", "ipm.configuration")
# Folder levels every archive has above the user's own folders.
_TOP_FOLDERS = frozenset({"top of personal folders", "top of outlook data file",
                          "root - mailbox", "root - public", "ipm_subtree"})
_RECIPIENT_FIELDS = {1: "To", 2: "Cc"}  # Bcc (3) is not written: the recipients did not see it
_SMTP = email.policy.SMTP


class UnreadableItem(OSError):
    """An Outlook file or item the reader refused. An :class:`OSError` so the
    importer reports it like any unreadable message instead of stopping."""


@dataclass
class Attachment:
    name: str
    mime: str
    data: bytes | OutlookItem


@dataclass
class OutlookItem:
    """One Outlook item as read from its MAPI properties."""

    transport_headers: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: str | None = None
    subject: str | None = None
    sender: tuple[str, str] = ("", "")
    recipients: list[tuple[int, str, str]] = field(default_factory=list)  # (type, name, address)
    sent: datetime | None = None
    delivered: datetime | None = None
    text: str | None = None
    html: bytes | None = None
    rtf: bytes | None = None
    attachments: list[Attachment] = field(default_factory=list)


def require(kind: str, path: str) -> None:
    """Check that the extra reading a ``kind`` unit (``msg`` or ``pst``) is
    installed; raise :class:`MissingExtraError` naming ``path`` otherwise."""
    module, key = _EXTRAS[kind]
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(key, path=path) from exc


# -- RFC 822 out ---------------------------------------------------------------


def to_rfc822(item: OutlookItem) -> bytes:
    """The item as an RFC 822 message (CRLF line ends)."""
    lines: list[str] = []
    present: set[str] = set()
    for name, value in _transport_fields(item.transport_headers):
        lines.append(f"{name}: {value}")
        present.add(name.lower())
    for name, mapi_value in _mapi_fields(item):
        if mapi_value and name.lower() not in present:
            lines.append(_field(name, mapi_value))
    head = "".join(line + "\r\n" for line in lines).encode("utf-8", "surrogateescape")
    return head + _stable(_mime_body(item))


def _stable(body: EmailMessage) -> bytes:
    """The body's bytes with MIME boundaries drawn from its content instead
    of at random: the same item always gives the same bytes (bundles' digests,
    a re-read after the store lost the raw bytes)."""
    parts = [part for part in body.walk() if part.is_multipart()]
    if not parts:
        return body.as_bytes(policy=_SMTP)
    for n, part in enumerate(parts):
        part.set_boundary(f"=_placeholder_{n}")
    digest = hashlib.sha256(body.as_bytes(policy=_SMTP)).hexdigest()[:24]
    for n, part in enumerate(parts):
        part.set_boundary(f"=_analyzer_{digest}_{n}")
    return body.as_bytes(policy=_SMTP)


def _transport_fields(text: str | None) -> list[tuple[str, str]]:
    if not text or not text.strip():
        return []
    if text.startswith("Microsoft Mail Internet Headers Version 2.0"):
        text = text[len("Microsoft Mail Internet Headers Version 2.0"):].lstrip()
    parsed = HeaderParser(policy=email.policy.compat32).parsestr(text)
    fields = []
    for name, value in parsed.raw_items():
        # The body is rebuilt below with MIME headers of its own; the old
        # ones would describe parts that are no longer there.
        if name.lower().startswith("content-") or name.lower() == "mime-version":
            continue
        folded = str(value).replace("\r\n", "\n").replace("\n", "\r\n")
        fields.append((name, folded))
    return fields


def _mapi_fields(item: OutlookItem) -> list[tuple[str, str | None]]:
    when = item.sent or item.delivered
    return [
        ("Message-ID", item.message_id),
        ("In-Reply-To", item.in_reply_to),
        ("References", item.references),
        ("Date", email.utils.format_datetime(when) if when else None),
        ("From", _address(*item.sender)),
        ("To", _addresses(item, 1)),
        ("Cc", _addresses(item, 2)),
        ("Subject", item.subject),
    ]


def _address(name: str, address: str) -> str | None:
    if name == address:
        name = ""
    if address:
        return email.utils.formataddr((name, address), charset="utf-8")
    # An Exchange sender without an SMTP address: keep at least the name.
    return _encode_words(name) if name else None


def _addresses(item: OutlookItem, kind: int) -> str | None:
    found = [_address(name, address) for rtype, name, address in item.recipients
             if rtype == kind]
    return ", ".join(a for a in found if a) or None


def _encode_words(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


def _field(name: str, value: str) -> str:
    value = " ".join(value.split())
    if value.isascii():
        return f"{name}: {value}"
    if name in ("From", "To", "Cc"):
        return f"{name}: {value}"  # display names already encoded by formataddr
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}"


def _mime_body(item: OutlookItem) -> EmailMessage:
    body = EmailMessage(policy=_SMTP)
    if item.text is not None or (item.html is None and item.rtf is None):
        body.set_content(item.text or "", subtype="plain", charset="utf-8",
                         cte="quoted-printable")
        if item.html is not None:
            body.add_alternative(item.html, maintype="text", subtype="html")
    elif item.html is not None:
        body.set_content(item.html, maintype="text", subtype="html")
    elif item.rtf is not None:
        # The only body is RTF: keep it as it is rather than lose the text.
        body.set_content(item.rtf, maintype="text", subtype="rtf")
    for attachment in item.attachments:
        if isinstance(attachment.data, OutlookItem):
            inner = email.message_from_bytes(to_rfc822(attachment.data), policy=_SMTP)
            body.add_attachment(inner, filename=attachment.name)
        else:
            maintype, _, subtype = attachment.mime.partition("/")
            if not maintype or not subtype or maintype == "multipart" or maintype == "message":
                maintype, subtype = "application", "octet-stream"
            body.add_attachment(attachment.data, maintype=maintype, subtype=subtype,
                                filename=attachment.name)
    return body


def _smtp(address: str | None, address_type: str | None = None) -> str:
    """An Internet address, or "" for an Exchange (X.500) one."""
    if not address or "@" not in address:
        return ""
    if address_type and address_type.upper() not in ("SMTP", ""):
        return ""
    return address.strip()


def _subject(text: str | None) -> str | None:
    # PST subjects may start with 0x01 and the length of their prefix ("RE: ").
    if text and text[0] == "\x01":
        return text[2:]
    return text


def _utc(moment: Any) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def is_mail(message_class: str | None) -> bool:
    """False for the non-mail items Outlook keeps beside mail.

    >>> is_mail("IPM.Note"), is_mail("IPM.Schedule.Meeting.Request"), is_mail(None)
    (True, True, True)
    >>> is_mail("IPM.Appointment"), is_mail("IPM.Contact")
    (False, False)
    """
    return not (message_class or "").lower().startswith(_NOT_MAIL)


# -- .msg (extract-msg) --------------------------------------------------------


def msg_to_rfc822(path: str) -> bytes:
    """The RFC 822 bytes of an Outlook ``.msg`` file."""
    require("msg", path)  # also read again later, when the extra may be gone
    import extract_msg

    try:
        with extract_msg.openMsg(path, strict=False,
                                 errorBehavior=extract_msg.enums.ErrorBehavior.SUPPRESS_ALL
                                 ) as msg:
            return to_rfc822(_msg_item(msg))
    except OSError:
        raise
    except Exception as exc:  # extract-msg raises many kinds on a damaged file
        raise UnreadableItem(f"{path}: {exc}") from exc


def _msg_item(msg: Any) -> OutlookItem:
    def string(prop: int) -> str | None:
        value = msg.getStringStream(f"__substg1.0_{prop:04X}")
        return value if isinstance(value, str) else None

    def moment(prop: int) -> datetime | None:
        return _utc(msg.getPropertyVal(f"{prop:04X}0040"))

    item = OutlookItem(
        transport_headers=string(0x007D),
        message_id=string(_MESSAGE_ID), in_reply_to=string(_IN_REPLY_TO),
        references=string(_REFERENCES), subject=string(_SUBJECT),
        sender=_sender(string), sent=moment(0x0039), delivered=moment(0x0E06),
        text=string(_BODY), html=msg.getStream("__substg1.0_10130102"))
    if item.text is None and item.html is None and hasattr(msg, "body"):
        try:
            item.text = msg.body  # extract-msg derives it from the RTF body
        except Exception:  # a malformed RTF body: the item keeps no text
            item.text = None
    for recipient in getattr(msg, "recipients", []):
        address = _smtp(recipient.smtpAddress) or _smtp(recipient.email)
        item.recipients.append((int(recipient.type), recipient.name or "", address))
    for attachment in getattr(msg, "attachments", []):
        try:
            data = attachment.data
            name = attachment.getFilename() or "attachment"
        except Exception:  # one unreadable attachment must not lose the message
            continue
        if isinstance(data, bytes):
            item.attachments.append(Attachment(name, attachment.mimetype or "", data))
        elif hasattr(data, "getStringStream"):  # an attached .msg
            item.attachments.append(Attachment(name, "message/rfc822", _msg_item(data)))
    return item


def _sender(string: Any) -> tuple[str, str]:
    name = string(_SENDER_NAME) or string(_SENT_REPR_NAME) or ""
    address = (_smtp(string(_SENDER_SMTP))
               or _smtp(string(_SENDER_ADDR), string(_SENDER_ADDRTYPE))
               or _smtp(string(_SENT_REPR_SMTP))
               or _smtp(string(_SENT_REPR_ADDR), string(_SENT_REPR_ADDRTYPE)))
    exchange = (string(_SENDER_ADDR) or "").lower()
    if not address and exchange:
        # An Exchange sender (X.500 name) is often the mailbox's owner, whose
        # SMTP address the item keeps as its creator's or last modifier's:
        # take it only when the X.500 names are the same person.
        for x500, smtp in ((_CREATOR_ADDR, _CREATOR_SMTP), (_MODIFIER_ADDR, _MODIFIER_SMTP)):
            if (string(x500) or "").lower() == exchange:
                address = _smtp(string(smtp))
                if address:
                    break
    return name, address


# -- .pst / .ost (libpff-python) ----------------------------------------------


def pst_units(path: str) -> Iterator[Unit]:
    """One unit per mail item of a ``.pst``/``.ost`` archive.

    The key holds the item's identifier (its node id, which stays when
    Outlook compacts the file), also kept as the unit's ``offset`` so that
    :func:`read_pst_unit` finds the item again.
    """
    for identifier, (folder, message) in _pst_index(path).items():
        yield Unit("pst", path, path, f"pst:{path}#{identifier}", folder, offset=identifier,
                   delivered_hint=_iso(_utc(message.delivery_time)))


def read_pst_unit(path: str, identifier: int) -> bytes:
    """The RFC 822 bytes of the item ``identifier`` of the archive ``path``."""
    entry = _pst_index(path).get(identifier)
    if entry is None:
        raise UnreadableItem(f"{path}: no item {identifier}")
    try:
        return to_rfc822(_pff_item(entry[1]))
    except OSError:
        raise
    except Exception as exc:  # a damaged item; the others stay readable
        raise UnreadableItem(f"{path}#{identifier}: {exc}") from exc


# One archive open per process: the importer reads an archive's items one
# after the other, and opening and walking it again for each would cost the
# whole walk per message. The process id is part of the key because forked
# import workers must not share the parent's file offset.
_open_archive: tuple[tuple[str, int, int, int], Any, dict[int, tuple[str, Any]]] | None = None


def _pst_index(path: str) -> dict[int, tuple[str, Any]]:
    """The archive's mail items by identifier, as (folder, item)."""
    global _open_archive
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns, os.getpid())
    if _open_archive is not None and _open_archive[0] == key:
        return _open_archive[2]
    require("pst", path)
    import pypff

    if _open_archive is not None:
        if _open_archive[0][3] == os.getpid():
            _open_archive[1].close()
        _open_archive = None
    archive = pypff.file()
    try:
        archive.open(path)
    except OSError as exc:
        raise UnreadableItem(f"{path}: {exc}") from exc
    index: dict[int, tuple[str, Any]] = {}
    _walk_folder(archive.get_root_folder(), [], index)
    _open_archive = (key, archive, index)
    return index


def _walk_folder(folder: Any, names: list[str], index: dict[int, tuple[str, Any]]) -> None:
    shown = "/".join(names)
    for message in folder.sub_messages:
        if is_mail(_pff_string(message, _MESSAGE_CLASS)):
            index[message.identifier] = (shown, message)
    for sub in folder.sub_folders:
        name = sub.name or ""
        top = not names and name.lower() in _TOP_FOLDERS
        _walk_folder(sub, names if top or not name else [*names, name], index)


def _pff_string(item: Any, prop: int, record: int = 0) -> str | None:
    try:
        entry = item.get_record_set(record).get_entry_by_type(prop)
        value = entry.data_as_string if entry is not None else None
    except (OSError, IndexError):
        return None
    return value if isinstance(value, str) else None


def _pff_int(item: Any, prop: int, record: int = 0) -> int | None:
    try:
        entry = item.get_record_set(record).get_entry_by_type(prop)
        return int(entry.data_as_integer) if entry is not None else None
    except (OSError, IndexError, TypeError):
        return None


def _pff_item(message: Any) -> OutlookItem:
    def string(prop: int) -> str | None:
        return _pff_string(message, prop)

    def body(read: Any) -> bytes | None:
        try:
            data = read()
        except OSError:
            return None
        return bytes(data) if data else None

    plain = body(message.get_plain_text_body)
    item = OutlookItem(
        transport_headers=message.transport_headers,
        message_id=string(_MESSAGE_ID), in_reply_to=string(_IN_REPLY_TO),
        references=string(_REFERENCES), subject=_subject(string(_SUBJECT)),
        sender=_sender(string), sent=_utc(message.client_submit_time),
        delivered=_utc(message.delivery_time),
        text=plain.decode("utf-8", "replace") if plain else None,
        html=body(message.get_html_body), rtf=body(message.get_rtf_body))
    recipients = message.recipients
    for n in range(recipients.number_of_record_sets if recipients is not None else 0):
        rtype = _pff_int(recipients, _RECIPIENT_TYPE, n) or 0
        address = (_smtp(_pff_string(recipients, _SMTP_ADDRESS, n))
                   or _smtp(_pff_string(recipients, _EMAIL_ADDRESS, n)))
        item.recipients.append((rtype, _pff_string(recipients, _DISPLAY_NAME, n) or "", address))
    for attachment in message.attachments:
        # Only files attached by value: embedded messages and OLE objects
        # need more of libpff than a plain read, and the text already says
        # what they were.
        if _pff_int(attachment, _ATTACH_METHOD) != _ATTACH_BY_VALUE:
            continue
        try:
            data = attachment.read_buffer(attachment.size) if attachment.size else b""
        except OSError:
            continue
        name = (_pff_string(attachment, _ATTACH_LONG_FILENAME)
                or _pff_string(attachment, _ATTACH_FILENAME) or "attachment")
        item.attachments.append(Attachment(name, _pff_string(attachment, _ATTACH_MIME) or "",
                                           bytes(data)))
    return item


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime(STORED_TIME) if moment else None
