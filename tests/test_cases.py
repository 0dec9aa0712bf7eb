"""The case builder: tickets closed and reopened rebuilt into cases, every
link explained, corrections kept, scored on scenarios with known truth."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from analyzer import cases, forking, synthetic
from analyzer.analysis import Analysis
from analyzer.cases import (
    _names_my_request,
    _quotes_subject,
    _specifics,
    _starts_programme,
    case_id_for,
)
from analyzer.cli import cli
from analyzer.config import load_config, parse_config
from analyzer.discover import discover
from analyzer.importer import import_paths
from analyzer.store import Store
from tests.builders import message, write_maildir
from tests.conftest import SAMPLE_MAILBOX, another_thread, record_forks, single_threaded

ME = "julie.moreau@exemple-perso.fr"
CONFIG = parse_config({
    "me": {"addresses": [ME]},
    "counterpart": [
        {"name": "France Travail", "kind": "agency", "domains": ["francetravail.fr"]},
        {"name": "Cabinet Avenir", "kind": "contractor", "domains": ["cabinet-avenir.fr"]},
    ],
})
AGENCY = "Conseillère <ape.tilleuls@francetravail.fr>"
NOREPLY = "France Travail <ne-pas-repondre@francetravail.fr>"

ROOT = Path(__file__).resolve().parent.parent


def bcubed(truth: dict[str, str], predicted: dict[str, str]) -> float:
    """B-cubed F1 of a predicted clustering against the truth (same keys)."""
    precision, recall = synthetic.bcubed(truth, predicted)
    return 2 * precision * recall / (precision + recall)


def test_bcubed_reference_values() -> None:
    truth = {"a": "1", "b": "1", "c": "2"}
    assert bcubed(truth, {"a": "x", "b": "x", "c": "y"}) == 1.0
    assert round(bcubed(truth, {"a": "x", "b": "x", "c": "x"}), 4) == 0.7143


def _build(tmp_path: Path, files: dict[str, bytes], config: Any = CONFIG) -> pd.DataFrame:
    return _build_with_links(tmp_path, files, config)[0]


def _build_with_links(tmp_path: Path, files: dict[str, bytes], config: Any = CONFIG
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Messages by Message-ID and links by the message they lead to."""
    write_maildir(tmp_path / "mail", files)
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [tmp_path / "mail"], config, workers=1)
        analysis = Analysis(store, config)
        return (analysis.messages().set_index("message_id"),
                analysis.links().set_index("to_message_id"))


def _msg(n: int, sender: str, to: str, subject: str, day: int, body: str,
         **extra: Any) -> bytes:
    return message(message_id=f"<m{n}@x>", sender=sender, to=to, subject=subject,
                   date=f"Mon, {day:02d} Nov 2023 10:00:00 +0100", body=body, **extra)


SITUATION = ("Bonjour,\n\nMa société est devenue une coopérative (SCOP) et le greffe du "
             "tribunal de commerce n'a pas encore enregistré le changement. Comment "
             "ouvrir mes droits au chômage ?\n\nJulie Moreau\n")
CLOSED = ("Bonjour,\n\nVotre demande n° 2023-000111 a été clôturée. Vous ne pouvez plus "
          "répondre à ce message : merci de créer une nouvelle demande.\n")


def closed_ticket_then_new_request() -> dict[str, bytes]:
    """A request, its answer, the advisor's closure, then the citizen starting
    again two days later, new subject, no reply header, no number."""
    return {
        "1.a:2,S": _msg(1, ME, "contact@francetravail.fr", "Ouverture de droits SCOP", 6,
                        SITUATION),
        "2.a:2,S": _msg(2, AGENCY, ME, "RE: [Demande n° 2023-000111] Ouverture de droits SCOP",
                        14, "Bonjour,\n\nMerci d'envoyer votre Kbis.\n\nNadia Benali\n",
                        in_reply_to="<m1@x>", references="<m1@x>"),
        "3.a:2,S": _msg(3, NOREPLY, ME, "Votre demande n° 2023-000111 a été clôturée", 15,
                        CLOSED),
        "4.a:2,S": _msg(4, ME, "contact@francetravail.fr", "Droits au chômage après SCOP", 17,
                        "Bonjour,\n\nLe greffe du tribunal de commerce n'a toujours pas "
                        "enregistré ma coopérative (SCOP). Comment ouvrir mes droits au "
                        "chômage ?\n\nJulie Moreau\n"),
    }


def test_closed_ticket_then_new_request_is_one_case(tmp_path: Path) -> None:
    messages = _build(tmp_path, closed_ticket_then_new_request())
    assert messages.loc["m4@x", "case_id"] == messages.loc["m1@x", "case_id"]
    assert messages.loc["m1@x", "case_id"] == case_id_for("m1@x")
    assert messages.loc["m3@x", "is_closure"]
    assert messages.loc["m3@x", "automated"]
    assert messages.loc["m2@x", "ticket_id"] == "fr-reference:2023-000111"
    assert messages.loc["m2@x", "sender_person"] == "Nadia Benali"


def test_distinct_matter_after_a_closure_stays_apart(tmp_path: Path) -> None:
    files = closed_ticket_then_new_request()
    files["4.a:2,S"] = _msg(4, ME, "contact@francetravail.fr", "Changement d'adresse", 25,
                            "Bonjour,\n\nJ'ai déménagé à Lyon, voici ma nouvelle adresse "
                            "postale pour les courriers.\n\nJulie Moreau\n")
    messages = _build(tmp_path, files)
    assert messages.loc["m4@x", "case_id"] != messages.loc["m1@x", "case_id"]


def test_citing_the_old_number_links_the_new_ticket(tmp_path: Path) -> None:
    files = closed_ticket_then_new_request()
    files["4.a:2,S"] = _msg(4, ME, "contact@francetravail.fr", "Nouvelle question", 28,
                            "Bonjour,\n\nSuite à ma demande n° 2023-000111 clôturée sans "
                            "réponse, je vous écris de nouveau.\n\nJulie Moreau\n")
    messages = _build(tmp_path, files)
    assert messages.loc["m4@x", "case_id"] == messages.loc["m1@x", "case_id"]
    assert pd.isna(messages.loc["m4@x", "ticket_id"])


def test_a_reopening_answered_then_closed_stays_with_its_case(tmp_path: Path) -> None:
    # The reopening of 17/11 gets an advisor's answer and a closure notice
    # under a number never seen; a week later I cite the first request's
    # number. That later request continues the case, but only after the
    # reopening was closed: the reopening was no other matter.
    files = closed_ticket_then_new_request()
    files["6.a:2,S"] = _msg(6, AGENCY, ME, "Votre demande", 20,
                            "Bonjour,\n\nLe dossier est en cours d'examen.\n\nNadia Benali\n")
    files["7.a:2,S"] = _msg(7, NOREPLY, ME, "Votre demande n° 2023-000222 a été clôturée", 21,
                            CLOSED.replace("111", "222"))
    files["8.a:2,S"] = _msg(8, ME, "contact@francetravail.fr", "Nouvelle question", 24,
                            "Bonjour,\n\nSuite à ma demande n° 2023-000111, je n'ai "
                            "toujours pas de réponse.\n\nJulie Moreau\n")
    messages = _build(tmp_path, files)
    case = messages.loc["m1@x", "case_id"]
    assert messages.loc[[f"m{n}@x" for n in (1, 2, 3, 4, 6, 7, 8)], "case_id"].tolist() == [
        case] * 7


def test_contractor_alone_is_its_own_case_and_joins_when_pointing(tmp_path: Path) -> None:
    files = closed_ticket_then_new_request()
    files["5.a:2,S"] = _msg(5, "Cabinet Avenir <rdv@cabinet-avenir.fr>", ME,
                            "Accompagnement obligatoire", 20,
                            "Madame,\n\nVous avez été orientée vers notre accompagnement. "
                            "Merci de prendre rendez-vous.\n")
    messages = _build(tmp_path, files)
    assert messages.loc["m5@x", "case_id"] not in set(messages.loc[["m1@x", "m4@x"], "case_id"])
    files["5.a:2,S"] = _msg(5, "Cabinet Avenir <rdv@cabinet-avenir.fr>", ME,
                            "Votre dossier", 20,
                            "Madame,\n\nConcernant la demande n° 2023-000111, merci de "
                            "prendre rendez-vous.\n")
    messages = _build(tmp_path / "again", files)
    assert messages.loc["m5@x", "case_id"] == messages.loc["m1@x", "case_id"]


def test_messages_with_no_counterpart_belong_to_no_case(tmp_path: Path) -> None:
    files = closed_ticket_then_new_request()
    files["9.a:2,S"] = _msg(9, "Ami <ami@exemple.fr>", ME, "Re: Ouverture de droits SCOP", 7,
                            "Courage !\n", in_reply_to="<m1@x>")
    messages = _build(tmp_path, files)
    assert pd.isna(messages.loc["m9@x", "case_id"])
    assert messages.loc["m9@x", "thread_id"] == messages.loc["m1@x", "thread_id"]


