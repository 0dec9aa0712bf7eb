"""Automated-message classification: real-shaped messages, then one rule per row."""

from __future__ import annotations

import doctest
import email
import email.policy
import email.utils
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import analyzer.automation
from analyzer.automation import KINDS, Automation, classify_automation, classify_unread

FIXTURES = Path(__file__).parent / "data" / "tickets"


def classify_fixture(name: str) -> Automation:
    """Classify a fixture the way the importer would hand it over."""
    msg = email.message_from_bytes((FIXTURES / name).read_bytes(), policy=email.policy.default)
    headers: dict[str, str] = {}
    for key, value in msg.items():
        key = key.lower()
        headers[key] = f"{headers[key]}\n{value}" if key in headers else str(value)
    part = msg.get_body(preferencelist=("plain",))
    body = part.get_content() if part is not None else ""
    from_name, from_addr = email.utils.parseaddr(headers.get("from", ""))
    return classify_automation(
        headers, headers.get("subject", ""), body, from_addr.lower(), from_name
    )


@pytest.mark.parametrize(
    ("fixture", "automated", "kind"),
    [
        ("otrs_new_ticket_en.eml", True, "acknowledgement"),
        ("otrs_followup_rejected_en.eml", True, "rejection"),
        ("zammad_inquiry_received_en.eml", True, "acknowledgement"),
        ("rt_autoreply_en.eml", True, "acknowledgement"),
        ("rt_resolved_en.eml", True, "closure"),
        # RT stamps "Precedence: bulk" on human correspondence too.
        ("rt_agent_reply_fr.eml", False, None),
        ("zendesk_request_solved_fr.eml", True, "closure"),
        # Zendesk stamps Auto-Submitted on every mail, agents' replies included.
        ("zendesk_agent_reply_fr.eml", False, None),
        ("zendesk_satisfaction_survey_en.eml", True, "survey"),
        ("freshdesk_ticket_received_en.eml", True, "acknowledgement"),
        ("freshdesk_ticket_resolved_en.eml", True, "closure"),
        ("osticket_ticket_opened_en.eml", True, "acknowledgement"),
        ("osticket_autoclose_en.eml", True, "closure"),
        ("glpi_followup_fr.eml", True, "notification"),
        ("redmine_issue_resolved_fr.eml", True, "closure"),
        ("jira_issue_resolved_en.eml", True, "notification"),
        ("salesforce_case_update_en.eml", False, None),
        ("servicenow_incident_resolved_en.eml", True, "closure"),
        ("dynamics_case_reply_fr.eml", False, None),
        ("francetravail_acknowledgement_fr.eml", True, "acknowledgement"),
        # The advisor's real demand, sent from a no-reply address with a footer.
        ("francetravail_advisor_reply_noreply_fr.eml", False, None),
        ("citizen_reopening_fr.eml", False, None),
        ("bounce_delivery_status.eml", True, "bounce"),
        ("out_of_office_exchange_fr.eml", True, "out_of_office"),
        ("newsletter_list_fr.eml", True, "bulk"),
    ],
)
def test_real_shaped_messages(fixture: str, automated: bool, kind: str | None) -> None:
    verdict = classify_fixture(fixture)
    assert (verdict.automated, verdict.kind, verdict.portal_notification) == (
        automated,
        kind,
        False,
    )


def test_portal_notification_is_a_real_reply_despite_auto_submitted() -> None:
    verdict = classify_fixture("francetravail_portal_notification_fr.eml")
    assert verdict == Automation(
        automated=False,
        kind="portal_notification",
        reason="new message waiting in the portal",
        portal_notification=True,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Vous avez reçu un nouveau message dans votre espace personnel.",
        "Un nouveau message de votre conseiller est disponible.",
        "Un nouveau message vous attend dans votre espace.",
        "Vous avez 2 nouveaux messages dans votre espace France Travail.",
        "Votre conseillère vous a envoyé un nouveau message.",
        "A new message is waiting in your personal space.",
        "You have received a new message from your advisor.",
    ],
)
def test_portal_wording(text: str) -> None:
    headers = {"auto-submitted": "auto-generated", "precedence": "bulk"}
    verdict = classify_automation(headers, "Notification", text, "no-reply@francetravail.fr", "")
    assert (verdict.automated, verdict.kind, verdict.portal_notification) == (
        False,
        "portal_notification",
        True,
    )


def test_portal_wording_in_the_subject() -> None:
    verdict = classify_automation(
        {}, "Nouveau message dans votre espace", "", "no-reply@francetravail.fr", ""
    )
    assert verdict.portal_notification is True


