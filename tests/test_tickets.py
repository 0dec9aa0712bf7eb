"""Ticket markers: one real-shaped message per helpdesk system, then the edge cases."""

from __future__ import annotations

import doctest
import email
import email.policy
import email.utils
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

import analyzer.tickets
from analyzer.msgids import parse_id_list, parse_message_id
from analyzer.tickets import (
    BODY_SCAN_LIMIT,
    SYSTEMS,
    TicketRef,
    TicketState,
    detect_previous_ticket_mentions,
    detect_tickets,
    own_text,
    primary_ticket,
    ticket_key,
    ticket_state,
)

FIXTURES = Path(__file__).parent / "data" / "tickets"


@dataclass(frozen=True)
class Mail:
    """The importer's view of a fixture: what the analyzer modules receive."""

    subject: str
    headers: dict[str, str]
    message_id: str
    references: list[str]
    from_addr: str
    from_name: str
    body: str


def load(name: str) -> Mail:
    msg = email.message_from_bytes((FIXTURES / name).read_bytes(), policy=email.policy.default)
    headers: dict[str, str] = {}
    for key, value in msg.items():
        key = key.lower()
        headers[key] = f"{headers[key]}\n{value}" if key in headers else str(value)
    part = msg.get_body(preferencelist=("plain",))
    body = part.get_content() if part is not None else ""
    from_name, from_addr = email.utils.parseaddr(headers.get("from", ""))
    return Mail(
        subject=headers.get("subject", ""),
        headers=headers,
        message_id=parse_message_id(headers.get("message-id")) or "",
        references=parse_id_list(headers.get("references")),
        from_addr=from_addr.lower(),
        from_name=from_name,
        body=body,
    )