def test_mail_with_no_counterpart_is_automated_from_its_headers(tmp_path: Path) -> None:
    # Its body is not stored, but what is kept of every message says whether
    # a machine sent it.
    files = {
        "1.a:2,S": _msg(1, "Boutique <news@boutique.example>", ME, "Nos offres", 6,
                        "Bonjour,\n\nDécouvrez nos offres.\n",
                        extra="List-Unsubscribe: <mailto:stop@boutique.example>\n"),
        "2.a:2,S": _msg(2, "Banque <ne-pas-repondre@banque.example>", ME,
                        "Information de paiement", 7, "Un virement a été reçu.\n"),
        "3.a:2,S": _msg(3, "Léa <lea@exemple.fr>", ME, "Covoiturage lundi", 8, "Ça marche ?\n"),
    }
    messages = _build(tmp_path, files)
    rows = messages.loc[["m1@x", "m2@x", "m3@x"],
                        ["party", "case_id", "automated", "automation_kind"]].values.tolist()
    assert [[None if pd.isna(v) else v for v in row] for row in rows] == [
        ["other", None, True, "bulk"], ["other", None, True, "notification"],
        ["other", None, False, None]]


def test_resent_message_counts_even_when_retold_later(tmp_path: Path) -> None:
    # The new conversation re-sends the first message under its date, and a
    # later message of it tells the matter once more in the same words: the
    # re-sent message is still named by its date.
    files = closed_ticket_then_new_request()
    quoted = "".join(f"> {line}\n" for line in SITUATION.splitlines())
    files["4.a:2,S"] = _msg(4, ME, "contact@francetravail.fr", "Relance", 20,
                            "Bonjour,\n\nJe vous renvoie ci-dessous mon message du "
                            f"06/11/2023, toujours sans réponse.\n\nJulie Moreau\n\n{quoted}")
    files["5.a:2,S"] = _msg(5, ME, "contact@francetravail.fr", "Re: Relance", 23,
                            SITUATION, in_reply_to="<m4@x>", references="<m4@x>")
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m4@x", "case_id"] == messages.loc["m1@x", "case_id"]
    assert links.loc["m4@x", "signal"] == "quote"


CALLCENTRE = "Cabinet Avenir <contact@cabinet-avenir.fr>"
PROGRAMME_OPENING = ("Madame, Monsieur,\n\nDans le cadre de votre parcours avec France "
                     "Travail, vous avez été orientée vers la prestation du Cabinet Avenir.\n")


def _two_programmes_then_coach(coach: str) -> dict[str, bytes]:
    """Two programmes of one contractor, each opened by the call centre and
    answered by me (messages 1 to 4, 6 to 9 November), then a coach writes
    ``coach`` on 10 November (message 5)."""
    return {
        "1.a:2,S": _msg(1, CALLCENTRE, ME, "Votre parcours vers l'emploi", 6,
                        PROGRAMME_OPENING),
        "2.a:2,S": _msg(2, ME, "contact@cabinet-avenir.fr", "Re: Votre parcours vers l'emploi",
                        7, "Bonjour,\n\nJe suis disponible mardi.\n\nJulie Moreau\n",
                        in_reply_to="<m1@x>", references="<m1@x>"),
        "3.a:2,S": _msg(3, CALLCENTRE, ME, "Accompagnement obligatoire", 8,
                        PROGRAMME_OPENING.replace("parcours", "projet")),
        "4.a:2,S": _msg(4, ME, "contact@cabinet-avenir.fr", "Re: Accompagnement obligatoire",
                        9, "Bonjour,\n\nJe vous rappelle demain.\n\nJulie Moreau\n",
                        in_reply_to="<m3@x>", references="<m3@x>"),
        "5.a:2,S": _msg(5, "Karim Girard <k.girard@cabinet-avenir.fr>", ME,
                        "Suite de votre accompagnement", 10,
                        "Bonjour Julie Moreau,\n\nJe suis votre conseiller référent.\n\n"
                        f"Karim Girard\n{coach}"),
    }


def test_forwarded_message_names_the_programme_it_continues(tmp_path: Path) -> None:
    # Two programmes of one contractor under way; a coach then forwards the
    # call centre's message that opened the older one. Its header (sender,
    # minute sent) names that message: the coach's conversation continues
    # that programme, not the latest one.
    files = _two_programmes_then_coach(
        "\n---------- Message transféré ----------\n"
        f"De : {CALLCENTRE}\nDate : lundi 6 novembre 2023 10:00\n"
        f"Objet : Votre parcours vers l'emploi\n\n{PROGRAMME_OPENING}")
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m5@x", "case_id"] == messages.loc["m1@x", "case_id"]
    assert messages.loc["m5@x", "case_id"] != messages.loc["m3@x", "case_id"]
    assert links.loc["m5@x", "signal"] == "forward"
    assert links.loc["m5@x", "params"] == {"date": "06/11/2023 10:00"}


@pytest.mark.parametrize(("still_going", "follows"), [(True, "m1@x"), (False, "m3@x")])
def test_a_coach_follows_the_programme_whose_exchange_has_ended(
        tmp_path: Path, still_going: bool, follows: str) -> None:
    # Two programmes of one contractor; a coach writes, naming neither. A
    # programme goes from one conversation to the next, so when the latest
    # one is still being exchanged about after the coach's message, the coach
    # follows the other; when it too has ended, the latest, as before.
    files = _two_programmes_then_coach("")
    if still_going:
        files["6.a:2,S"] = _msg(6, CALLCENTRE, ME, "RE: Accompagnement obligatoire", 13,
                                "Madame,\n\nNous attendons toujours votre appel.\n",
                                in_reply_to="<m4@x>", references="<m3@x> <m4@x>")
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m1@x", "case_id"] != messages.loc["m3@x", "case_id"]
    assert messages.loc["m5@x", "case_id"] == messages.loc[follows, "case_id"]
    assert links.loc["m5@x", ["from_message_id", "signal"]].tolist() == [follows, "follow-up"]


def test_a_coach_does_not_follow_a_programme_going_on_elsewhere(tmp_path: Path) -> None:
    # The later programme's call-centre exchange has ended, but the
    # programme goes on: its coach wrote on 9 November, forwarding the
    # call centre's message, and I answer her on 13 November. A coach who
    # writes on 10 November, naming neither, follows the other programme.
    files = _two_programmes_then_coach("")
    files["6.a:2,S"] = message(
        message_id="<m6@x>", sender="Léa Martin <l.martin@cabinet-avenir.fr>", to=ME,
        subject="Votre accompagnement", date="Thu, 09 Nov 2023 15:00:00 +0100",
        body="Bonjour,\n\nJe serai votre conseillère.\n\n"
             "---------- Message transféré ----------\n"
             f"De : {CALLCENTRE}\nDate : mercredi 8 novembre 2023 10:00\n"
             "Objet : Accompagnement obligatoire\n\n"
             f"{PROGRAMME_OPENING.replace('parcours', 'projet')}")
    files["7.a:2,S"] = message(
        message_id="<m7@x>", sender=ME, to="l.martin@cabinet-avenir.fr",
        subject="Re: Votre accompagnement", date="Mon, 13 Nov 2023 09:00:00 +0100",
        in_reply_to="<m6@x>", references="<m6@x>",
        body="Bonjour,\n\nJe suis disponible jeudi.\n\nJulie Moreau\n")
    messages, links = _build_with_links(tmp_path, files)
    assert links.loc["m6@x", ["from_message_id", "signal"]].tolist() == ["m3@x", "forward"]
    assert links.loc["m5@x", ["from_message_id", "signal"]].tolist() == ["m1@x", "follow-up"]
    assert messages.loc["m5@x", "case_id"] != messages.loc["m3@x", "case_id"]


def test_a_reply_quoting_its_own_opening_names_no_other_conversation(
        tmp_path: Path) -> None:
    # The call centre opens a second programme the very minute I answer the
    # coach of the first; my reply to the second quotes its opening under
    # "Le …, … a écrit" (no address): that header names the second
    # programme's own message, not my answer sent the same minute.
    coach = "Karim Girard <k.girard@cabinet-avenir.fr>"
    second = PROGRAMME_OPENING.replace("parcours", "projet")

    def at(n: int, sender: str, to: str, subject: str, when: str, body: str,
           **extra: Any) -> bytes:
        return message(message_id=f"<m{n}@x>", sender=sender, to=to, subject=subject,
                       date=f"{when} +0100", body=body, **extra)

    files = {
        "1.a:2,S": at(1, CALLCENTRE, ME, "Votre parcours vers l'emploi",
                      "Mon, 06 Nov 2023 10:00:00", PROGRAMME_OPENING),
        "2.a:2,S": at(2, coach, ME, "Suite de votre accompagnement",
                      "Tue, 07 Nov 2023 10:00:00", "Bonjour Julie Moreau,\n\nJe suis votre "
                      "conseiller référent.\n\nKarim Girard\n"),
        "3.a:2,S": at(3, ME, "k.girard@cabinet-avenir.fr", "Re: Suite de votre accompagnement",
                      "Mon, 13 Nov 2023 15:45:10", "Bonjour,\n\nJe suis disponible "
                      "jeudi.\n\nJulie Moreau\n", in_reply_to="<m2@x>",
                      references="<m2@x>"),
        "4.a:2,S": at(4, CALLCENTRE, ME, "Accompagnement obligatoire",
                      "Mon, 13 Nov 2023 15:45:40", second),
        "5.a:2,S": at(5, ME, "contact@cabinet-avenir.fr", "Re: Accompagnement obligatoire",
                      "Tue, 14 Nov 2023 09:00:00", "Bonjour,\n\nJe vous rappelle "
                      "demain.\n\nJulie Moreau\n\nLe 13/11/2023 à 15:45, Cabinet Avenir a "
                      "écrit :\n" + "".join(f"> {line}\n" for line in second.splitlines()),
                      in_reply_to="<m4@x>", references="<m4@x>"),
    }
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m4@x", "case_id"] != messages.loc["m1@x", "case_id"]
    assert messages.loc["m5@x", "case_id"] == messages.loc["m4@x", "case_id"]
    assert "m4@x" not in links.index


