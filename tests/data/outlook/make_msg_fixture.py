"""Writes reply-without-headers.msg with aspose-email-foss (MIT), a real .msg writer.

Run once by hand; the test suite reads the committed file, not this script:

    pip install --target /tmp/aspose aspose-email-foss==26.3
    PYTHONPATH=/tmp/aspose python tests/data/outlook/make_msg_fixture.py

The message has no transport headers (PR_TRANSPORT_MESSAGE_HEADERS), like a
draft or an item saved from Sent Items, so every header has to come from the
MAPI properties: PR_INTERNET_MESSAGE_ID (0x1035), PR_IN_REPLY_TO_ID (0x1042),
PR_INTERNET_REFERENCES (0x1039), PR_CLIENT_SUBMIT_TIME (0x0039), sender and
recipients, a subject and a sender name outside ASCII, and one attachment.
"""

from datetime import UTC, datetime
from pathlib import Path

from aspose.email_foss import msg  # type: ignore[import-not-found]

PTYP_STRING = 0x001F

message = msg.MapiMessage.create(
    "RE: Votre demande n° 4521 — pièces justificatives",
    "Bonjour Madame Moreau,\n\nNous avons bien reçu votre attestation.\n"
    "Votre dossier est complet.\n\nAgnès Martin\nConseillère\n",
)
message.set_property(msg.PropertyId.SENDER_NAME, "Agnès Martin")
message.set_property(msg.PropertyId.SENDER_EMAIL_ADDRESS, "agnes.martin@francetravail.fr")
message.set_property(msg.PropertyId.INTERNET_MESSAGE_ID, "<rep-4521.2@francetravail.fr>")
message.set_property(0x1042, PTYP_STRING, "<dem-4521.1@orange.fr>")
message.set_property(0x1039, PTYP_STRING, "<dem-4521.0@francetravail.fr> <dem-4521.1@orange.fr>")
message.set_property(msg.PropertyId.MESSAGE_DELIVERY_TIME,
                     datetime(2024, 3, 5, 9, 14, 7, tzinfo=UTC))
message.add_recipient("julie.moreau@orange.fr", display_name="Julie Moreau")
message.add_recipient("accueil@francetravail.fr", display_name="Accueil",
                      recipient_type=msg.RECIPIENT_TYPE_CC)
message.add_attachment("accuse-reception.txt", b"Dossier 4521 : complet.\n", mime_type="text/plain")
message.save(Path(__file__).with_name("reply-without-headers.msg"))
