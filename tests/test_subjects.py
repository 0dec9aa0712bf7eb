"""Reply prefixes, subject comparison keys and boilerplate subjects."""

from __future__ import annotations

import pytest

from analyzer.subjects import is_boilerplate_subject, normalize_subject, strip_reply_prefixes

NBSP = "\u00a0"
NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Hello", ("Hello", True)),
        ("RE: Hello", ("Hello", True)),
        ("re: Hello", ("Hello", True)),
        ("Fwd: Hello", ("Hello", True)),
        ("FW: Hello", ("Hello", True)),
        ("Fw: Hello", ("Hello", True)),
        ("TR: Hello", ("Hello", True)),
        ("AW: Hallo", ("Hallo", True)),
        ("WG: Hallo", ("Hallo", True)),
        ("SV: Hej", ("Hej", True)),
        ("VS: Hei", ("Hei", True)),
        ("Antw: Hallo", ("Hallo", True)),
        ("Antwort: Hallo", ("Hallo", True)),
        ("RIF: Ciao", ("Ciao", True)),
        ("R: Ciao", ("Ciao", True)),
        ("I: Ciao", ("Ciao", True)),
        ("RV: Hola", ("Hola", True)),
        ("回复: 你好", ("你好", True)),
        # French typography: a space, NBSP or narrow NBSP before the colon
        ("RE : Votre dossier", ("Votre dossier", True)),
        ("TR : Votre dossier", ("Votre dossier", True)),
        (f"RE{NBSP}: Votre dossier", ("Votre dossier", True)),
        (f"TR{NNBSP}: Votre dossier", ("Votre dossier", True)),
        ("Réf. : Votre dossier", ("Votre dossier", True)),
        ("Réf : Votre dossier", ("Votre dossier", True)),
        ("Ref: Votre dossier", ("Votre dossier", True)),
        ("réf.: Votre dossier", ("Votre dossier", True)),
        ("Réponse automatique : Radiation", ("Radiation", True)),
        ("Automatic reply: Radiation", ("Radiation", True)),
        # Repeated and counted
        ("Re: Re: RE: Hello", ("Hello", True)),
        ("Re:Re:Hello", ("Hello", True)),
        ("Re[2]: Hello", ("Hello", True)),
        ("Re^3: Hello", ("Hello", True)),
        ("Re(2): Foo", ("Foo", True)),
        ("RE : TR : Fwd: Re[4]: Hello", ("Hello", True)),
        # List and ticket tags before, between and after prefixes
        ("[notmuch] Re: Working", ("Working", True)),
        ("Re: [notmuch] Working", ("Working", True)),
        ("[list] RE : [list] TR: Working", ("Working", True)),
        ("[notmuch] [PATCH] Typsos", ("Typsos", False)),
        # Tags that number a case stay: they tell two cases apart
        ("[Ticket#4512] RE : [liste] Votre demande", ("[Ticket#4512] Votre demande", True)),
        ("RE : [Ticket#4512] Votre demande", ("[Ticket#4512] Votre demande", True)),
        ("Re: [notmuch] [PATCH 1/2] Makefile", ("[PATCH 1/2] Makefile", True)),
        ("[Bug 123] Re: crash", ("[Bug 123] crash", True)),
        ("[p5ml] Re: help", ("help", True)),
        ("[p5ml] Re: karie kahimi binge...help needed", ("karie kahimi binge...help needed", True)),
        # Forward suffix
        ("Hello (fwd)", ("Hello", True)),
        # Whitespace folding
        (f"  Re:   Hello{NBSP}\t world  ", ("Hello world", True)),
        # Not prefixes
        ("Hello", ("Hello", False)),
        ("Information: coupure", ("Information: coupure", False)),
        ("Reunion: lundi", ("Reunion: lundi", False)),
        ("Ireland: trip", ("Ireland: trip", False)),
        ("Trésorerie : point", ("Trésorerie : point", False)),
        ("(1) Foo", ("(1) Foo", False)),
        ("FYI: xxxx", ("FYI: xxxx", False)),
        ("", ("", False)),
        ("Re:", ("", True)),
    ],
)
def test_strip_reply_prefixes(subject: str, expected: tuple[str, bool]) -> None:
    assert strip_reply_prefixes(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("RE : Demande d’accès  à mon Espace ", "demande d'acces a mon espace"),
        ("Re: Zip/Postal codes.", "zip/postal codes"),
        ("ÉCHÉANCE du Prêt", "echeance du pret"),
        ("Straße", "strasse"),
        (f"TR{NBSP}: Attestation – employeur", "attestation - employeur"),
        ("", ""),
    ],
)
def test_normalize_subject(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected


def test_normalize_subject_ignores_accents_and_prefixes() -> None:
    assert normalize_subject("Réf. : Radiation contestée") == normalize_subject(
        "radiation contestee"
    )


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Votre demande", True),
        ("RE : Votre demande", True),
        ("Nouveau message", True),
        ("Vous avez reçu un nouveau message", True),
        ("Information", True),
        ("Informations", True),
        ("(no subject)", True),
        ("(sans objet)", True),
        ("", True),
        ("Votre dossier", True),
        ("Accusé de réception", True),
        ("ACCUSE DE RECEPTION", True),
        ("Notification", True),
        ("Réponse automatique", True),
        ("Automatic reply", True),
        ("Out of Office", True),
        ("Undeliverable", True),
        ("Delivery Status Notification (Failure)", True),
        ("Your request", True),
        ("Re: your mail", True),
        ("RE : Votre mail", True),
        ("Bonjour", True),
        ("Question", True),
        ("Suite à votre demande", True),
        ("Relance", True),
        # Too short to identify anything
        ("ok", True),
        ("Re: ?", True),
        ("abc", True),
        ("[liste] a", True),
        # Specific enough
        ("Radiation du 12 mars contestée", False),
        ("Votre demande n° 4512 du 3 mars", False),
        ("[Ticket#4512] Votre demande", False),
        ("[liste] Votre demande", True),
        ("Site updates #changelog", False),
        ("Perl 6 Apocalypse 6", False),
        ("Trop-perçu de janvier", False),
        ("Test", True),
        ("Tests de charge du serveur", False),
    ],
)
def test_is_boilerplate_subject(subject: str, expected: bool) -> None:
    assert is_boilerplate_subject(subject) is expected