def refs_of(mail: Mail) -> list[tuple[str, str, str]]:
    found = detect_tickets(mail.subject, mail.headers, mail.message_id, mail.references, mail.body)
    return [(r.system, r.number, r.source) for r in found]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("otrs_new_ticket_en.eml", [("otrs", "2020021910000123", "subject")]),
        ("otrs_followup_rejected_en.eml", [("otrs", "2020021910000123", "subject")]),
        (
            "zammad_inquiry_received_en.eml",
            [("zammad", "31001", "subject"), ("zammad", "id:42", "message_id")],
        ),
        ("rt_autoreply_en.eml", [("rt", "4512", "header")]),
        ("rt_resolved_en.eml", [("rt", "4512", "header")]),
        (
            "zendesk_request_solved_fr.eml",
            [("zendesk", "7RKX1PJ9QW", "message_id"), ("zendesk", "22287", "body")],
        ),
        (
            "zendesk_satisfaction_survey_en.eml",
            [("zendesk", "7RKX1PJ9QW", "message_id"), ("zendesk", "22287", "subject")],
        ),
        ("freshdesk_ticket_received_en.eml", [("freshdesk", "1234", "subject")]),
        ("freshdesk_ticket_resolved_en.eml", [("freshdesk", "1234", "subject")]),
        ("osticket_ticket_opened_en.eml", [("osticket", "482913", "subject")]),
        ("osticket_autoclose_en.eml", [("osticket", "482913", "subject")]),
        ("glpi_followup_fr.eml", [("glpi", "1234", "subject")]),
        ("redmine_issue_resolved_fr.eml", [("redmine", "789", "header")]),
        ("jira_issue_resolved_en.eml", [("jira", "ACC-123", "subject")]),
        (
            "salesforce_case_update_en.eml",
            [
                ("salesforce", "00D20N1PA.5004L6Lhrg", "subject"),
                ("salesforce", "00012345", "subject"),
            ],
        ),
        (
            "servicenow_incident_resolved_en.eml",
            [("servicenow", "INC0012345", "subject"), ("servicenow", "MSG3846157", "body")],
        ),
        ("dynamics_case_reply_fr.eml", [("dynamics", "0001001", "subject")]),
        (
            "francetravail_acknowledgement_fr.eml",
            [("fr-reference", "2020-0219-004512", "body")],
        ),
        ("francetravail_advisor_reply_noreply_fr.eml", [("fr-reference", "CRE-2020-0457", "body")]),
        ("francetravail_portal_notification_fr.eml", []),
        ("newsletter_list_fr.eml", []),
    ],
)
def test_each_system_in_a_real_shaped_message(
    fixture: str, expected: list[tuple[str, str, str]]
) -> None:
    assert refs_of(load(fixture)) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[Ticket#2020021910000123] Contrôle", ("otrs", "2020021910000123")),
        ("RE: [Ticket#2020021910000123] Contrôle", ("otrs", "2020021910000123")),
        ("[Ticket#: 2020021910000123] Contrôle", ("otrs", "2020021910000123")),
        ("[Call#2020021910000123] Contrôle", ("otrs", "2020021910000123")),
        ("Atelier CV [Ticket#31001]", ("zammad", "31001")),
        ("Re: Atelier CV [Ticket#31001]", ("zammad", "31001")),
        ("[rt.example.org #4512] AutoReply: Dossier", ("rt", "4512")),
        ("[Support FT #88] Re: Dossier", ("rt", "88")),
        ("[GLPI #0001234] Nouveau suivi", ("glpi", "1234")),
        ("[DDO #0001234] Ticket résolu", ("glpi", "1234")),
        ("[Projet - Anomalie #789] (Nouveau) Accès", ("redmine", "789")),
        ("New comment - [#1234] Inscription", ("freshdesk", "1234")),
        ("Re: Inscription [#Freshworks-1234]", ("freshdesk", "1234")),
        ("Re: Inscription [#AB12CD]", ("osticket", "AB12CD")),
        ("Support Ticket Opened [#482913]", ("osticket", "482913")),
        ("[JIRA] (ACC-123) Atelier", ("jira", "ACC-123")),
        ("Case ref:!00Di00jTAB.!500VU01BYycT:ref", ("salesforce", "00Di00jTAB.500VU01BYycT")),
        (
            "Re: Case [ thread::pp5XPGfmNf2hRZdRCWnrohc:: ]",
            ("salesforce", "pp5XPGfmNf2hRZdRCWnrohc"),
        ),
        ("Case CS0001234 opened - access", ("servicenow", "CS0001234")),
        ("RITM0010020 update", ("servicenow", "RITM0010020")),
        ("RE: Remboursement CRM:0001001", ("dynamics", "0001001")),
        ("Votre demande n° 2020-45871", ("fr-reference", "2020-45871")),
        ("Ticket #4455 - attestation", ("fr-reference", "4455")),
    ],
)
def test_subject_tags(subject: str, expected: tuple[str, str]) -> None:
    refs = detect_tickets(subject, {}, "id@example.org", [], "")
    assert [(r.system, r.number) for r in refs] == [expected]
    assert refs[0].source == "subject"