@pytest.mark.parametrize(
    ("headers", "subject", "from_addr", "reason"),
    [
        ({}, "Mail delivery failed", "mailer-daemon@x.org", "bounce sender mailer-daemon@x.org"),
        ({}, "Returned mail", "postmaster@x.org", "bounce sender postmaster@x.org"),
        (
            {"content-type": 'multipart/report; report-type="delivery-status"; boundary=b'},
            "Notification",
            "mail@x.org",
            "multipart/report delivery-status",
        ),
        ({}, "Undeliverable: Justificatifs", "mail@x.org", "delivery-failure subject"),
        ({}, "Non remis : Justificatifs", "mail@x.org", "delivery-failure subject"),
        ({}, "Échec de la remise du message", "mail@x.org", "delivery-failure subject"),
        (
            {},
            "Delivery Status Notification (Failure)",
            "mail@x.org",
            "delivery-failure subject",
        ),
    ],
)
def test_bounces(headers: dict[str, str], subject: str, from_addr: str, reason: str) -> None:
    assert classify_automation(headers, subject, "", from_addr, "") == Automation(
        True, "bounce", reason
    )


@pytest.mark.parametrize(
    ("headers", "subject", "body", "reason"),
    [
        (
            {"auto-submitted": "auto-replied (vacation)"},
            "Re: x",
            "",
            "Auto-Submitted: auto-replied (vacation)",
        ),
        ({"x-autoreply": "yes"}, "Re: x", "", "X-Autoreply header"),
        (
            {"x-auto-response-suppress": "All", "x-ms-exchange-inbox-rules-loop": "a@x"},
            "Re: x",
            "",
            "Exchange inbox-rule auto-reply headers",
        ),
        ({}, "Out of Office: Justificatifs", "", "out-of-office subject"),
        ({}, "Absence du bureau", "", "out-of-office subject"),
        (
            {"auto-submitted": "auto-replied"},
            "Vacation reply",
            "",
            "Auto-Submitted: auto-replied with an absence subject",
        ),
        ({}, "Sandrine is out of the office.", "", "out-of-office subject"),
        ({}, "Re: x", "Je suis absente jusqu'au 28 février.", "absence wording"),
        ({}, "Re: x", "Je suis actuellement absent.", "absence wording"),
        ({}, "Re: x", "I am out of the office until Monday.", "absence wording"),
        ({}, "Réponse automatique : Justificatifs", "Merci.", "auto-reply subject"),
        ({}, "Automatic reply: Justificatifs", "Thanks.", "auto-reply subject"),
    ],
)
def test_out_of_office(headers: dict[str, str], subject: str, body: str, reason: str) -> None:
    assert classify_automation(headers, subject, body, "a@x.fr", "A B") == Automation(
        True, "out_of_office", reason
    )


@pytest.mark.parametrize(
    "subject",
    ["Re: Absence de paiement en mars", "Re: Congé maternité", "Re: Vacation de l'agence"],
)
def test_matters_named_like_absences_are_not_out_of_office(subject: str) -> None:
    verdict = classify_automation({}, subject, "Voici notre réponse.", "agent@x.fr", "")
    assert (verdict.automated, verdict.kind) == (False, None)


def test_auto_reply_subject_with_a_receipt_is_an_acknowledgement() -> None:
    verdict = classify_automation(
        {},
        "Réponse automatique : Justificatifs",
        "Nous avons bien reçu votre message et vous répondrons sous 48h.",
        "agence@francetravail.fr",
        "Agence",
    )
    assert (verdict.automated, verdict.kind) == (True, "acknowledgement")


@pytest.mark.parametrize(
    ("subject", "body", "kind"),
    [
        ("Your email has been rejected! (RE: x)", "Your previous ticket is closed.", "rejection"),
        ("Re: x", "Unable to update your closed case CS0001234.", "rejection"),
        ("Re: x", "Votre message n'a pas été pris en compte, ce dossier est clos.", "rejection"),
        ("Re: x", "Merci de créer une nouvelle demande depuis votre espace.", "rejection"),
        # A closure notice advising to open a new request is a closure.
        ("Re: x", "Cette demande est clôturée, merci de créer une nouvelle demande.", "closure"),
        ("Re: x", "Vous ne pouvez plus répondre à ce message.", "rejection"),
        ("Comment évalueriez-vous notre service ?", "", "survey"),
        ("Re: x", "Donnez-nous votre avis en 2 minutes.", "survey"),
        ("Re: x", "How would you rate the support you received?", "survey"),
        ("Enquête de satisfaction", "Merci de répondre.", "survey"),
        ("Re: x", "Ceci est un accusé de réception.", "acknowledgement"),
        ("Re: x", "Your request has been received and is being reviewed.", "acknowledgement"),
        ("Re: x", "Thanks for your email. A new ticket has been created.", "acknowledgement"),
        ("Accusé de réception", "", "acknowledgement"),
        ("Re: x", "Votre demande a bien été enregistrée.", "acknowledgement"),
        ("Re: x", "Nous avons bien reçu votre demande.", "acknowledgement"),
        ("Re: x", "Votre demande a été clôturée.", "closure"),
        ("Re: x", "Your request has been deemed solved.", "closure"),
        ("Re: x", "Ceci est un message automatique.", "notification"),
        ("Re: x", "Merci de ne pas répondre à ce courriel.", "notification"),
        ("Re: x", "This is an automated message.", "notification"),
        ("Re: x", "Please do not reply to this email.", "notification"),
    ],
)
def test_wording_without_headers(subject: str, body: str, kind: str) -> None:
    verdict = classify_automation({}, subject, body, "contact@prestataire.example", "Support")
    assert (verdict.automated, verdict.kind) == (True, kind)