def test_survey_follows_the_closure_of_the_day_before(tmp_path: Path) -> None:
    # Two requests closed ten hours apart, then a survey naming neither: it
    # is about the closure of the day before, not the one of a few hours ago.
    def at(n: int, sender: str, to: str, subject: str, when: str, body: str,
           **extra: Any) -> bytes:
        return message(message_id=f"<m{n}@x>", sender=sender, to=to, subject=subject,
                       date=f"{when} +0100", body=body, **extra)

    other = ("Bonjour,\n\nJ'ai déménagé à Lyon, voici ma nouvelle adresse postale pour "
             "les courriers.\n\nJulie Moreau\n")
    files = {
        "1.a:2,S": at(1, ME, "contact@francetravail.fr", "Ouverture de droits SCOP",
                      "Mon, 06 Nov 2023 10:00:00", SITUATION),
        "2.a:2,S": at(2, AGENCY, ME, "RE: [Demande n° 2023-000111] Ouverture de droits SCOP",
                      "Tue, 14 Nov 2023 10:00:00", "Bonjour,\n\nMerci d'envoyer votre "
                      "Kbis.\n\nNadia Benali\n", in_reply_to="<m1@x>", references="<m1@x>"),
        "3.a:2,S": at(3, NOREPLY, ME, "Votre demande n° 2023-000111 a été clôturée",
                      "Wed, 15 Nov 2023 10:00:00", CLOSED),
        "4.a:2,S": at(4, ME, "contact@francetravail.fr", "Changement d'adresse",
                      "Wed, 08 Nov 2023 10:00:00", other),
        "5.a:2,S": at(5, AGENCY, ME, "RE: [Demande n° 2023-000222] Changement d'adresse",
                      "Thu, 09 Nov 2023 10:00:00", "Bonjour,\n\nC'est noté.\n\nNadia "
                      "Benali\n", in_reply_to="<m4@x>", references="<m4@x>"),
        "6.a:2,S": at(6, NOREPLY, ME, "Votre demande n° 2023-000222 a été clôturée",
                      "Wed, 15 Nov 2023 20:00:00", CLOSED.replace("111", "222")),
        "7.a:2,S": at(7, "France Travail <enquete@francetravail.fr>", ME,
                      "Votre avis sur nos services", "Thu, 16 Nov 2023 01:00:00",
                      "Bonjour,\n\nComment évalueriez-vous le traitement de votre "
                      "demande ?\n\nFrance Travail\n"),
    }
    messages = _build(tmp_path, files)
    assert messages.loc["m4@x", "case_id"] != messages.loc["m1@x", "case_id"]
    assert messages.loc["m7@x", "automation_kind"] == "survey"
    assert messages.loc["m7@x", "case_id"] == messages.loc["m1@x", "case_id"]


def test_a_closure_is_not_the_receipt_of_the_request_before_it(tmp_path: Path) -> None:
    # A request acknowledged under a number, then another request, unnumbered,
    # and two hours later the first one's closure: the closure is filed under
    # the first request's number, it does not acknowledge the second.
    def at(n: int, sender: str, to: str, subject: str, when: str, body: str) -> bytes:
        return message(message_id=f"<m{n}@x>", sender=sender, to=to, subject=subject,
                       date=f"{when} +0100", body=body)

    files = {
        "1.a:2,S": at(1, ME, "contact@francetravail.fr", "Attestation employeur",
                      "Mon, 06 Nov 2023 10:00:00", "Bonjour,\n\nJe n'ai toujours pas reçu "
                      "mon attestation employeur.\n\nJulie Moreau\n"),
        "2.a:2,S": at(2, NOREPLY, ME, "Votre demande n° 2023-000444 a bien été enregistrée",
                      "Mon, 06 Nov 2023 10:01:00", "Bonjour,\n\nNous avons bien reçu votre "
                      "demande n° 2023-000444.\n"),
        "3.a:2,S": at(3, ME, "contact@francetravail.fr", "Avis de radiation",
                      "Wed, 08 Nov 2023 10:00:00", "Bonjour,\n\nJ'ai reçu un avis de "
                      "radiation sans avoir été convoquée.\n\nJulie Moreau\n"),
        "4.a:2,S": at(4, NOREPLY, ME, "Votre demande n° 2023-000444 a été clôturée",
                      "Wed, 08 Nov 2023 11:52:00", CLOSED.replace("111", "444")),
    }
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m4@x", "case_id"] == messages.loc["m1@x", "case_id"]
    assert messages.loc["m3@x", "case_id"] != messages.loc["m1@x", "case_id"]
    assert links.loc["m4@x", ["from_message_id", "signal"]].tolist() == ["m2@x", "ticket"]


def test_a_receipt_acknowledges_the_new_request_not_a_reminder(tmp_path: Path) -> None:
    # A request never acknowledged, chased by a reminder sent the same minute
    # as a new request on another matter: the receipt that follows is the new
    # request's.
    def at(n: int, sender: str, to: str, subject: str, when: str, body: str,
           **extra: Any) -> bytes:
        return message(message_id=f"<m{n}@x>", sender=sender, to=to, subject=subject,
                       date=f"{when} +0100", body=body, **extra)

    files = {
        "1.a:2,S": at(1, ME, "contact@francetravail.fr", "Avis de radiation",
                      "Mon, 06 Nov 2023 10:00:00", "Bonjour,\n\nJ'ai reçu un avis de "
                      "radiation sans avoir été convoquée.\n\nJulie Moreau\n"),
        "2.a:2,S": at(2, ME, "contact@francetravail.fr", "Attestation employeur",
                      "Mon, 13 Nov 2023 09:00:10", "Bonjour,\n\nJe n'ai toujours pas reçu "
                      "mon attestation employeur.\n\nJulie Moreau\n"),
        "3.a:2,S": at(3, ME, "contact@francetravail.fr", "Re: Avis de radiation",
                      "Mon, 13 Nov 2023 09:00:20", "Bonjour,\n\nJe vous relance.\n\n"
                      "Julie Moreau\n", in_reply_to="<m1@x>", references="<m1@x>"),
        "4.a:2,S": at(4, NOREPLY, ME, "Votre demande n° 2023-000555 a bien été enregistrée",
                      "Mon, 13 Nov 2023 09:01:00", "Bonjour,\n\nNous avons bien reçu votre "
                      "demande n° 2023-000555.\n"),
    }
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m4@x", "case_id"] == messages.loc["m2@x", "case_id"]
    assert messages.loc["m1@x", "case_id"] != messages.loc["m2@x", "case_id"]
    assert links.loc["m4@x", ["from_message_id", "signal", "detail"]].tolist() == [
        "m2@x", "acknowledgement", "acknowledged 0 min later"]


def _two_waiting_requests_then_notifications(numbered_too: bool) -> dict[str, bytes]:
    """Two requests, never acknowledged and both waiting; on 20/11 a portal
    notification naming no request, and (``numbered_too``) three hours later
    one under a number never seen, which the latest request is given."""
    def at(n: int, sender: str, to: str, subject: str, when: str, body: str) -> bytes:
        return message(message_id=f"<m{n}@x>", sender=sender, to=to, subject=subject,
                       date=f"{when} +0100", body=body)

    portal = ("Bonjour,\n\nVous avez reçu un nouveau message dans votre espace "
              "personnel{about}.\n\nCe courriel est envoyé automatiquement, merci de ne pas "
              "y répondre.\n")
    files = {
        "1.a:2,S": at(1, ME, "contact@francetravail.fr", "Attestation employeur",
                      "Mon, 06 Nov 2023 10:00:00", "Bonjour,\n\nJe n'ai toujours pas reçu "
                      "mon attestation employeur.\n\nJulie Moreau\n"),
        "3.a:2,S": at(3, ME, "contact@francetravail.fr", "Avis de radiation",
                      "Wed, 08 Nov 2023 10:00:00", "Bonjour,\n\nJ'ai reçu un avis de "
                      "radiation sans avoir été convoquée.\n\nJulie Moreau\n"),
        "5.a:2,S": at(5, NOREPLY, ME, "Nouveau message dans votre espace personnel",
                      "Mon, 20 Nov 2023 09:00:00", portal.format(about="")),
    }
    if numbered_too:
        files["6.a:2,S"] = at(6, NOREPLY, ME, "Nouveau message dans votre espace personnel",
                              "Mon, 20 Nov 2023 12:00:00", portal.format(
                                  about=" concernant votre demande n° 2023-000555"))
    return files