@pytest.mark.parametrize(
    ("message_id", "references", "expected"),
    [
        (
            "7RKX1PJ9QW_5e78c5df6f1a4_3a1f2c_sprut@zendesk.com",
            [],
            [("zendesk", "7RKX1PJ9QW", "message_id")],
        ),
        ("a@b", ["7RKX1PJ9QW@zendesk.com"], [("zendesk", "7RKX1PJ9QW", "references")]),
        (
            "rt-4.4.3-28811-1583854811-1193.4512-3-0@example.org",
            ["RT-Ticket-4512@example.org"],
            [("rt", "4512", "message_id")],
        ),
        ("redmine.issue-789.20200303091200.1f2e3d@x", [], [("redmine", "789", "message_id")]),
        # A journal id is not the issue number: only the reference names the issue.
        (
            "redmine.journal-5521.20200317170433.8a7b@x",
            ["redmine.issue-789.20200303091200.1f2e@x"],
            [("redmine", "789", "references")],
        ),
        ("GLPI_7c2e9d4a1b-Ticket-1234/new.1582194300.9@x", [], [("glpi", "1234", "message_id")]),
        ("GLPI-1234.1582194300.918273645@glpi.example", [], [("glpi", "1234", "message_id")]),
        (
            "20200305091502.42.5b0e7c1a-3f2d-4e8b-9a61-0c4d2e7f8a93@zammad.example",
            [],
            [("zammad", "id:42", "message_id")],
        ),
        # 14 digits that are not a date, or a tail that is not a UUID: not Zammad.
        ("99999999999999.42.5b0e7c1a-3f2d-4e8b-9a61-0c4d2e7f8a93@other.example", [], []),
        ("20021210123456.12345.mutt@host.example", [], []),
        ("CAF1x2y3z4@mail.gmail.com", ["1582117392.4121.613227458@otrs.example"], []),
    ],
)
def test_message_id_and_references(
    message_id: str, references: list[str], expected: list[tuple[str, str, str]]
) -> None:
    refs = detect_tickets("Bonjour", {}, message_id, references, "")
    assert [(r.system, r.number, r.source) for r in refs] == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-redmine-issue-id": "789"}, [("redmine", "789", "header")]),
        ({"rt-ticket": "rt.example.org #4512"}, [("rt", "4512", "header")]),
        ({"x-rt-ticket": "rt.example.org #4512"}, [("rt", "4512", "header")]),
        ({"x-redmine-issue-id": "not-a-number"}, []),
    ],
)
def test_vendor_headers(headers: dict[str, str], expected: list[tuple[str, str, str]]) -> None:
    refs = detect_tickets("Bonjour", headers, "a@b", [], "")
    assert [(r.system, r.number, r.source) for r in refs] == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Votre demande n° 2020-123456 est en cours.", ["2020-123456"]),
        ("Votre demande n°2020-123456 est en cours.", ["2020-123456"]),
        ("Dossier N° : AB-778812", ["AB-778812"]),
        ("Référence : ABC-98765", ["ABC-98765"]),
        ("Réf. 77889900", ["77889900"]),
        ("réf : 77889900", ["77889900"]),
        ("N° de demande : 4589632", ["4589632"]),
        ("Numéro de dossier : 4589632", ["4589632"]),
        ("Votre numéro de suivi : 2020-77812", ["2020-77812"]),
        ("Votre demande numéro 2024-ABC-42 a été transmise.", ["2024-ABC-42"]),
        ("Rappelez la référence de votre dossier : 4589632", ["4589632"]),
        ("Ticket #4455 ouvert", ["4455"]),
        # Dates, years, phone numbers, postcodes and amounts are not references.
        ("Dossier n° 19/02/2020", []),
        ("Demande n° 2020 traitée", []),
        ("Dossier n° 0612345678", []),
        ("Dossier n° 75001 Paris", []),
        ("Référence : 1234,56 € à régler", []),
        ("Réf. 1234 euros", []),
        ("Appelez le 39 49 du lundi au vendredi.", []),
        ("Demande n° 12 reçue.", []),
        ("Le 19/02/2020, vous avez été contacté au 01 23 45 67 89.", []),
    ],
)
def test_french_prose_references(body: str, expected: list[str]) -> None:
    refs = detect_tickets("Bonjour", {}, "a@b", [], body)
    assert [r.number for r in refs] == expected
    assert all(r.system == "fr-reference" and r.source == "body" for r in refs)


def test_order_is_by_confidence_then_position() -> None:
    refs = detect_tickets(
        "Re: Dossier n° 55512 [rt.example.org #4512]",
        {"x-redmine-issue-id": "789"},
        "redmine.issue-789.20200303091200.1f2e@x",
        [],
        "Votre demande n° 2020-123456 est suivie sous la référence : ABC-98765.",
    )
    assert [ticket_key(r) for r in refs] == [
        "redmine:789",
        "rt:4512",
        "fr-reference:55512",
        "fr-reference:2020-123456",
        "fr-reference:ABC-98765",
    ]
    assert [r.source for r in refs] == ["header", "subject", "subject", "body", "body"]


def test_prose_around_a_vendor_number_is_not_repeated() -> None:
    refs = detect_tickets(
        "[Acme] Ticket #22287", {"x-zendesk-from-account-id": "1a2b3c4"}, "a@b", [], ""
    )
    assert refs == [TicketRef("zendesk", "22287", "subject")]


def test_otrs_hook_is_not_read_as_prose() -> None:
    refs = detect_tickets("", {}, "a@b", [], "Your ticket Ticket#2020021910000123 was created")
    assert refs == [TicketRef("otrs", "2020021910000123", "body")]


def test_servicenow_last_watermark_wins() -> None:
    body = "Ref:MSG0000001\n" + "x" * 5000 + "\nRef:MSG3846157_Xy7Zk2LmNp4QrS8tUv1W"
    refs = detect_tickets("Update", {}, "a@b", [], body)
    assert refs == [TicketRef("servicenow", "MSG3846157", "body")]


