"""Builders for small and odd messages used across the tests."""

from __future__ import annotations

from pathlib import Path


def message(
    *,
    message_id: str | None = "<m1@example.org>",
    sender: str = "Julie Moreau <julie.moreau@exemple-perso.fr>",
    to: str = "contact@francetravail.fr",
    subject: str = "Ma situation",
    date: str | None = "Wed, 19 Feb 2020 10:14:00 +0100",
    in_reply_to: str | None = None,
    references: str | None = None,
    extra: str = "",
    body: str = "Bonjour,\n\nVoici mes justificatifs.\n",
    newline: str = "\n",
) -> bytes:
    """One RFC 5322 message; pass None to leave a header out."""
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    if date is not None:
        lines.append(f"Date: {date}")
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    if in_reply_to is not None:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references is not None:
        lines.append(f"References: {references}")
    lines.append("MIME-Version: 1.0")
    lines.append("Content-Type: text/plain; charset=utf-8")
    lines.append("Content-Transfer-Encoding: 8bit")
    if extra:
        lines.extend(extra.strip("\n").split("\n"))
    text = newline.join(lines) + newline + newline + body.replace("\n", newline)
    return text.encode("utf-8")


def write_maildir(root: Path, messages: dict[str, bytes], folder: str = "") -> Path:
    """Write ``{filename: bytes}`` into ``root`` (or the Maildir++ folder ``.folder``)."""
    base = root / f".{folder}" if folder else root
    for sub in ("cur", "new", "tmp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    for name, data in messages.items():
        (base / "cur" / name).write_bytes(data)
    return base


def mbox(*messages: bytes, sender: str = "MAILER-DAEMON",
         when: str = "Wed Feb 19 10:14:00 2020") -> bytes:
    """An mboxrd file holding ``messages`` (body lines starting with From quoted)."""
    out = []
    for data in messages:
        body = b"\n".join(b">" + line if line.startswith((b"From ", b">From ")) else line
                          for line in data.rstrip(b"\n").split(b"\n"))
        out.append(f"From {sender} {when}\n".encode() + body + b"\n\n")
    return b"".join(out)