def _acknowledge_both(files: dict[str, bytes]) -> None:
    """Add the receipts (m2, m4) that file the two requests of
    :func:`_two_waiting_requests_then_notifications` under numbers 111 and 222."""
    for n, number, when in ((2, "111", "Mon, 06 Nov 2023 10:01:00"),
                            (4, "222", "Wed, 08 Nov 2023 10:01:00")):
        files[f"{n}.a:2,S"] = message(
            message_id=f"<m{n}@x>", sender=NOREPLY, to=ME, date=f"{when} +0100",
            subject=f"Votre demande n° 2023-000{number} a bien été enregistrée",
            body=f"Bonjour,\n\nNous avons bien reçu votre demande n° 2023-000{number}.\n")


def _notification(n: int, when: str) -> bytes:
    """A portal notification naming no request (message ``n``), sent ``when``."""
    return message(message_id=f"<m{n}@x>", sender=NOREPLY, to=ME,
                   subject="Nouveau message dans votre espace personnel",
                   date=f"{when} +0100",
                   body="Bonjour,\n\nVous avez reçu un nouveau message dans votre espace "
                        "personnel.\n")


@pytest.mark.parametrize(("words", "case_of", "signal"), [
    # Said in my reply to the contractor's adviser, who had it sent there.
    ("J'ai bien reçu le message dans mon espace personnel, je prends rendez-vous.",
     "m2@x", "notice-read"),
    ("J’ai lu votre message sur mon espace : je prends rendez-vous.", "m2@x", "notice-read"),
    ("I have read the message in my personal space; I will come on Tuesday.",
     "m2@x", "notice-read"),
    # Not a reading: the notification answers the request still waiting.
    ("Je n'ai reçu aucun message dans mon espace personnel.", "m1@x", "notice"),
    ("Le cabinet dit avoir déposé un message dans mon espace personnel.", "m1@x", "notice"),
])
def test_a_notification_i_say_i_read_joins_the_conversation_i_say_it_in(
        tmp_path: Path, words: str, case_of: str, signal: str) -> None:
    files = {
        "1.a:2,S": _msg(1, ME, "contact@francetravail.fr", "Changement de statut", 6,
                        "Bonjour,\n\nMa société change de statut : que dois-je déclarer ?\n"),
        "2.a:2,S": _msg(2, "Laetitia <l.roussel@cabinet-avenir.fr>", ME,
                        "Suite à notre appel", 20, "Madame,\n\nJe fais déposer un message "
                        "dans votre espace personnel pour vous le confirmer.\n"),
        "3.a:2,S": _notification(3, "Tue, 21 Nov 2023 08:48:00"),
        "4.a:2,S": message(message_id="<m4@x>", sender=ME, to="l.roussel@cabinet-avenir.fr",
                           subject="Re: Suite à notre appel",
                           date="Tue, 21 Nov 2023 11:05:00 +0100", in_reply_to="<m2@x>",
                           references="<m2@x>", body=f"Madame,\n\n{words}\n\nJulie\n"),
    }
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m3@x", "case_id"] == messages.loc[case_of, "case_id"]
    assert messages.loc["m1@x", "case_id"] != messages.loc["m2@x", "case_id"]
    assert links.loc["m3@x", ["from_message_id", "signal"]].tolist() == [case_of, signal]


def _my_reply_to_the_older_request() -> bytes:
    """My reply (m7) in the older request of
    :func:`_two_waiting_requests_then_notifications`, on 20/11 at 15:00."""
    return message(
        message_id="<m7@x>", sender=ME, to="contact@francetravail.fr",
        subject="RE: Attestation employeur", date="Mon, 20 Nov 2023 15:00:00 +0100",
        in_reply_to="<m1@x>", references="<m1@x>",
        body="Bonjour,\n\nMerci, je vous envoie l'attestation demain.\n\nJulie Moreau\n")


@pytest.mark.parametrize(("numbered_too", "answered", "signal", "params"), [
    (False, "m3@x", "notice-guessed", {"others": 1}),
    (True, "m1@x", "notice", {}),
])
def test_a_notification_answers_the_request_no_other_answers_that_day(
        tmp_path: Path, numbered_too: bool, answered: str, signal: str,
        params: dict[str, int]) -> None:
    # Alone, the notification goes with the request active last, and the
    # link says that was a guess between two; when the notification under a
    # new number three hours later goes there, it answers the other request,
    # and that is no guess.
    messages, links = _build_with_links(
        tmp_path, _two_waiting_requests_then_notifications(numbered_too))
    assert messages.loc["m1@x", "case_id"] != messages.loc["m3@x", "case_id"]
    assert messages.loc["m5@x", "automation_kind"] == "portal_notification"
    assert messages.loc["m5@x", "case_id"] == messages.loc[answered, "case_id"]
    assert links.loc["m5@x", ["from_message_id", "signal", "params"]].tolist() == [
        answered, signal, params]
    if numbered_too:
        assert messages.loc["m6@x", "case_id"] == messages.loc["m3@x", "case_id"]


def test_a_notification_i_answer_within_hours_is_no_guess(tmp_path: Path) -> None:
    # Two requests wait; hours after the notification I write again in the
    # older one, having read the answer: that one was answered.
    files = _two_waiting_requests_then_notifications(numbered_too=False)
    files["7.a:2,S"] = _my_reply_to_the_older_request()
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m5@x", "case_id"] == messages.loc["m1@x", "case_id"]
    assert links.loc["m5@x", ["from_message_id", "signal", "params"]].tolist() == [
        "m1@x", "notice", {}]


def test_my_reply_the_day_of_two_notifications_tells_more_than_a_closure(
        tmp_path: Path) -> None:
    # Two notifications the same morning, my reply in the older request that
    # afternoon, the other request closed two days later: one of the two
    # answered the one I replied in, which is surer than a closure (sent
    # also for what was never answered). The first goes there, and the
    # second, that request being answered, to the other one.
    files = _two_waiting_requests_then_notifications(numbered_too=False)
    _acknowledge_both(files)
    files["6.a:2,S"] = _notification(6, "Mon, 20 Nov 2023 12:00:00")
    files["7.a:2,S"] = _my_reply_to_the_older_request()
    files["8.a:2,S"] = message(
        message_id="<m8@x>", sender=NOREPLY, to=ME, date="Wed, 22 Nov 2023 11:00:00 +0100",
        subject="Votre demande n° 2023-000222 a été clôturée", body=CLOSED.replace("111", "222"))
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m1@x", "case_id"] != messages.loc["m3@x", "case_id"]
    assert links.loc["m5@x", ["from_message_id", "signal", "params"]].tolist() == [
        "m1@x", "notice", {}]
    assert links.loc["m6@x", ["from_message_id", "signal", "params"]].tolist() == [
        "m3@x", "notice", {}]


def test_a_later_notification_answers_the_request_no_answer_came_for(tmp_path: Path) -> None:
    # A week after the notification filed with the latest request, another
    # one naming none: that request has had an answer since, the older one
    # has not, so the older one was answered, and that is no guess.
    files = _two_waiting_requests_then_notifications(numbered_too=False)
    files["7.a:2,S"] = _notification(7, "Mon, 27 Nov 2023 09:00:00")
    messages, links = _build_with_links(tmp_path, files)
    assert links.loc["m5@x", ["from_message_id", "signal"]].tolist() == [
        "m3@x", "notice-guessed"]
    assert links.loc["m7@x", ["from_message_id", "signal", "params"]].tolist() == [
        "m1@x", "notice", {}]
    assert messages.loc["m7@x", "case_id"] != messages.loc["m3@x", "case_id"]


def test_a_notice_under_a_new_number_goes_to_the_request_no_answer_came_for(
        tmp_path: Path) -> None:
    # The same for a notification under a number never seen before: it
    # gives its number to the older request, still unanswered.
    files = _two_waiting_requests_then_notifications(numbered_too=False)
    files["7.a:2,S"] = message(
        message_id="<m7@x>", sender=NOREPLY, to=ME,
        subject="Nouveau message dans votre espace personnel",
        date="Mon, 27 Nov 2023 09:00:00 +0100",
        body="Bonjour,\n\nVous avez reçu un nouveau message dans votre espace personnel "
             "concernant votre demande n° 2023-000555.\n")
    messages, links = _build_with_links(tmp_path, files)
    assert links.loc["m7@x", ["from_message_id", "signal", "params"]].tolist() == [
        "m1@x", "new-number", {"number": "2023-000555"}]
    assert messages.loc["m7@x", "ticket_id"] == "fr-reference:2023-000555"