@pytest.mark.parametrize(
    ("headers", "kind", "reason"),
    [
        ({"auto-submitted": "auto-generated"}, "notification", "Auto-Submitted: auto-generated"),
        ({"auto-submitted": "auto-replied"}, "acknowledgement", "Auto-Submitted: auto-replied"),
        ({"auto-submitted": "auto-notified"}, "notification", "Auto-Submitted: auto-notified"),
        ({"x-autorespond": "yes"}, "notification", "x-autorespond header"),
        ({"x-auto-response-suppress": "All"}, "notification", "X-Auto-Response-Suppress header"),
        ({"precedence": "auto_reply"}, "notification", "precedence: auto_reply"),
        ({"x-loop": "yes"}, "notification", "loop-prevention header"),
        ({"list-unsubscribe": "<mailto:u@x>"}, "bulk", "list-unsubscribe header"),
        ({"list-id": "<news.x.fr>"}, "bulk", "list-id header"),
        ({"feedback-id": "a:b:c"}, "bulk", "feedback-id header"),
        ({"precedence": "bulk"}, "bulk", "Precedence: bulk"),
        ({"precedence": "list"}, "bulk", "Precedence: list"),
    ],
)
def test_headers_alone(headers: dict[str, str], kind: str, reason: str) -> None:
    verdict = classify_automation(headers, "Information", "Voici l'information.", "a@x.fr", "")
    assert verdict == Automation(True, kind, reason)


@pytest.mark.parametrize(
    ("headers", "subject", "body", "from_addr", "from_name", "reason"),
    [
        ({"auto-submitted": "no"}, "Re: x", "Bonjour.", "a@x.fr", "", "no automation evidence"),
        (
            {},
            "Votre dossier",
            "Voici votre attestation.",
            "no-reply@francetravail.fr",
            "France Travail",
            "no-reply sender alone is not enough",
        ),
        (
            {"auto-submitted": "auto-generated", "x-zendesk-from-account-id": "1a2b3c4"},
            "[Acme] Re: x",
            "Votre atelier est confirmé.",
            "support@acme.zendesk.com",
            "Acme",
            "Auto-Submitted: auto-generated (Zendesk stamps every mail)",
        ),
        (
            {"auto-submitted": "auto-generated"},
            "Votre dossier",
            "Votre dossier est complet.\n\nCordialement,\nSandrine LEFEBVRE",
            "no-reply@francetravail.fr",
            "France Travail",
            "Auto-Submitted: auto-generated but signed by a person",
        ),
        (
            {},
            "Votre dossier",
            "Votre dossier est complet.\nCeci est un message automatique.\n\nCordialement,\n"
            "Sandrine LEFEBVRE",
            "no-reply@francetravail.fr",
            "France Travail",
            "automated wording but signed by a person",
        ),
        (
            {},
            "Votre dossier",
            "Votre dossier est complet. Merci de ne pas répondre.\nVotre conseillère",
            "no-reply@francetravail.fr",
            "France Travail",
            "automated wording but signed by a person",
        ),
        (
            {},
            "Votre dossier",
            "Votre dossier est complet. Merci de ne pas répondre.\nS. Lefebvre",
            "no-reply@francetravail.fr",
            "Sandrine Lefebvre",
            "automated wording but signed by a person",
        ),
        (
            {"precedence": "bulk", "rt-ticket": "rt #1"},
            "[rt #1] Re: x",
            "Voici la réponse.",
            "rt@x.fr",
            "",
            "no automation evidence",
        ),
    ],
)
def test_not_automated(
    headers: dict[str, str], subject: str, body: str, from_addr: str, from_name: str, reason: str
) -> None:
    assert classify_automation(headers, subject, body, from_addr, from_name) == Automation(
        False, None, reason
    )