def test_body_beyond_the_scan_limit_is_ignored() -> None:
    body = "x" * BODY_SCAN_LIMIT + " Votre demande n° 2020-123456"
    assert detect_tickets("Bonjour", {}, "a@b", [], body) == []


def test_lower_case_record_words_are_not_servicenow() -> None:
    assert detect_tickets("inc0012345 chg1234567", {}, "a@b", [], "") == []


def test_bare_jira_key_needs_the_jira_header() -> None:
    assert detect_tickets("COVID-19 et UTF-8", {}, "a@b", [], "") == []
    refs = detect_tickets("ACC-123 Atelier", {"x-jira-fingerprint": "3c2f"}, "a@b", [], "")
    assert refs == [TicketRef("jira", "ACC-123", "subject")]


def test_primary_ticket_and_key() -> None:
    mail = load("zendesk_request_solved_fr.eml")
    refs = detect_tickets(mail.subject, mail.headers, mail.message_id, mail.references, mail.body)
    primary = primary_ticket(refs)
    assert primary == TicketRef("zendesk", "7RKX1PJ9QW", "message_id")
    assert ticket_key(primary) == "zendesk:7RKX1PJ9QW"
    assert primary_ticket([]) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Suite à ma demande n° 2023-004512 du 03/03/2023, rien.", ["2023-004512"]),
        ("Suite à ma précédente demande (réf. AB-4471), je relance.", ["AB-4471"]),
        ("Ma précédente demande 2023-009911 est restée sans réponse.", ["2023-009911"]),
        ("Mon ancien dossier numéro 77812 a été perdu.", ["77812"]),
        ("Ma demande initiale n° 4589632 date de mars.", ["4589632"]),
        ("Le ticket #88123 a été fermé sans réponse.", ["88123"]),
        ("Ma demande n° 55123, clôturée hier, n'est pas réglée.", ["55123"]),
        ("My previous ticket #4455 was closed.", ["4455"]),
        ("Following up on my request #8812, still waiting.", ["8812"]),
        # A date after the cue is not the number.
        ("Suite à ma demande du 03/03/2023, je relance.", []),
        # The number must be in the same sentence as the cue.
        ("Suite à ma demande. Mon numéro est 0612345678.", []),
        ("Merci pour votre réponse du 12 mars.", []),
        (
            "Suite à ma demande n° 2023-004512 je relance. Ma précédente demande "
            "n° 2023-004512 aussi.",
            ["2023-004512"],
        ),
        # Quoted history is not the writer's own citation.
        ("Bonjour.\n\nLe 3 mars 2024, X a écrit :\n> Suite à ma demande n° 99812", []),
    ],
)
def test_previous_ticket_mentions(body: str, expected: list[str]) -> None:
    assert detect_previous_ticket_mentions(body) == expected


def test_previous_mentions_in_a_real_reopening_message() -> None:
    mail = load("citizen_reopening_fr.eml")
    assert detect_previous_ticket_mentions(mail.body) == ["2020-0219-004512", "22287"]