def test_an_advisors_answer_goes_to_the_request_no_answer_came_for(tmp_path: Path) -> None:
    # The same for an advisor writing "Votre demande" from the portal's
    # tool, with no threading and no word of either request.
    files = _two_waiting_requests_then_notifications(numbered_too=False)
    files["7.a:2,S"] = message(
        message_id="<m7@x>", sender="Claire Petit <claire.petit@francetravail.fr>", to=ME,
        subject="Votre demande", date="Mon, 27 Nov 2023 09:00:00 +0100",
        body="Bonjour Madame,\n\nC'est en ordre de notre côté.\n\nClaire Petit\n"
             "Conseillère\n")
    messages, links = _build_with_links(tmp_path, files)
    assert links.loc["m7@x", ["from_message_id", "signal"]].tolist() == ["m1@x", "answer"]
    assert messages.loc["m7@x", "case_id"] != messages.loc["m3@x", "case_id"]


def test_a_closure_the_same_day_goes_with_the_request_the_notification_answered(
        tmp_path: Path) -> None:
    # A helpdesk closes what it has just answered: only another portal
    # notification the same day points at another request, not a closure.
    files = _two_waiting_requests_then_notifications(numbered_too=False)
    files["6.a:2,S"] = message(message_id="<m6@x>", sender=NOREPLY, to=ME,
                               subject="Votre demande n° 2023-000555 a été clôturée",
                               date="Mon, 20 Nov 2023 12:00:00 +0100",
                               body=CLOSED.replace("111", "555"))
    messages = _build(tmp_path, files)
    assert messages.loc["m5@x", "case_id"] == messages.loc["m3@x", "case_id"]
    assert messages.loc["m6@x", "case_id"] == messages.loc["m3@x", "case_id"]
    assert messages.loc["m1@x", "case_id"] != messages.loc["m3@x", "case_id"]


def test_a_notification_after_seven_weeks_of_silence_answers_the_request(
        tmp_path: Path) -> None:
    # The only request still waiting was last chased fifty days before: the
    # portal's answer, however late, is its answer.
    files = _two_waiting_requests_then_notifications(numbered_too=False)
    del files["1.a:2,S"]
    files["5.a:2,S"] = files["5.a:2,S"].replace(b"Mon, 20 Nov 2023", b"Thu, 28 Dec 2023")
    messages = _build(tmp_path, files)
    assert messages.loc["m5@x", "case_id"] == messages.loc["m3@x", "case_id"]


def test_of_two_requests_closed_after_a_notification_it_answered_the_older(
        tmp_path: Path) -> None:
    # Both requests are closed within three days of the notification: the one
    # closed first is no likelier the one answered; the queue goes oldest first.
    files = _two_waiting_requests_then_notifications(numbered_too=False)
    _acknowledge_both(files)
    for n, number, when in ((6, "222", "Mon, 20 Nov 2023 11:00:00"),
                            (7, "111", "Tue, 21 Nov 2023 15:00:00")):
        files[f"{n}.a:2,S"] = message(
            message_id=f"<m{n}@x>", sender=NOREPLY, to=ME, date=f"{when} +0100",
            subject=f"Votre demande n° 2023-000{number} a été clôturée",
            body=CLOSED.replace("111", number))
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m1@x", "case_id"] != messages.loc["m3@x", "case_id"]
    assert [messages.loc[f"m{n}@x", "case_id"] == messages.loc["m1@x", "case_id"]
            for n in (2, 4, 5, 6, 7)] == [True, False, True, False, True]
    # Two closures within days say nothing about which was answered: the link
    # says it is a guess, so the person can check it in the portal.
    assert links.loc["m5@x", ["from_message_id", "signal", "params"]].tolist() == [
        "m1@x", "notice-guessed", {"others": 1}]


def test_a_request_closed_four_days_after_a_notification_was_the_one_answered(
        tmp_path: Path) -> None:
    # Notification on Monday; the older request's ticket is closed on Friday,
    # the other one stays open: a helpdesk closes a few working days after
    # answering, so the closed one was answered, not the one active last.
    files = _two_waiting_requests_then_notifications(numbered_too=False)
    _acknowledge_both(files)
    files["6.a:2,S"] = message(
        message_id="<m6@x>", sender=NOREPLY, to=ME, date="Fri, 24 Nov 2023 11:00:00 +0100",
        subject="Votre demande n° 2023-000111 a été clôturée", body=CLOSED)
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m5@x", "case_id"] == messages.loc["m1@x", "case_id"]
    assert messages.loc["m5@x", "case_id"] != messages.loc["m3@x", "case_id"]
    assert links.loc["m5@x", ["from_message_id", "signal"]].tolist() == ["m1@x", "notice"]


def test_a_helpdesk_notice_quoting_my_title_joins_the_request_it_cites(
        tmp_path: Path) -> None:
    # GLPI puts its own tag before the citizen's title: the new ticket's first
    # answer carries the number she cited, which is not its ticket.
    def at(n: int, sender: str, subject: str, when: str, body: str, **extra: Any) -> bytes:
        to = ME if sender != ME else "rsa@francetravail.fr"
        return message(message_id=f"<m{n}@x>", sender=sender, to=to, subject=subject,
                       date=f"{when} +0100", body=body, **extra)

    helpdesk = "Support RSA <glpi@francetravail.fr>"
    account = ("Bonjour,\n\nJe n'arrive plus à me connecter à mon compte en ligne : le lien "
               "de réinitialisation ne fonctionne pas.\n\nOcéane Giraud\n")
    files = {
        "1.a:2,S": at(1, ME, "Question", "Mon, 06 Nov 2023 10:00:00", account),
        "2.a:2,S": at(2, helpdesk, "[RSA #0002127] Nouveau ticket Question",
                      "Mon, 06 Nov 2023 10:01:00", "Votre ticket n° 0002127 a été créé.\n",
                      in_reply_to="<m1@x>", references="<m1@x>"),
        "3.a:2,S": at(3, helpdesk, "[RSA #0002127] Clôture du ticket Question",
                      "Mon, 13 Nov 2023 10:00:00", "Le ticket n° 0002127 a été clos.\n"),
        "4.a:2,S": at(4, ME, "Suite à ma demande [RSA #0002127]",
                      "Tue, 14 Nov 2023 10:00:00", account),
        "5.a:2,S": at(5, "Jeanne Martin <glpi@francetravail.fr>",
                      "[RSA #0002159] Nouveau suivi Suite à ma demande [RSA #0002127]",
                      "Mon, 27 Nov 2023 10:00:00", "Bonjour,\n\nVotre compte a été débloqué."
                      "\n\nJeanne Martin\n"),
    }
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m5@x", "ticket_id"] == "glpi:2159"
    assert len(set(messages.loc[[f"m{n}@x" for n in range(1, 6)], "case_id"])) == 1
    assert links.loc["m5@x", "signal"] == "ticket-reference"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("Votre demande", True), ("RE : Réponse à votre demande", True),
     ("Mon dossier de contrôle - demande n° 204100760", False),
     ("Votre rendez-vous du 12 mars", False)],
)
def test_names_my_request(subject: str, expected: bool) -> None:
    assert _names_my_request(subject) is expected


@pytest.mark.parametrize(
    ("answer", "asked", "expected"),
    [("[RSA #0001971] Nouveau suivi Ma demande", "Ma demande", True),
     ("Mon dossier de contrôle - demande n° 204100760", "Mon dossier", False),
     ("RE : [Demande n° 12] Attestation employeur", "Attestation employeur", True),
     ("Votre rendez-vous", "Attestation employeur", False)],
)
def test_quotes_subject(answer: str, asked: str, expected: bool) -> None:
    assert _quotes_subject(answer, asked) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [("Vous avez été orientée vers notre prestation.", True),
     ("Dans le cadre de votre parcours avec France Travail, ...", True),
     ("Je suis votre conseillère référente.", False),
     ("Votre séance de demain est confirmée.", False)],
)
def test_starts_programme(body: str, expected: bool) -> None:
    assert _starts_programme(body) is expected


# -- the sample mailbox ------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    config = load_config(SAMPLE_MAILBOX / "analyzer.toml")
    path = tmp_path_factory.mktemp("sample") / "s.sqlite"
    with Store.open(path) as store:
        import_paths(store, [SAMPLE_MAILBOX], config)
    return path, config


def test_sample_stories_come_out_as_their_cases(sample: tuple[Path, Any]) -> None:
    path, config = sample
    expected = json.loads((SAMPLE_MAILBOX / "expected.json").read_text("utf-8"))
    with Analysis.open(path, config) as analysis:
        messages = analysis.messages().set_index("message_id")
    story = {m["message_id"]: m["case"] for m in expected["messages"] if m["case"]}
    predicted: dict[str, set[str]] = defaultdict(set)
    for mid, name in story.items():
        predicted[name].add(messages.loc[mid, "case_id"])
    # Every message of the three stories is in its story's case, and no case
    # mixes stories. The notification of 29/11/2023 names no request while
    # the status matter awaits France Travail's answer; Julie's reply to the
    # contractor two hours later says she read it in her personal space.
    assert {name: len(ids) for name, ids in predicted.items()} == {
        "controle-2020": 1, "changement-statut-2023": 1, "accompagnement-prestataire": 1}
    assert len({next(iter(ids)) for ids in predicted.values()}) == 3
    read = "notif-d9029ec02cd8142821a8@notifications.pole-emploi.fr"
    assert story[read] == "accompagnement-prestataire"
    assert messages.loc[read, "case_id"] in predicted["accompagnement-prestataire"]
    unrelated = [m["message_id"] for m in expected["messages"] if not m["case"]]
    assert messages.loc[unrelated, "case_id"].isna().all()