def test_long_signed_reply_starting_with_a_receipt_phrase_is_human() -> None:
    body = (
        "Madame,\n\nNous avons bien reçu votre demande. Après étude de votre dossier, "
        + "votre attestation a été transmise au service indemnisation. " * 8
        + "\n\nCordialement,\n\nMarie Dupont\nConseillère France Travail"
    )
    verdict = classify_automation({}, "Re: Attestation", body, "m.dupont@francetravail.fr", "")
    assert (verdict.automated, verdict.kind) == (False, None)


def test_signed_resolution_notice_keeps_the_reply() -> None:
    body = (
        "Bonjour, votre attestation vous a été envoyée par courrier.\n\n"
        "Cordialement,\nJean Martin\n\n"
        "Votre demande (#22287) a été considérée comme résolue."
    )
    verdict = classify_automation({}, "[Acme] Re: Attestation", body, "s@acme.example", "Acme")
    assert verdict == Automation(False, "closure", "resolved notice carrying a signed reply")


def test_survey_link_in_a_long_reply_footer_is_not_a_survey() -> None:
    body = (
        "Bonjour,\n"
        + "Voici la réponse détaillée à votre question. " * 40
        + "\nDonnez-nous votre avis"
    )
    verdict = classify_automation({}, "Re: x", body, "agent@prestataire.example", "")
    assert verdict.kind is None


def test_quoted_receipt_in_a_reply_is_not_a_receipt() -> None:
    body = "Je relance ma demande.\n\nLe 3 mars 2020, Support a écrit :\n> Accusé de réception"
    verdict = classify_automation({}, "Re: x", body, "julie@example.org", "Julie Martin")
    assert verdict == Automation(False, None, "no automation evidence")


_WORDS = [
    "Nous avons bien reçu votre demande", "Cordialement,\nMarie Dupont", "accusé de réception",
    "nouveau message dans votre espace", "Votre demande a été clôturée", "merci de ne pas répondre",
    "Donnez-nous votre avis", "Je suis absente", "Réponse automatique :", "\n> cité", "Bonjour",
]  # fmt: skip
_TEXT = st.lists(st.sampled_from(_WORDS) | st.text(max_size=8), max_size=12).map("\n".join)
_HEADERS = st.dictionaries(
    st.sampled_from(
        ["auto-submitted", "precedence", "list-id", "x-zendesk-from-account-id", "x-autoreply"]
    ),
    st.sampled_from(["auto-generated", "auto-replied", "no", "bulk", "yes", ""]),
)


@given(headers=_HEADERS, subject=_TEXT, body=_TEXT, from_name=_TEXT)
def test_any_input_gives_a_consistent_verdict(
    headers: dict[str, str], subject: str, body: str, from_name: str
) -> None:
    verdict = classify_automation(headers, subject, body, "no-reply@x.fr", from_name)
    assert verdict.kind in (*KINDS, None)
    assert verdict.reason
    assert verdict.portal_notification == (verdict.kind == "portal_notification")
    if verdict.portal_notification:
        assert not verdict.automated
    if verdict.kind is None:
        assert not verdict.automated


def test_docstring_examples_hold() -> None:
    # CI runs plain pytest, without --doctest-modules.
    result = doctest.testmod(analyzer.automation)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    ("headers", "subject", "from_addr", "expected"),
    [
        ({"list-unsubscribe": "<mailto:stop@shop.example>"}, "Nos offres de la semaine",
         "news@shop.example", Automation(True, "bulk", "list-unsubscribe header")),
        ({"precedence": "bulk"}, "Lettre d'information", "info@asso.example",
         Automation(True, "bulk", "Precedence: bulk")),
        ({"auto-submitted": "auto-replied"}, "Réponse automatique : absence",
         "lea@example.org",
         Automation(True, "out_of_office", "Auto-Submitted: auto-replied with an absence subject")),
        ({}, "Undelivered Mail Returned to Sender", "MAILER-DAEMON@mx.example.org",
         Automation(True, "bounce", "bounce sender MAILER-DAEMON@mx.example.org")),
        ({}, "Information de paiement", "ne-pas-repondre@banque.example",
         Automation(True, "notification", "no-reply sender")),
        ({}, "Nouveau message dans votre espace client", "ne-pas-repondre@banque.example",
         Automation(True, "notification", "portal notification outside any counterpart")),
        ({}, "Covoiturage lundi", "lea@example.org",
         Automation(False, None, "no automation evidence")),
    ],
)
def test_mail_with_no_counterpart_from_what_is_stored(
        headers: dict[str, str], subject: str, from_addr: str, expected: Automation) -> None:
    assert classify_unread(headers, subject, from_addr, "") == expected