@pytest.mark.parametrize(
    ("subject", "body", "expected"),
    [
        # Rejected follow-ups (OTRS, ServiceNow, French wording).
        ("Your email has been rejected! (RE: x)", "", "rejected_followup"),
        ("RE: x", "Your previous ticket is closed.", "rejected_followup"),
        ("x", "-- Your follow-up has been rejected. --", "rejected_followup"),
        ("Unable to update your closed case CS0001234.", "", "rejected_followup"),
        ("Votre courriel a été rejeté ! (RE: x)", "", "rejected_followup"),
        (
            "x",
            "Votre précédent ticket est clôturé. -- Votre relance a été rejetée. --",
            "rejected_followup",
        ),
        ("x", "Impossible de mettre à jour votre dossier clôturé CS0012935.", "rejected_followup"),
        ("x", "Votre message n'a pas été pris en compte.", "rejected_followup"),
        ("x", "Merci de créer un nouveau ticket.", "rejected_followup"),
        ("x", "Merci d'ouvrir un nouveau dossier.", "rejected_followup"),
        ("x", "Please create a new ticket.", "rejected_followup"),
        # The same advice in a closure notice is part of the closure.
        ("x", "Cette demande est close, merci de créer une nouvelle demande.", "closed"),
        (
            "Votre demande a été clôturée",
            "Votre demande n° 204100902 a été clôturée. Si vous souhaitez apporter des "
            "précisions, merci de créer une nouvelle demande depuis votre espace personnel.",
            "closed",
        ),
        ("x", "Veuillez créer une nouvelle demande depuis votre espace.", "rejected_followup"),
        ("x", "Vous ne pouvez plus répondre à cette demande.", "rejected_followup"),
        ("x", "Cette demande ne peut plus être mise à jour.", "rejected_followup"),
        # Reopened.
        ("Ticket re-opened - [#1234] Inscription", "", "reopened"),
        ("x", "Your ticket has been reopened.", "reopened"),
        ("x", "Votre demande a été rouverte.", "reopened"),
        ("x", "Votre demande a été réouverte suite à votre réponse.", "reopened"),
        ("Solution rejected", "", "reopened"),
        # Closed.
        ("Ticket Closed - Inscription", "", "closed"),
        ("Re: Justificatifs [#482913] Closed", "", "closed"),
        ("x", "This message is to confirm that we have resolved and closed your ticket", "closed"),
        ("Case CS0001234 has been closed", "", "closed"),
        ("Case CS0001234 autoclose notice", "", "closed"),
        ("Closing of the ticket", "", "closed"),
        ("x", "Votre demande a été clôturée.", "closed"),
        ("x", "Votre ticket a été fermé.", "closed"),
        ("x", "Votre dossier a été classé sans suite.", "closed"),
        ("x", "Votre demande est désormais clôturée.", "closed"),
        ("x", "Statut : Clos", "closed"),
        ("[Projet - Support #7] (Fermé) Accès", "", "closed"),
        ("[Projet - Support #7] (Rejeté) Accès", "", "closed"),
        ("[Projet - Support #7] (Feedback) Accès", "", "pending"),
        # The subject status outranks the citizen's text echoed in the body.
        ("[Projet - Demande #1527] (Nouveau) Suite", "Ma demande #1514 a été clôturée.", "new"),
        ("[Projet - Demande #1527] (En cours) Suite", "Ma demande a été clôturée.", "closed"),
        # Resolved.
        ("Resolved: Dossier", "", "resolved"),
        ("Ticket Resolved - Inscription", "", "resolved"),
        ("x", "According to our records, your request has been resolved.", "resolved"),
        (
            "x",
            "Your request (#22287) has been deemed solved. To reopen this request, reply.",
            "resolved",
        ),
        ("x", "Your request (#22287) has been solved. To reopen this request, reply.", "resolved"),
        (
            "x",
            "Votre demande (#22287) a été considérée comme résolue. Pour la rouvrir, répondez.",
            "resolved",
        ),
        ("x", "Votre demande a été résolue.", "resolved"),
        ("Ticket solved", "", "resolved"),
        ("Solution Proposed for Ticket: INC0012345", "", "resolved"),
        ("[Projet - Support #7] (Résolu) Accès", "", "resolved"),
        # Pending.
        ("x", "Votre demande est en attente de votre réponse.", "pending"),
        ("x", "This ticket is awaiting your reply.", "pending"),
        # New.
        ("x", "Thanks for your email. A new ticket has been created.", "new"),
        ("New ticket has been created! (RE: x)", "-- A new ticket has been created --", "new"),
        ("Support Ticket Opened [#482913]", "", "new"),
        ("Ticket Received - Inscription", "", "new"),
        ("[rt #1] AutoReply: Dossier", "", "new"),
        ("Thanks for your inquiry (Atelier)", "", "new"),
        ("x", "Nous avons bien reçu votre demande.", "new"),
        ("x", "Votre demande a bien été enregistrée.", "new"),
        ("x", "Votre ticket n° 0001250 a été créé.", "new"),
        ("x", "Nous vous confirmons la bonne réception de votre demande.", "new"),
        ("x", "Un ticket a été créé (#21538).", "new"),
        ("[GLPI #0001250] Nouveau ticket Attestation", "", "new"),
        ("[Projet - Support #7] (Nouveau) Accès", "", "new"),
        # No state.
        ("Re: Attestation", "Merci pour votre message.", None),
        ("x", "To reopen this request, reply to this email.", None),
        ("x", "Pour la rouvrir, répondez à cet e-mail.", None),
        ("x", "Le ticket sera automatiquement fermé après 48 heures.", None),
        # Quoted notices belong to the quoted message.
        ("Re: x", "Merci.\n\nOn Mon, 2 Mar 2020, Support wrote:\n> has been closed", None),
    ],
)
def test_ticket_state_wording(subject: str, body: str, expected: str | None) -> None:
    assert ticket_state(subject, body) == expected


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("otrs_new_ticket_en.eml", "new"),
        ("otrs_followup_rejected_en.eml", "rejected_followup"),
        ("zammad_inquiry_received_en.eml", "new"),
        ("rt_autoreply_en.eml", "new"),
        ("rt_resolved_en.eml", "resolved"),
        ("rt_agent_reply_fr.eml", None),
        ("zendesk_request_solved_fr.eml", "resolved"),
        ("zendesk_agent_reply_fr.eml", None),
        ("freshdesk_ticket_received_en.eml", "new"),
        ("freshdesk_ticket_resolved_en.eml", "resolved"),
        ("osticket_autoclose_en.eml", "closed"),
        ("redmine_issue_resolved_fr.eml", "resolved"),
        ("servicenow_incident_resolved_en.eml", "resolved"),
        ("francetravail_acknowledgement_fr.eml", "new"),
    ],
)
def test_ticket_state_of_real_shaped_messages(fixture: str, expected: str | None) -> None:
    mail = load(fixture)
    assert ticket_state(mail.subject, mail.body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Merci.\n> cité", "Merci.\n"),
        ("Merci.\n-----Original Message-----\nFrom: x", "Merci.\n"),
        ("Merci.\n-----Message d'origine-----\nDe : x", "Merci.\n"),
        ("Merci.\nDe : Support <s@x>\nEnvoyé : lundi\nObjet : y", "Merci.\n"),
        ("Merci.\nOn Mon, 2 Mar 2020 at 10:00, Support <s@x> wrote:\n", "Merci.\n"),
        ("Merci.\n Le lundi 4 juin 2018 à 13:59, a@x.fr\n <a@x.fr> a écrit :\n", "Merci.\n"),
        # Prose that merely reads like a quote header (no date) is kept.
        ("Le conseiller a écrit : rien.", "Le conseiller a écrit : rien."),
        ("Pas de citation.", "Pas de citation."),
    ],
)
def test_own_text_stops_at_quoted_history(body: str, expected: str) -> None:
    assert own_text(body) == expected