def test_sample_explanation_names_the_signals(sample: tuple[Path, Any]) -> None:
    path, config = sample
    with Analysis.open(path, config) as analysis:
        messages = analysis.messages()
        links = analysis.links()
    status = messages.loc[messages["subject"].str.startswith("Situation après"), "case_id"]
    found = links[links["case_id"] == status.iloc[0]]
    # The sample's acknowledgements reply to the request (In-Reply-To), so
    # they join by thread; the five tickets are joined by the numbers Julie
    # cites and by one reopening the day after a closure.
    assert sorted(found.loc[~found["signal"].isin(["thread", "ticket"]), "signal"]) == [
        "notice", "notice", "reopen-after-closure", "ticket-reference",
        "ticket-reference", "ticket-reference"]
    programme = messages.loc[messages["subject"].str.startswith("Suite à notre appel"), "case_id"]
    read = links[links["to_message_id"].str.startswith("notif-d9029")]
    assert read[["case_id", "from_message_id", "signal"]].values.tolist() == [[
        programme.iloc[0], "ed7fb9123f2d314b1da2a5aa@relais-rdv.fr",
        "notice-read"]]


# -- corrections, stability, CLI ---------------------------------------------


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--lang", "en", *args])
    return result.exit_code, result.stdout, result.stderr


def test_corrections_survive_reimport_and_win(tmp_path: Path) -> None:
    files = closed_ticket_then_new_request()
    write_maildir(tmp_path / "mail", files)
    config = tmp_path / "analyzer.toml"
    config.write_text('[me]\naddresses = ["julie.moreau@exemple-perso.fr"]\n'
                      '[[counterpart]]\nname = "France Travail"\nkind = "agency"\n'
                      'domains = ["francetravail.fr"]\n')
    store = str(tmp_path / "s.sqlite")
    base = ["--store", store, "--config", str(config)]
    assert _cli(*base, "import", str(tmp_path / "mail"))[0] == 0
    code, out, err = _cli(*base, "cases", "--split", "m1@x", "m4@x")
    assert (code, err) == (0, "")
    assert out.startswith("Correction recorded; it will be kept across future imports.\n")
    csv = _cli(*base, "cases", "--csv")[1].splitlines()
    rows = {line.split(",")[0]: line.split(",")[1] for line in csv[1:]}
    assert rows["m1@x"] != rows["m4@x"]
    # New mail arrives: ids stay, the split stays.
    files["5.a:2,S"] = _msg(5, ME, "contact@francetravail.fr", "Re: Ouverture de droits SCOP",
                            30, "Toujours rien.\n", in_reply_to="<m2@x>")
    write_maildir(tmp_path / "mail", {"5.a:2,S": files["5.a:2,S"]})
    assert _cli(*base, "import", str(tmp_path / "mail"))[0] == 0
    csv = _cli(*base, "cases", "--csv")[1].splitlines()
    again = {line.split(",")[0]: line.split(",")[1] for line in csv[1:]}
    assert again["m1@x"] == rows["m1@x"] == case_id_for("m1@x")
    assert again["m5@x"] == again["m1@x"]
    assert again["m4@x"] != again["m1@x"]
    code, _, _ = _cli(*base, "cases", "--join", again["m1@x"], again["m4@x"])
    assert code == 0
    csv = _cli(*base, "cases", "--csv")[1].splitlines()
    joined = {line.split(",")[0]: line.split(",")[1] for line in csv[1:]}
    assert joined["m4@x"] == joined["m1@x"]


def test_cases_csv_contract_and_errors(tmp_path: Path) -> None:
    write_maildir(tmp_path / "mail", closed_ticket_then_new_request())
    config = tmp_path / "analyzer.toml"
    config.write_text('[me]\naddresses = ["julie.moreau@exemple-perso.fr"]\n'
                      '[[counterpart]]\nname = "France Travail"\nkind = "agency"\n'
                      'domains = ["francetravail.fr"]\n')
    base = ["--store", str(tmp_path / "s.sqlite"), "--config", str(config)]
    code, out, _ = _cli(*base, "cases", "--csv", str(tmp_path / "mail"))
    case = case_id_for("m1@x")
    assert code == 0
    assert out.splitlines() == [
        "message_id,case_id,ticket_id,party,automated",
        f"m1@x,{case},fr-reference:2023-000111,me,false",
        f"m2@x,{case},fr-reference:2023-000111,agency,false",
        f"m3@x,{case},fr-reference:2023-000111,agency,true",
        f"m4@x,{case},,me,false",
    ]
    code, out, _ = _cli(*base, "threads", "--csv")
    assert out.splitlines() == ["message_id,thread_id", "m1@x,m1@x", "m2@x,m1@x", "m3@x,m3@x",
                                "m4@x,m4@x"]
    code, _, err = _cli(*base, "cases", "--explain", "C-00000000")
    assert (code, err) == (2, "Unknown case: C-00000000. The command 'analyzer cases' lists "
                              "the cases.\n")
    code, _, err = _cli(*base, "cases", "--split", "m1@x", "nope@x")
    assert (code, err) == (2, "Unknown message: nope@x. Use a Message-ID from the output of "
                              "'analyzer cases --csv'.\n")
    code, out, _ = _cli(*base, "cases", "--explain", case)
    assert code == 0
    assert out.splitlines()[0] == (f"Case {case} — France Travail — 4 message(s) in 2 "
                                   "conversation(s)")
    assert " ".join(out.split()).endswith(
        "Why these conversations are one case: conversation 2 ← 1: new request soon after a "
        "closure, same matter (new conversation 2 day(s) after the closure, same subject "
        "matter (similarity 0.64))")


def test_discover_finds_the_unnamed_firm(sample: tuple[Path, Any]) -> None:
    path, config = sample
    narrow = dataclasses.replace(config, counterparts=config.counterparts[:1])
    with Analysis.open(path, narrow) as analysis:
        found = discover(analysis.messages(), narrow)
    firm = found[found["address"].str.endswith(("elanparcours-conseil.fr", "relais-rdv.fr"))]
    assert set(firm["address"]) == {
        "k.vasseur@elanparcours-conseil.fr", "enquetes@elanparcours-conseil.fr",
        "ne-pas-repondre@elanparcours-conseil.fr", "planification@relais-rdv.fr"}
    assert "securite@francetravail-verification.com" in set(found["address"])
    assert found.loc[found["address"] == "planification@relais-rdv.fr", "reasons"].item() == (
        "mentions")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Cela concerne la période de juin 2022.", {"month:juin 2022"}),
        # A day names one letter: rarer, so more telling, than its month.
        ("Cela fait suite au courrier du 18 janvier 2021.", {"month:18 janvier 2021"}),
        ("Convoqué le 1er mars, j'étais en formation.", {"month:1er mars"}),
        ("Il s'agit de mes heures en mai.", {"month:mai"}),
        ("Mon contrat chez Transports Lebrun a pris fin.", {"name:transports lebrun"}),
        ("Mes heures chez Hôtel des Tanneurs.", {"name:hotel des tanneurs"}),
        ("Un trop-perçu de 1 240,50 € m'est réclamé.", {"amount:1240,50"}),
        ("On me réclame 300 euros.", {"amount:300"}),
        # Dates in digits mostly name an earlier message, not the matter.
        ("Voir mon message du 12/03/2022.", set()),
        # Sentence starts, greetings and signature lines name nothing.
        ("Madame, Monsieur,\n\nJe reprends depuis le début.\n\nJulie Moreau\n", set()),
        ("Bonjour,\n\nToujours rien.\n", set()),
        # A helpdesk's word for its ticket before the number names no matter.
        ("Suite à la clôture de ma demande Ticket#314993, je dois recréer une demande.",
         set()),
        ("Au sujet de ma demande Case 00012345.", set()),
    ],
)
def test_specifics(text: str, found: set[str]) -> None:
    assert _specifics(text) == found


def _closed_request(n: int, day: int, subject: str, topic: str, ask: str,
                    number: str) -> dict[str, bytes]:
    """My request ``ask`` (messages ``n`` to ``n + 2``), answered the next day
    under ``number`` ("RE: [Demande n° …] ``topic``") and closed the day after."""
    return {
        f"{n}.a:2,S": _msg(n, ME, "contact@francetravail.fr", subject, day,
                           f"Bonjour,\n\n{ask}\n\nJulie Moreau\n"),
        f"{n + 1}.a:2,S": _msg(n + 1, AGENCY, ME, f"RE: [Demande n° {number}] {topic}",
                               day + 1, "Bonjour,\n\nNous traitons votre demande.\n\n"
                               "Nadia Benali\n",
                               in_reply_to=f"<m{n}@x>", references=f"<m{n}@x>"),
        f"{n + 2}.a:2,S": _msg(n + 2, NOREPLY, ME, f"Votre demande n° {number} a été clôturée",
                               day + 2, CLOSED.replace("2023-000111", number)),
    }


def _overpayment_request(n: int, day: int, amount: str, number: str) -> dict[str, bytes]:
    """A request about an overpayment of ``amount`` claimed back."""
    return _closed_request(n, day, "Trop-perçu", "Trop-perçu",
                           "On me réclame un trop-perçu que je ne comprends pas : toutes mes "
                           "périodes de travail ont été déclarées. Il s'agit d'un montant de "
                           f"{amount}.", number)


def _two_matters_then(tmp_path: Path, amount: str) -> pd.DataFrame:
    # Two matters on one topic, worded alike, closed a day apart; then a
    # request worded like both, naming one by its amount (digits, which the
    # vocabulary similarity does not read).
    return _build(tmp_path, {**_overpayment_request(1, 6, "1 240 euros", "2023-000111"),
                             **_overpayment_request(4, 7, "310 €", "2023-000222"),
                             **_overpayment_request(7, 10, amount, "2023-000333")})


@pytest.mark.parametrize(("amount", "joins"), [("1 240 €", "m1@x"), ("310 euros", "m4@x")])
def test_a_reopening_joins_the_matter_it_names(tmp_path: Path, amount: str, joins: str) -> None:
    messages = _two_matters_then(tmp_path, amount)
    assert messages.loc["m1@x", "case_id"] != messages.loc["m4@x", "case_id"]
    assert messages.loc["m7@x", "case_id"] == messages.loc[joins, "case_id"]