_WORDS = [
    "[Ticket#2020021910000123]", "Ticket#31001", "[rt #12]", "[GLPI #0001234]", "[#123]",
    "demande", "n°", "2020-123456", "réf.", "Référence", ":", "#", "suite", "à", "ma",
    "précédente", "ticket", "fermé", "clôturée", "a", "été", "Ref:MSG123", "INC0012345",
    "(#22287)", "Votre", "\n>", "Le 3 mars 2020, X a écrit :", "39 49", "75001", "Paris",
]  # fmt: skip
_TEXT = st.lists(st.sampled_from(_WORDS) | st.text(max_size=8), max_size=30).map(" ".join)


@given(subject=_TEXT, body=_TEXT, message_id=_TEXT, reference=_TEXT)
def test_any_input_gives_well_formed_refs(
    subject: str, body: str, message_id: str, reference: str
) -> None:
    refs = detect_tickets(subject, {}, message_id, [reference], body)
    assert len({(r.system, r.number) for r in refs}) == len(refs)
    assert all(r.system in SYSTEMS and r.number for r in refs)
    assert primary_ticket(refs) == (refs[0] if refs else None)
    assert ticket_state(subject, body) in (*get_args(TicketState), None)
    mentions = detect_previous_ticket_mentions(body)
    assert len(set(mentions)) == len(mentions)
    assert own_text(body) == body[: len(own_text(body))]


def test_docstring_examples_hold() -> None:
    # CI runs plain pytest, without --doctest-modules.
    result = doctest.testmod(analyzer.tickets)
    assert result.attempted > 0
    assert result.failed == 0