def test_without_specifics_the_latest_closed_matter_is_reopened(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What decides above is the named amount: without it the request goes
    # to the matter closed last.
    monkeypatch.setattr(cases, "SPECIFIC_BONUS", 0.0)
    monkeypatch.setattr(cases, "SPECIFIC_PENALTY", 0.0)
    messages = _two_matters_then(tmp_path, "1 240 €")
    assert messages.loc["m7@x", "case_id"] == messages.loc["m4@x", "case_id"]


def test_a_request_naming_another_matter_starts_a_case(tmp_path: Path) -> None:
    # Worded as the closed matter but about another amount: a new matter.
    messages = _build(tmp_path, {**_overpayment_request(1, 6, "1 240 euros", "2023-000111"),
                                 **_overpayment_request(4, 10, "310 €", "2023-000222")})
    assert messages.loc["m4@x", "case_id"] != messages.loc["m1@x", "case_id"]


def test_a_matter_asked_about_eight_times_still_has_its_amount(tmp_path: Path) -> None:
    # Eight requests about one overpayment, each closed and asked again: the
    # amount is in eight openings, yet still names that matter (a word in a
    # dozen conversations or fewer), so a request about another amount,
    # worded alike, starts a case of its own.
    files: dict[str, bytes] = {}
    for k in range(8):
        files |= _overpayment_request(3 * k + 1, 3 * k + 1, "1 240 euros", f"2023-0001{k:02d}")
    files |= _overpayment_request(25, 25, "310 €", "2023-000199")
    messages = _build(tmp_path, files)
    first = messages.loc["m1@x", "case_id"]
    assert [messages.loc[f"m{3 * k + 1}@x", "case_id"] == first for k in range(8)] == [True] * 8
    assert messages.loc["m25@x", "case_id"] != first


@pytest.mark.parametrize(("amount", "joins"), [("1 240 euros", True), ("310 €", False)])
def test_naming_the_matter_reopens_it_after_a_longer_silence(
        tmp_path: Path, amount: str, joins: bool) -> None:
    # Two weeks after the closure, the overpayment asked about again in other
    # words: naming its amount, it is that matter; naming another, a new one.
    files = _overpayment_request(1, 1, "1 240 euros", "2023-000111")
    files["4.a:2,S"] = _msg(4, ME, "contact@francetravail.fr", "Trop-perçu", 17,
                            "Bonjour,\n\nToujours aucune explication sur ce trop-perçu de "
                            f"{amount} qu'on me réclame : mes périodes de travail ont toutes "
                            "été déclarées.\n\nJulie Moreau\n")
    messages = _build(tmp_path, files)
    assert (messages.loc["m4@x", "case_id"] == messages.loc["m1@x", "case_id"]) is joins


def _hours_request(n: int, day: int, month: str, number: str) -> dict[str, bytes]:
    """A request about hours worked at one employer in ``month``."""
    return _closed_request(n, day, "Heures non prises en compte", "Heures",
                           "Mes heures n'ont pas été prises en compte dans mon actualisation. "
                           f"Il s'agit de mes heures chez Garage Perrichon en {month}.", number)


def test_the_same_employer_in_another_month_is_another_matter(tmp_path: Path) -> None:
    # Both closed matters name the employer; only the month tells them apart.
    # The one closed last (January) would win on wording alone.
    messages = _build(tmp_path, {**_hours_request(1, 6, "juillet", "2023-000111"),
                                 **_hours_request(4, 7, "janvier", "2023-000222"),
                                 **_hours_request(7, 10, "juillet", "2023-000333")})
    assert messages.loc["m1@x", "case_id"] != messages.loc["m4@x", "case_id"]
    assert messages.loc["m7@x", "case_id"] == messages.loc["m1@x", "case_id"]


@pytest.mark.parametrize(("month", "joins"), [("juillet", True), ("janvier", False)])
def test_a_request_asked_again_word_for_word_reopens_after_any_silence(
        tmp_path: Path, month: str, joins: bool) -> None:
    # Twelve days after the closure, silence alone would ask for more
    # likeness than any wording gives; the same request pasted again under
    # another title, naming the same hours, is the same matter. Naming
    # another month, the same words are another matter.
    files = _hours_request(1, 6, "juillet", "2023-000111")
    files["4.a:2,S"] = _msg(4, ME, "contact@francetravail.fr", "Allocation non versée", 20,
                            "Bonjour,\n\nMes heures n'ont pas été prises en compte dans mon "
                            "actualisation. Il s'agit de mes heures chez Garage Perrichon en "
                            f"{month}.\n\nMerci d'avance pour votre réponse.\nJulie Moreau\n")
    messages, links = _build_with_links(tmp_path, files)
    assert (messages.loc["m4@x", "case_id"] == messages.loc["m1@x", "case_id"]) is joins
    if joins:
        assert links.loc["m4@x", ["from_message_id", "signal", "detail"]].tolist() == [
            "m1@x", "reopen-after-closure",
            "new conversation 12 day(s) after the closure, same subject matter (similarity 0.89)"]


@pytest.mark.parametrize(("subject", "ask", "joins"), [
    ("Actualisation incomplète",
     "Mon actualisation ne compte toujours pas mes heures de travail du mois.", True),
    ("Attestation employeur",
     "Je n'ai pas reçu l'attestation employeur de mon dernier contrat.", False),
])
def test_a_request_between_two_of_a_matter_is_part_of_it_after_any_silence(
        tmp_path: Path, subject: str, ask: str, joins: bool) -> None:
    # Closed on the 3rd; two weeks of silence, then a request closed on the
    # 19th, which the silence keeps apart; on the 21st I take the first
    # request up again by its number. The matter was going on all along:
    # the request in between, if it reads like it, was one step of it.
    files = {
        **_closed_request(1, 1, "Heures non prises en compte", "Heures",
                          "Mes heures de travail n'ont pas été prises en compte dans mon "
                          "actualisation.", "2023-000111"),
        **_closed_request(4, 17, subject, subject, ask, "2023-000222"),
        "7.a:2,S": _msg(7, ME, "contact@francetravail.fr", "Suite à ma demande n° 2023-000111",
                        21, "Bonjour,\n\nMa demande n° 2023-000111 a été clôturée sans "
                        "réponse et mes heures manquent toujours.\n\nJulie Moreau\n"),
    }
    messages, links = _build_with_links(tmp_path, files)
    assert messages.loc["m7@x", "case_id"] == messages.loc["m1@x", "case_id"]
    assert (messages.loc["m4@x", "case_id"] == messages.loc["m1@x", "case_id"]) is joins
    if joins:
        assert links.loc["m4@x", ["from_message_id", "signal"]].tolist() == [
            "m1@x", "reopen-between"]
        assert links.loc["m4@x", "detail"].startswith(
            "new conversation 14 day(s) after the closure, closed before a later request")


def _request_with_portal_answer(n: int, day: int, subject: str, ask: str,
                                number: str) -> dict[str, bytes]:
    """My request ``ask`` (message ``n``), acknowledged under ``number``, then
    answered in the portal two days later: only a notification comes."""
    portal = ("Bonjour,\n\nVous avez reçu un nouveau message dans votre espace personnel "
              f"concernant votre demande n° {number}.\nPour le consulter, connectez-vous à "
              "votre espace sur francetravail.fr, rubrique « Mes échanges ».\n\nCe courriel "
              "est envoyé automatiquement, merci de ne pas y répondre.\n")
    return {
        f"{n}.a:2,S": _msg(n, ME, "contact@francetravail.fr", subject, day,
                           f"Bonjour,\n\n{ask}\n\nJulie Moreau\n"),
        f"{n + 1}.a:2,S": _msg(n + 1, NOREPLY, ME,
                               f"Votre demande n° {number} a bien été enregistrée", day,
                               f"Bonjour,\n\nNous avons bien reçu votre demande n° {number}.\n"),
        f"{n + 2}.a:2,S": _msg(n + 2, NOREPLY, ME, "Nouveau message dans votre espace personnel",
                               day + 2, portal),
    }


def test_the_portals_stock_words_do_not_make_two_matters_alike(tmp_path: Path) -> None:
    # Both requests were answered in the portal; the second comes two days
    # after the first one's closure, on another matter: the notifications'
    # words, the same in both, do not make it a reopening.
    files = {
        **_request_with_portal_answer(1, 6, "Attestation employeur", "Je n'ai toujours pas "
                                      "reçu mon attestation employeur de la boulangerie.",
                                      "2023-000111"),
        "4.a:2,S": _msg(4, NOREPLY, ME, "Votre demande n° 2023-000111 a été clôturée", 9,
                        CLOSED),
        **_request_with_portal_answer(5, 11, "Changement d'adresse", "J'ai déménagé à Lyon, "
                                      "voici ma nouvelle adresse postale.", "2023-000222"),
    }
    messages = _build(tmp_path, files)
    assert [messages.loc[f"m{n}@x", "case_id"] == messages.loc["m1@x", "case_id"]
            for n in range(1, 8)] == [True, True, True, True, False, False, False]


# -- scenarios with known truth ----------------------------------------------

# Seeds 1–5 were used to tune the case builder; these were not.
EVALUATION_SEEDS = (101, 102, 103, 104, 105)


@pytest.fixture(scope="module")
def scenario_scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _scenario_scores(tmp_path_factory, specifics=True)


@pytest.fixture(scope="module")
def scenario_scores_without_specifics(tmp_path_factory: pytest.TempPathFactory
                                      ) -> dict[str, Any]:
    return _scenario_scores(tmp_path_factory, specifics=False)


def _scenario_scores(tmp_path_factory: pytest.TempPathFactory, specifics: bool
                     ) -> dict[str, Any]:
    overall: list[float] = []
    by_style: dict[str, list[float]] = defaultdict(list)
    parties_ok = parties_all = 0
    tp = fp = fn = 0
    # True positives, false positives, false negatives over every message.
    all_mail = [0, 0, 0]
    reopenings = reference_free = 0
    for seed in EVALUATION_SEEDS:
        scenario = synthetic.generate(seed, specifics=specifics)
        root = tmp_path_factory.mktemp(f"seed{seed}")
        synthetic.write_maildir(scenario, root / "mail")
        config = parse_config(tomllib.loads(scenario.config_toml))
        with Store.open(root / "s.sqlite") as store:
            import_paths(store, [root / "mail"], config, workers=1)
            messages = Analysis(store, config).messages().set_index("message_id")
        truth = json.loads((root / "mail" / "truth.json").read_text("utf-8"))["messages"]
        in_case = [t for t in truth if t["case_id"]]
        predicted = {t["message_id"]: messages.loc[t["message_id"], "case_id"] or
                     "none:" + t["message_id"] for t in in_case}
        overall.append(bcubed({t["message_id"]: t["case_id"] for t in in_case}, predicted))
        styles: dict[str, dict[str, str]] = defaultdict(dict)
        for t in in_case:
            styles[t["style"]][t["message_id"]] = t["case_id"]
        for style, part in styles.items():
            by_style[style].append(bcubed(part, {k: predicted[k] for k in part}))
        for t in truth:
            parties_all += 1
            parties_ok += messages.loc[t["message_id"], "party"] == t["party"]
            got, want = bool(messages.loc[t["message_id"], "automated"]), t["automated"]
            all_mail[0] += got and want
            all_mail[1] += got and not want
            all_mail[2] += want and not got
        for t in in_case:
            got, want = bool(messages.loc[t["message_id"], "automated"]), t["automated"]
            tp += got and want
            fp += got and not want
            fn += want and not got
            if t["is_reopening"]:
                reopenings += 1
                reference_free += t["reopen_reference"] == "none"
    return {
        "overall": sum(overall) / len(overall),
        "styles": {s: sum(v) / len(v) for s, v in by_style.items()},
        "parties": parties_ok / parties_all,
        "automated_f1": 2 * tp / (2 * tp + fp + fn),
        "automated_f1_all_mail": 2 * all_mail[0] / (2 * all_mail[0] + all_mail[1] + all_mail[2]),
        "reference_free_share": reference_free / reopenings,
    }


def test_scenarios_are_hard_enough(scenario_scores: dict[str, Any]) -> None:
    assert scenario_scores["reference_free_share"] >= 0.25


def test_parties_and_automated_messages(scenario_scores: dict[str, Any]) -> None:
    # Counterpart mail: 1.000. All mail, newsletters, shops and banks
    # included (read from their headers, subject and sender only): 0.953.
    assert scenario_scores["parties"] >= 0.99
    assert scenario_scores["automated_f1"] >= 0.95
    assert scenario_scores["automated_f1_all_mail"] >= 0.95


def test_case_grouping_scores(scenario_scores: dict[str, Any]) -> None:
    # Measured on the evaluation seeds: 0.991 overall; servicenow 0.970,
    # fr-portal 0.989, the nine other styles 1.0.
    # Never tuned on either: seeds 201-210 0.980, 301-305 0.989, 401-440
    # 0.983 (lowest style fr-portal 0.973); tuning seeds 1-25: 0.982. Issue
    # 3 asks for 0.97 overall and 0.93 per style.
    print({"overall": round(scenario_scores["overall"], 3),
           **{k: round(v, 3) for k, v in sorted(scenario_scores["styles"].items())}})
    assert scenario_scores["overall"] >= 0.97
    assert min(scenario_scores["styles"].values()) >= 0.93


def test_case_grouping_scores_without_specifics(
        scenario_scores_without_specifics: dict[str, Any]) -> None:
    # Matters on one topic worded alike, so that only timing tells a new
    # matter from a reopened one: 0.9638 on these seeds, 0.9727 on 401-440,
    # 0.9683 on 441-470. A floor against regressions in the harder setting.
    # Here every overpayment matter tells the same stock amount; since a
    # word in up to 12 conversations names a matter (was 6, for matters
    # asked about again and again), that amount, in 7, joins two of them in
    # seed 105 (0.9869 there with 6; the other seeds unchanged).
    scores = scenario_scores_without_specifics
    assert scores["overall"] >= 0.96
    assert min(scores["styles"].values()) >= 0.93


def test_score_script_reports_the_scores_of_the_tests(scenario_scores: dict[str, Any]) -> None:
    # tools/score_cases.py prints the figures METHODS.md quotes; it must
    # measure what these tests measure.
    seeds = ",".join(map(str, EVALUATION_SEEDS))
    # This checkout's analyzer, whatever the environment has installed.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "score_cases.py"), seeds],
                         capture_output=True, text=True, check=True, cwd=ROOT, env=env).stdout
    lines = out.splitlines()
    assert lines[0] == "seeds 101..105 (5), specifics on"
    assert lines[1].startswith(f"case grouping B-cubed F1 {scenario_scores['overall']:.4f} ")
    styles = sorted(scenario_scores["styles"].items())
    assert lines[2:2 + len(styles)] == [f"  {k:<12} {v:.3f}" for k, v in styles]
    assert lines[-1] == (f"parties {scenario_scores['parties']:.4f}; automated F1 "
                         f"{scenario_scores['automated_f1']:.4f} over counterpart mail "
                         f"({scenario_scores['automated_f1_all_mail']:.4f} over all mail)")


def test_per_message_rules_give_the_same_build_on_two_cores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = synthetic.generate(7)
    synthetic.write_maildir(scenario, tmp_path / "mail")
    config = parse_config(tomllib.loads(scenario.config_toml))
    with Store.open(tmp_path / "s.sqlite") as store:
        import_paths(store, [tmp_path / "mail"], config, workers=1)
        analysis = Analysis(store, config)
        base = analysis.base_messages()
        bodies = {**analysis.unread_headers(), **analysis.bodies()}
        one_core = cases.build_cases(base, bodies)
        monkeypatch.setattr(cases, "PARALLEL_FEATURES", 1)
        forked = record_forks(monkeypatch, forking)
        with single_threaded():
            two_cores = cases.build_cases(base, bodies)
        assert forked == ["fork"]
        # Beside another thread (a notebook kernel's), nothing is forked.
        with another_thread():
            beside_a_thread = cases.build_cases(base, bodies)
        assert forked == ["fork"]
    assert forking._shared is None
    pd.testing.assert_frame_equal(beside_a_thread.messages, one_core.messages)
    assert one_core.messages["automated"].any() and one_core.messages["ticket_id"].notna().any()
    pd.testing.assert_frame_equal(two_cores.messages, one_core.messages)
    pd.testing.assert_frame_equal(two_cores.links, one_core.links)
