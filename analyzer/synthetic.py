"""Synthetic helpdesk mailboxes with known truth.

The generator plays a citizen who deals with France Travail (ex-Pôle emploi),
other public services and private contractors through helpdesk "ticket"
systems. Tickets get closed by the advisor, the citizen opens new ones (citing
the old number, re-pasting her text, or with no reference at all), advisors
change, acknowledgements and closure notices arrive, and personal mail is mixed
in. Everything the analyzer should find is recorded as truth.

Message kinds (``MessageTruth.kind``): ``question`` (first message of a ticket
from the citizen), ``reply``, ``reminder`` (a "relance" while waiting),
``addendum`` (a second or third mail sent minutes after the first), ``demand``
(the organisation opens with a request and a deadline), ``ack``, ``closure``,
``survey``, ``ooo`` (out of office), ``rejection`` (follow-up on a closed
ticket refused), ``notification`` (fr-portal "nouveau message dans votre espace
personnel": a real agency message, not automated), ``contractor`` (a private
firm's first mail of a conversation), and for unrelated mail ``personal``,
``newsletter``, ``shop``, ``bank``.

Traps kept on purpose because real systems set them: Zendesk and Redmine put
``Auto-Submitted: auto-generated`` on every mail, advisors' replies included
(truth: not automated); fr-portal notifications come from a no-reply address
yet carry the advisor's answer (not automated); acknowledgements sometimes have
no ``Auto-Submitted`` at all; RT, Zendesk and GLPI reference ids that no
message carries (listed in ``Truth.phantom_ids``).

Everything derives from ``random.Random(seed)``: same seed, same bytes, on any
machine and whatever ``PYTHONHASHSEED``. Times are whole seconds, aware UTC.

Example:

>>> scenario = generate(7, cases=3, unrelated=10)
>>> len(scenario.messages) == len(scenario.truth.messages)
True
>>> {m.party for m in scenario.truth.messages} <= {"agency", "contractor", "me", "other"}
True
>>> raw = next(iter_message_bytes(scenario))
>>> raw.startswith((b"Return-Path:", b"Date:"))
True
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import math
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_START",
    "REOPEN_REFERENCES",
    "STYLES",
    "Address",
    "CaseTruth",
    "Counterpart",
    "MessageTruth",
    "Scenario",
    "SyntheticMessage",
    "Truth",
    "bcubed",
    "generate",
    "iter_message_bytes",
    "message_bytes",
    "scale",
    "split_members",
    "truth_waits",
    "write_maildir",
    "write_mbox",
]

DEFAULT_START = datetime(2022, 1, 3, 7, 0, tzinfo=UTC)
#: Share of the requests I open that name the matter's specifics.
MATTER_NAMED_SHARE = 0.8

AGENCY_STYLES: tuple[str, ...] = (
    "fr-portal",
    "otrs",
    "zammad",
    "rt",
    "zendesk",
    "freshdesk",
    "glpi",
    "servicenow",
    "salesforce",
    "redmine",
)
CONTRACTOR_STYLE = "contractor"
STYLES: tuple[str, ...] = (*AGENCY_STYLES, CONTRACTOR_STYLE)
REOPEN_REFERENCES: tuple[str, ...] = ("ticket-number", "quote", "none")

# France Travail dominates the citizen's mail; the other systems are there so
# the analyzer is not tuned to one vendor.
_STYLE_WEIGHTS: dict[str, float] = {
    "fr-portal": 6.0,
    "contractor": 2.0,
    "otrs": 1.0,
    "zammad": 1.0,
    "rt": 1.0,
    "zendesk": 1.0,
    "freshdesk": 1.0,
    "glpi": 1.0,
    "servicenow": 1.0,
    "salesforce": 1.0,
    "redmine": 1.0,
}

# The agency was renamed on 1 January 2024: mail before that comes from
# pole-emploi.fr, after from francetravail.fr.
_RENAMING = datetime(2024, 1, 1, tzinfo=UTC)

# ---------------------------------------------------------------------------
# Public data model
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox with its display name (``name`` may be empty)."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Counterpart:
    """One simulated organisation, as written to ``analyzer.toml``."""

    name: str
    kind: str
    style: str
    domains: tuple[str, ...]
    addresses: tuple[str, ...] = ()


@dataclass(slots=True)
class MessageTruth:
    """What the analyzer should find about one message.

    ``sent_at`` is an aware UTC datetime here and an ISO string in truth.json.
    ``reopen_reference`` is None unless ``is_reopening``.
    """

    message_id: str
    case_id: str | None
    ticket_id: str | None
    party: str
    counterpart: str | None
    automated: bool
    kind: str
    style: str | None
    sent_at: datetime
    answers: str | None = None
    is_reopening: bool = False
    reopen_reference: str | None = None
    member: int = 0
    deadline: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (datetimes as ISO UTC strings ending in ``Z``)."""
        return {
            "message_id": self.message_id,
            "case_id": self.case_id,
            "ticket_id": self.ticket_id,
            "party": self.party,
            "counterpart": self.counterpart,
            "automated": self.automated,
            "kind": self.kind,
            "style": self.style,
            "sent_at": _iso(self.sent_at),
            "answers": self.answers,
            "is_reopening": self.is_reopening,
            "reopen_reference": self.reopen_reference,
            "member": self.member,
            "deadline": _iso(self.deadline) if self.deadline else None,
        }


@dataclass(slots=True)
class CaseTruth:
    """One case: the tickets (in order) that are really one matter."""

    case_id: str
    counterpart: str
    style: str
    tickets: list[str]
    topic: str
    member: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "case_id": self.case_id,
            "counterpart": self.counterpart,
            "style": self.style,
            "tickets": list(self.tickets),
            "topic": self.topic,
            "member": self.member,
        }


@dataclass(slots=True)
class Truth:
    """Everything known about a scenario.

    ``phantom_ids`` are ids that messages reference on purpose although no
    message carries them (RT's ``RT-Ticket-N@host``, Zendesk's bare ENCID,
    GLPI's ticket id): real systems do that too.
    """

    messages: list[MessageTruth]
    cases: list[CaseTruth]
    phantom_ids: list[str] = field(default_factory=list)

    def by_id(self) -> dict[str, MessageTruth]:
        """Message truth keyed by Message-ID (no angle brackets)."""
        return {m.message_id: m for m in self.messages}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as written to truth.json."""
        return {
            "messages": [m.to_dict() for m in self.messages],
            "cases": [c.to_dict() for c in self.cases],
            "phantom_ids": list(self.phantom_ids),
        }


@dataclass(frozen=True, slots=True)
class Attachment:
    """A small attachment; its bytes are derived from ``seed`` when rendered."""

    filename: str
    content_type: str
    size: int
    seed: int


@dataclass(slots=True)
class SyntheticMessage:
    """One message, kept as small objects until :func:`message_bytes`."""

    truth: MessageTruth
    sender: Address
    to: tuple[Address, ...]
    subject: str
    text: str
    received_at: datetime
    tz_minutes: int
    folder: str
    owner: str
    cc: tuple[Address, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    html: str | None = None
    attachment: Attachment | None = None
    seq: int = 0

    @property
    def message_id(self) -> str:
        """Message-ID without angle brackets."""
        return self.truth.message_id

    @property
    def sent_at(self) -> datetime:
        """Date header instant, aware UTC."""
        return self.truth.sent_at


@dataclass(slots=True)
class Scenario:
    """A generated mailbox: messages in delivery order, config and truth.

    ``me`` is the first member's address; ``members`` lists all of them.
    """

    seed: int
    me: str
    messages: list[SyntheticMessage]
    truth: Truth
    config_toml: str
    members: tuple[str, ...]
    counterparts: tuple[Counterpart, ...]


# ---------------------------------------------------------------------------
# Vocabulary (written for this project; no real person or mail is copied)
# ---------------------------------------------------------------------------

_FIRST = (
    "Hélène",
    "Jérôme",
    "Céline",
    "Frédéric",
    "Noémie",
    "Anaïs",
    "Loïc",
    "Maëlle",
    "François",
    "Éric",
    "Zoé",
    "Clément",
    "Camille",
    "Julie",
    "Romain",
    "Sophie",
    "Thomas",
    "Léa",
    "Nicolas",
    "Inès",
    "Mathieu",
    "Aurélie",
    "Karim",
    "Fatou",
    "Yann",
    "Chloé",
    "Benoît",
    "Amélie",
    "Sébastien",
    "Océane",
    "Djamel",
    "Agnès",
)
_LAST = (
    "Durand",
    "Lefèvre",
    "Mercier",
    "Bénard",
    "Rousseau",
    "Girard",
    "Muller",
    "Faure",
    "André",
    "Lemaître",
    "Chevalier",
    "Gauthier",
    "Perrin",
    "Morel",
    "Fontaine",
    "Roux",
    "Lambert",
    "Bonnet",
    "Dupont",
    "Garnier",
    "Leroy",
    "Moreau",
    "Benali",
    "Traoré",
    "Nguyen",
    "Le Gall",
    "Hébert",
    "Caron",
    "Barbier",
    "Giraud",
    "Diallo",
    "Pereira",
)

_MEMBER_DOMAINS = ("courriel.example", "boite-postale.example", "monmail.example")
_FRIEND_DOMAINS = (
    "webmail.example",
    "courriel.example",
    "famille.example",
    "asso-quartier.example",
)


@dataclass(frozen=True, slots=True)
class _Topic:
    key: str
    subjects: tuple[str, ...]
    asks: tuple[str, ...]
    follows: tuple[str, ...]
    replies: tuple[str, ...]
    docs: tuple[str, ...]


_EMPLOI_TOPICS: tuple[_Topic, ...] = (
    _Topic(
        "actualisation",
        ("Problème d'actualisation", "Actualisation non prise en compte", "Erreur actualisation"),
        (
            "Je n'arrive pas à valider mon actualisation mensuelle : le site affiche une "
            "erreur à la dernière étape et rien n'apparaît dans mon espace.",
            "Mon actualisation a été faite dans les délais mais elle n'est pas enregistrée. "
            "Je crains une radiation pour défaut d'actualisation.",
            "J'ai déclaré par erreur des heures travaillées lors de mon actualisation. "
            "Comment corriger cette déclaration ?",
        ),
        (
            "J'ai refait l'actualisation ce matin, le site bloque toujours à la même étape.",
            "Je joins la capture de l'écran d'erreur de l'actualisation.",
        ),
        (
            "Votre actualisation a été régularisée par nos services.",
            "Nous avons corrigé votre déclaration mensuelle ; elle sera visible dans votre "
            "espace sous quelques jours.",
        ),
        ("une capture d'écran du message d'erreur", "vos bulletins de salaire du mois"),
    ),
    _Topic(
        "ouverture-droits",
        ("Dossier d'indemnisation en attente", "Ouverture de mes droits", "Attestation employeur"),
        (
            "Mon dossier d'indemnisation est toujours en attente de l'attestation employeur, "
            "alors que mon ancien employeur affirme l'avoir transmise.",
            "Je suis inscrit depuis plus d'un mois et mes droits ne sont toujours pas ouverts. "
            "Pouvez-vous me dire ce qui manque à mon dossier d'indemnisation ?",
            "L'attestation employeur que vous avez reçue comporte une erreur sur la date de fin "
            "de contrat, ce qui bloque l'ouverture de mes droits.",
        ),
        (
            "Mon ancien employeur vient de renvoyer l'attestation employeur rectifiée.",
            "Je vous transmets à nouveau mon dernier contrat et mes bulletins de salaire.",
        ),
        (
            "Votre dossier d'indemnisation est complet, l'ouverture de vos droits est en cours.",
            "Nous n'avons pas reçu l'attestation employeur ; merci de relancer votre employeur.",
        ),
        ("l'attestation employeur", "votre dernier contrat de travail", "vos bulletins de salaire"),
    ),
    _Topic(
        "trop-percu",
        ("Notification de trop-perçu", "Contestation trop-perçu", "Trop-perçu incompréhensible"),
        (
            "J'ai reçu une notification de trop-perçu de 1 240 euros que je ne comprends pas : "
            "toutes mes périodes de travail ont été déclarées.",
            "Je conteste le trop-perçu qui m'est réclamé ; je souhaite connaître le détail du "
            "calcul et les voies de recours.",
            "Une retenue pour trop-perçu a été faite sur mon allocation sans explication. "
            "Pouvez-vous m'indiquer sur quelle période porte ce trop-perçu ?",
        ),
        (
            "Je vous joins le détail de mes déclarations pour la période du trop-perçu.",
            "Je maintiens ma contestation du trop-perçu et je demande un échéancier.",
        ),
        (
            "Le trop-perçu correspond à des activités déclarées après le versement.",
            "Après vérification, le trop-perçu est annulé et la retenue vous sera remboursée.",
        ),
        ("vos bulletins de salaire de la période", "un relevé d'identité bancaire"),
    ),
    _Topic(
        "controle",
        ("Contrôle de la recherche d'emploi", "Justificatifs contrôle", "Mon dossier de contrôle"),
        (
            "Vous trouverez ci-joint mes justificatifs de recherche d'emploi suite au contrôle "
            "de mon dossier.",
            "Je vous envoie les justificatifs demandés pour le contrôle de la recherche "
            "d'emploi ; mon profil de compétences a été mis à jour.",
            "Je n'ai aucune nouvelle depuis l'envoi de mes justificatifs pour le contrôle de "
            "la recherche d'emploi. Mon dossier a-t-il été examiné ?",
        ),
        (
            "Voici la suite de mes justificatifs de recherche d'emploi (candidatures envoyées).",
            "J'ajoute la convention avec ma coopérative, demandée pour le contrôle.",
        ),
        (
            "Votre dossier de contrôle de la recherche d'emploi a été examiné ; aucune suite "
            "n'est donnée.",
            "La commission a étudié vos justificatifs ; votre inscription est maintenue.",
        ),
        (
            "vos justificatifs de recherche d'emploi",
            "la mise à jour de votre profil de compétences",
        ),
    ),
    _Topic(
        "changement-statut",
        ("Changement de statut", "Passage en coopérative", "Ma situation a changé"),
        (
            "Notre structure est devenue une coopérative (SCOP) et mon statut de gérant a "
            "changé ; la déclaration en ligne ne prévoit pas ce cas.",
            "Suite à la transformation de notre société en coopérative, je ne sais pas comment "
            "déclarer ma rémunération de gérant associé.",
            "Mon statut a changé depuis la transformation en coopérative et mon allocation a "
            "été suspendue. Que dois-je fournir ?",
        ),
        (
            "Je vous envoie l'extrait Kbis de la coopérative et le procès-verbal d'assemblée.",
            "Le tribunal de commerce a enfin enregistré la transformation de la coopérative.",
        ),
        (
            "Votre changement de statut a été pris en compte à la date de la transformation.",
            "Nous avons besoin du procès-verbal de l'assemblée de la coopérative.",
        ),
        ("l'extrait Kbis de la coopérative", "le procès-verbal d'assemblée générale"),
    ),
    _Topic(
        "formation",
        ("Demande de formation", "Aide individuelle à la formation", "Financement formation"),
        (
            "Je souhaite suivre une formation de développeur web et j'ai déposé une demande "
            "d'aide individuelle à la formation. Où en est ce financement ?",
            "Ma formation commence dans trois semaines et la demande de financement n'est "
            "toujours pas validée.",
            "L'organisme de formation me demande la validation du devis de formation par "
            "votre agence.",
        ),
        (
            "Je vous transmets le devis de formation mis à jour par l'organisme.",
            "L'organisme de formation confirme la date de début de la formation.",
        ),
        (
            "Votre demande de financement de formation a été validée.",
            "Le devis de formation doit être déposé par l'organisme sur la plateforme.",
        ),
        ("le devis de formation", "le programme de la formation"),
    ),
    _Topic(
        "radiation",
        ("Avis de radiation", "Radiation injustifiée", "Contestation radiation"),
        (
            "J'ai reçu un avis de radiation pour absence à un rendez-vous, alors que je n'ai "
            "jamais reçu de convocation.",
            "Je conteste la radiation prononcée le mois dernier : j'étais en formation ce "
            "jour-là, ce que votre agence savait.",
            "Suite à la radiation, mon allocation est suspendue. Comment faire annuler cette "
            "radiation ?",
        ),
        (
            "Je joins l'attestation de présence en formation pour le jour de la convocation.",
            "Je n'ai trouvé aucune convocation dans mon espace personnel à cette date.",
        ),
        (
            "La radiation a été annulée et votre inscription rétablie.",
            "La radiation est maintenue ; vous pouvez former un recours auprès du médiateur.",
        ),
        ("une attestation de présence", "un justificatif d'absence"),
    ),
    _Topic(
        "paiement",
        ("Allocation non versée", "Paiement du mois", "Retard de paiement"),
        (
            "Mon allocation du mois n'a pas été versée alors que mon actualisation est faite. "
            "Je n'ai pas d'autre revenu.",
            "Le paiement de mon allocation est indiqué comme effectué mais rien n'est arrivé "
            "sur mon compte.",
            "Le montant de l'allocation versé ce mois-ci est inférieur de moitié au montant "
            "habituel, sans explication.",
        ),
        (
            "Ma banque confirme qu'aucun virement de l'allocation n'a été reçu.",
            "Je joins mon relevé bancaire du mois sans le versement.",
        ),
        (
            "Le versement de votre allocation a été relancé, il interviendra sous trois jours.",
            "Le montant versé tient compte des jours travaillés que vous avez déclarés.",
        ),
        ("un relevé d'identité bancaire", "votre relevé de compte du mois"),
    ),
    _Topic(
        "prestataire",
        (
            "Accompagnement par un cabinet privé",
            "Mail d'un prestataire",
            "Accompagnement obligatoire ?",
        ),
        (
            "J'ai reçu un courriel d'un cabinet privé qui m'annonce un accompagnement "
            "obligatoire. Rien n'apparaît dans mon espace : est-ce bien une démarche de votre "
            "part ?",
            "Un prestataire m'appelle pour un accompagnement obligatoire dont mon conseiller "
            "ne m'a jamais parlé. Suis-je concerné par ce dispositif ?",
        ),
        (
            "Le cabinet m'a rappelé et insiste sur le caractère obligatoire de l'accompagnement.",
            "Le prestataire a déposé un message dans mon espace personnel.",
        ),
        (
            "Il s'agit d'une erreur, vous n'êtes pas concerné par ce dispositif d'accompagnement.",
            "Cet accompagnement fait partie d'un dispositif national ; votre participation est "
            "attendue.",
        ),
        ("le courriel du prestataire",),
    ),
)

_SERVICE_TOPICS: tuple[_Topic, ...] = (
    _Topic(
        "versement",
        ("Versement en attente", "Remboursement non reçu", "Paiement manquant"),
        (
            "Je n'ai toujours pas reçu le versement annoncé il y a un mois ; pouvez-vous me "
            "dire où en est le paiement ?",
            "Le remboursement indiqué comme traité n'est jamais arrivé sur mon compte.",
            "Mon versement mensuel est en retard et je n'ai reçu aucune explication.",
        ),
        (
            "Ma banque confirme qu'aucun virement n'a été reçu à ce jour.",
            "Je joins mon relevé de compte sans le versement attendu.",
        ),
        (
            "Le versement a été émis ; il apparaîtra sous trois jours ouvrés.",
            "Le paiement était bloqué par une coordonnée bancaire erronée, corrigée depuis.",
        ),
        ("un relevé d'identité bancaire", "votre relevé de compte"),
    ),
    _Topic(
        "piece-justificative",
        ("Dossier incomplet", "Pièces justificatives", "Mon dossier est complet"),
        (
            "Vous m'indiquez que mon dossier est incomplet, mais j'ai déjà envoyé toutes les "
            "pièces justificatives demandées.",
            "Quelles pièces justificatives manque-t-il exactement à mon dossier ? La liste en "
            "ligne ne correspond pas à votre courrier.",
        ),
        (
            "Je renvoie les pièces justificatives en un seul fichier.",
            "Je joins à nouveau le justificatif de domicile et la pièce d'identité.",
        ),
        (
            "Votre dossier est désormais complet et passe en instruction.",
            "Il manque encore un justificatif de domicile de moins de trois mois.",
        ),
        ("un justificatif de domicile", "une pièce d'identité"),
    ),
    _Topic(
        "attestation",
        ("Demande d'attestation", "Attestation introuvable", "Besoin d'une attestation"),
        (
            "J'ai besoin d'une attestation de situation pour mon dossier de logement ; "
            "l'espace en ligne ne permet pas de la télécharger.",
            "L'attestation téléchargée en ligne porte une adresse erronée ; pouvez-vous m'en "
            "envoyer une corrigée ?",
        ),
        (
            "Le bailleur me demande l'attestation avant la fin du mois.",
            "L'attestation reçue porte toujours l'ancienne adresse.",
        ),
        (
            "Vous trouverez l'attestation de situation en pièce jointe.",
            "L'attestation est disponible dans votre espace en ligne.",
        ),
        ("un justificatif de domicile",),
    ),
    _Topic(
        "coordonnees",
        ("Changement d'adresse", "Mise à jour de mes coordonnées", "Nouvelle adresse"),
        (
            "J'ai déménagé et la mise à jour de mon adresse en ligne échoue ; mes courriers "
            "partent toujours à l'ancienne adresse.",
            "Merci de mettre à jour mes coordonnées : nouvelle adresse postale et nouveau "
            "numéro de téléphone.",
        ),
        (
            "Je joins le justificatif de la nouvelle adresse.",
            "Un courrier vient encore d'arriver à l'ancienne adresse.",
        ),
        (
            "Vos coordonnées ont été mises à jour.",
            "Le changement d'adresse nécessite un justificatif de domicile récent.",
        ),
        ("un justificatif de domicile",),
    ),
    _Topic(
        "compte-en-ligne",
        ("Accès à mon compte", "Compte bloqué", "Mot de passe"),
        (
            "Je n'arrive plus à me connecter à mon compte en ligne : le lien de "
            "réinitialisation du mot de passe ne fonctionne pas.",
            "Mon compte en ligne est bloqué après trois essais et le code de connexion par "
            "courriel n'arrive jamais.",
        ),
        (
            "Le code de connexion n'arrive toujours pas, même dans les indésirables.",
            "J'ai essayé depuis un autre navigateur, le compte reste bloqué.",
        ),
        (
            "Votre compte a été débloqué, un nouveau lien de connexion vous a été envoyé.",
            "Merci de vider le cache de votre navigateur avant de réessayer.",
        ),
        ("une pièce d'identité",),
    ),
    _Topic(
        "reclamation-montant",
        ("Réclamation sur un montant", "Erreur de montant", "Montant contesté"),
        (
            "Le montant réclamé sur mon dernier relevé est le double du montant habituel ; "
            "je conteste ce montant.",
            "Je ne comprends pas le calcul du montant indiqué sur mon relevé et souhaite une "
            "explication détaillée.",
        ),
        (
            "Je maintiens ma réclamation : le montant ne correspond à aucune prestation.",
            "Je joins le relevé précédent pour comparaison des montants.",
        ),
        (
            "Après vérification, le montant a été corrigé et un avoir a été émis.",
            "Le montant correspond à une régularisation annuelle.",
        ),
        ("le relevé concerné",),
    ),
)

_CONTRACTOR_TOPICS: tuple[_Topic, ...] = (
    _Topic(
        "accompagnement",
        ("Accompagnement", "Votre accompagnement", "Prise de rendez-vous"),
        (
            "Mon conseiller France Travail m'a indiqué que je n'étais pas concerné par cet "
            "accompagnement. Pouvez-vous me confirmer le caractère obligatoire ?",
            "Je n'ai reçu aucune information de mon conseiller sur cet accompagnement ; sur "
            "quelle base suis-je convoqué ?",
        ),
        (
            "Je suis disponible pour un rendez-vous d'accompagnement mardi ou jeudi.",
            "Merci de m'envoyer le lien de la visio pour le rendez-vous d'accompagnement.",
        ),
        (
            "Il s'agit d'un dispositif national d'accompagnement, votre participation est "
            "obligatoire.",
            "Votre rendez-vous d'accompagnement est confirmé, le lien de visio suivra.",
        ),
        ("votre CV à jour",),
    ),
    _Topic(
        "atelier-cv",
        ("Atelier CV", "Atelier en visio", "Programme de l'accompagnement"),
        (
            "Je ne pourrai pas assister à l'atelier CV en visio de lundi ; peut-on le reporter ?",
            "Quel est le programme de l'accompagnement et combien de séances en visio sont "
            "prévues ?",
        ),
        (
            "Je vous renvoie mon CV modifié après l'atelier.",
            "Le lien de l'atelier en visio ne fonctionne pas.",
        ),
        (
            "L'atelier CV est reporté, une nouvelle date vous sera proposée.",
            "Le programme comprend six séances en visio et un atelier CV.",
        ),
        ("votre CV à jour", "une lettre de motivation"),
    ),
)

_BOILERPLATE_SUBJECTS = (
    "Ma demande",
    "Demande d'information",
    "Question",
    "Relance",
    "Mon dossier",
)

_GREETINGS = ("Bonjour,", "Madame, Monsieur,", "Bonjour Madame, Monsieur,", "Bonjour à vous,")
_CLOSINGS = (
    "Cordialement,",
    "Bien cordialement,",
    "Merci d'avance pour votre réponse.",
    "Dans l'attente de votre retour, cordialement,",
)
_REMINDERS = (
    "Je me permets de vous relancer : mon message du {date} est resté sans réponse.",
    "Sans réponse de votre part depuis le {date}, je vous relance au sujet de ma demande.",
    "Je reviens vers vous car je n'ai toujours pas de réponse à mon message du {date}.",
)
_REEXPLAIN = (
    "Comme je l'ai déjà expliqué à votre collègue, ",
    "Je réexplique ma situation puisque le dossier a changé d'interlocuteur : ",
    "Je reprends depuis le début, n'ayant jamais eu le même interlocuteur : ",
)
_ADDENDA = (
    "Voici la suite des pièces jointes (envoi {n}).",
    "J'oubliais : vous trouverez un document complémentaire en pièce jointe (envoi {n}).",
    "Suite de mon précédent message, envoi {n}.",
)
#: What makes one matter this matter and not another on the same topic: the
#: month it is about, the employer, the letter that started it. A citizen
#: names it when opening a request and names it again when re-explaining.
_EMPLOYERS = (
    "Boulangerie Marchand",
    "Transports Lebrun",
    "Clinique Saint-Roch",
    "Menuiserie Fabre",
    "Hôtel des Tanneurs",
    "Garage Perrichon",
    "Imprimerie Vasseur",
    "Pharmacie Delorme",
    "Logistique Rhodanienne",
    "Restaurant Le Sémaphore",
    "Jardinerie Castagne",
    "Laboratoire Quillet",
    "Crèche Les Hirondelles",
    "Cave Bonnefoy",
    "Librairie Ombelle",
    "Nettoyage Azur",
)
_MATTERS = (
    "Cela concerne la période de {month} {year}.",
    "Cela concerne mon contrat chez {employer}.",
    "Cela fait suite au courrier du {day} {month} {year}.",
    "Il s'agit de mes heures chez {employer} en {month}.",
)
_ROLES = (
    "Conseiller indemnisation",
    "Conseillère référente",
    "Conseiller à l'emploi",
    "Gestionnaire de dossier",
    "Chargée de relation",
)


@dataclass(frozen=True, slots=True)
class _OrgSpec:
    style: str
    name: str
    kind: str
    domain: str
    extra_domains: tuple[str, ...]
    contact_local: str
    tag: str
    team: str
    reply_median_h: float
    paris_tz: bool


_AGENCY_SPECS: tuple[_OrgSpec, ...] = (
    _OrgSpec(
        "fr-portal",
        "France Travail",
        "agency",
        "francetravail.fr",
        ("pole-emploi.fr", "pole-emploi.net"),
        "ape.93051",
        "",
        "Agence de Montreuil",
        120.0,
        True,
    ),
    _OrgSpec(
        "otrs",
        "Retraite Avenir",
        "agency",
        "retraite-avenir.example",
        (),
        "contact",
        "Ticket#",
        "Service relations assurés",
        72.0,
        True,
    ),
    _OrgSpec(
        "zammad",
        "Mission Locale Rives de Seine",
        "agency",
        "mission-locale-rives.example",
        (),
        "accueil",
        "Ticket#",
        "Équipe accueil",
        48.0,
        True,
    ),
    _OrgSpec(
        "rt",
        "Université Confluence — Scolarité",
        "agency",
        "univ-confluence.example",
        (),
        "scolarite",
        "univ-confluence",
        "Service de la scolarité",
        48.0,
        True,
    ),
    _OrgSpec(
        "zendesk",
        "Mutuelle Horizon",
        "agency",
        "mutuelle-horizon.example",
        ("mutuellehorizon.zendesk.com",),
        "support",
        "Mutuelle Horizon",
        "Service adhérents",
        30.0,
        False,
    ),
    _OrgSpec(
        "freshdesk",
        "Énergie Solidaire",
        "agency",
        "energie-solidaire.example",
        ("energiesolidaire.freshdesk.com",),
        "service-client",
        "#",
        "Service client",
        36.0,
        False,
    ),
    _OrgSpec(
        "glpi",
        "Département Val-de-Marne-Est — RSA",
        "agency",
        "departement-rsa.example",
        (),
        "rsa",
        "RSA",
        "Service insertion RSA",
        96.0,
        True,
    ),
    _OrgSpec(
        "servicenow",
        "Caisse d'Allocations Nord-Est",
        "agency",
        "caf-nord-est.example",
        ("cafnordest.service-now.com",),
        "allocataires",
        "CS",
        "Service allocataires",
        96.0,
        False,
    ),
    _OrgSpec(
        "salesforce",
        "Alizé Mobile",
        "agency",
        "alize-mobile.example",
        (),
        "serviceclient",
        "",
        "Service client Alizé",
        24.0,
        False,
    ),
    _OrgSpec(
        "redmine",
        "Association Toit Partagé",
        "agency",
        "toit-partage.example",
        (),
        "accompagnement",
        "Accompagnement",
        "Pôle accompagnement logement",
        72.0,
        True,
    ),
)

_CONTRACTOR_SPECS: tuple[tuple[str, str, str, str], ...] = (
    # name, firm domain, call-centre domain, ticket prefix
    ("Cap Avenir Conseil", "capavenir-conseil.example", "relation-beneficiaires.example", "CAP"),
    ("Trajectoires Emploi", "trajectoires-emploi.example", "plateforme-parcours.example", "TRJ"),
)

# ---------------------------------------------------------------------------
# Small helpers (time, ids, text)
# ---------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MOIS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=256)
def _dst_bounds(year: int) -> tuple[datetime, datetime]:
    # EU rule, computed here so output never depends on the host's tz database.
    def last_sunday(month: int) -> datetime:
        d = date(year, month, 31)
        d -= timedelta(days=(d.weekday() + 1) % 7)
        return datetime(d.year, d.month, d.day, 1, 0, tzinfo=UTC)

    return last_sunday(3), last_sunday(10)


def _paris_minutes(t: datetime) -> int:
    start, end = _dst_bounds(t.year)
    return 120 if start <= t < end else 60


def _paris_local(t: datetime) -> datetime:
    """Naive Paris wall-clock time of an aware UTC instant."""
    return (t + timedelta(minutes=_paris_minutes(t))).replace(tzinfo=None)


def _from_paris(local: datetime) -> datetime:
    guess = local.replace(tzinfo=UTC) - timedelta(minutes=60)
    return local.replace(tzinfo=UTC) - timedelta(minutes=_paris_minutes(guess))


def _fmt_date(t: datetime, tz_minutes: int) -> str:
    local = t + timedelta(minutes=tz_minutes)
    sign = "+" if tz_minutes >= 0 else "-"
    off = abs(tz_minutes)
    return (
        f"{_DAYS[local.weekday()]}, {local.day:02d} {_MONTHS[local.month - 1]} {local.year} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} "
        f"{sign}{off // 60:02d}{off % 60:02d}"
    )


def _fr_date(t: datetime) -> str:
    return _paris_local(t).strftime("%d/%m/%Y")


def _fr_long(t: datetime) -> str:
    local = _paris_local(t)
    return (
        f"{_JOURS[local.weekday()]} {local.day} {_MOIS[local.month - 1]} {local.year} {local:%H:%M}"
    )


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _token(rng: random.Random, n: int, alphabet: str = _B36) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _ascii_fold(s: str) -> str:
    folded = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def _local_part(first: str, last: str) -> str:
    return f"{_ascii_fold(first)}.{_ascii_fold(last)}".replace("-", "")


def _lognormal_hours(rng: random.Random, median_h: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median_h), sigma)


def _working(rng: random.Random, t: datetime) -> datetime:
    """Move ``t`` into office hours (Mon-Fri 08:30-17:30 Paris)."""
    local = _paris_local(t)
    minutes = local.hour * 60 + local.minute
    if local.weekday() < 5 and 510 <= minutes < 1050:
        return t
    day = local.date()
    if local.weekday() >= 5 or minutes >= 1050:
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 8, 30) + timedelta(
        minutes=rng.randint(0, 480), seconds=rng.randint(0, 59)
    )
    return _from_paris(start)


def _waking(rng: random.Random, t: datetime) -> datetime:
    """Move ``t`` into the citizen's waking hours (07:30-23:30 Paris)."""
    local = _paris_local(t)
    minutes = local.hour * 60 + local.minute
    if 450 <= minutes < 1410:
        return t
    day = local.date()
    if minutes >= 1410:
        day += timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 7, 30) + timedelta(
        minutes=rng.randint(0, 240), seconds=rng.randint(0, 59)
    )
    return _from_paris(start)


def _quote_lines(text: str) -> str:
    return "\n".join(("> " + line) if line else ">" for line in text.split("\n"))


def _wrap(text: str, width: int = 72) -> str:
    out: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            if line and len(line) + 1 + len(word) > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Simulation state
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Org:
    name: str
    kind: str
    style: str
    domain: str
    domains: tuple[str, ...]
    addresses: list[str]
    contact_local: str
    tag: str
    team: str
    reply_median_h: float
    paris_tz: bool
    advisors: list[tuple[str, str]]
    instance: str
    counter: int
    callcentre: Address | None = None
    coaches: list[Address] = field(default_factory=list)
    prefix: str = ""

    def domain_at(self, t: datetime) -> str:
        if self.style == "fr-portal" and t < _RENAMING:
            return "pole-emploi.fr"
        return self.domain

    def display(self, t: datetime) -> str:
        if self.style == "fr-portal" and t < _RENAMING:
            return "Pôle emploi"
        return self.name

    def contact(self, t: datetime) -> Address:
        return Address(self.display(t), f"{self.contact_local}@{self.domain_at(t)}")

    def noreply(self, t: datetime) -> Address:
        if self.style == "fr-portal":
            return Address(self.display(t), f"ne-pas-repondre@{self.domain_at(t)}")
        if self.style in ("zendesk", "freshdesk", "servicenow"):
            return Address(self.name, f"{self.contact_local}@{self.domain}")
        return Address(self.name, f"ne-pas-repondre@{self.domain}")

    def advisor(self, i: int, t: datetime) -> Address:
        first, last = self.advisors[i]
        if self.style == "fr-portal":
            return Address(f"{first} {last}", f"{_local_part(first, last)}@{self.domain_at(t)}")
        if self.style in ("otrs", "rt", "glpi", "redmine", "zammad", "salesforce", "servicenow"):
            # Helpdesks send agent replies from the queue address with the agent's name.
            return Address(f"{first} {last} via {self.name}", f"{self.contact_local}@{self.domain}")
        return Address(f"{first} ({self.name})", f"{self.contact_local}@{self.domain}")

    def counterpart(self) -> Counterpart:
        return Counterpart(self.name, self.kind, self.style, self.domains, tuple(self.addresses))


@dataclass(slots=True)
class _Member:
    index: int
    address: Address
    first: str
    last: str
    client: str
    identifiant: str
    helper: Address

    @property
    def domain(self) -> str:
        return self.address.email.rsplit("@", 1)[1]


@dataclass(slots=True)
class _Ticket:
    id: str
    internal: int
    subject: str
    encid: str = ""
    ref: str = ""
    thread_root: str | None = None
    msgs: list[SyntheticMessage] = field(default_factory=list)
    journal: int = 0
    sender: Address | None = None


@dataclass(slots=True)
class _Case:
    truth: CaseTruth
    org: _Org
    topic: _Topic
    start: datetime
    n_tickets: int
    member: _Member
    clock: datetime
    msgs: list[SyntheticMessage] = field(default_factory=list)
    first_text: str = ""
    first_at: datetime | None = None
    advisor: int | None = None
    asks_used: int = 0
    #: The sentence naming this matter's specifics (see :data:`_MATTERS`).
    matter: str = ""
    #: The question of the case's latest request, and whether that request
    #: was closed without an answer (then it is asked again, as it was).
    last_ask: str = ""
    unanswered: bool = False


@dataclass(slots=True)
class _Turn:
    """Where a ticket's conversation stands."""

    owner: str  # "me" or "org": who sent the last human message
    first: SyntheticMessage | None  # first message of the unanswered turn
    last_me: SyntheticMessage | None
    last_org: SyntheticMessage | None


_ACK_PROBABILITY: dict[str, float] = {
    "fr-portal": 0.9,
    "otrs": 0.9,
    "zammad": 0.9,
    "rt": 0.95,
    "zendesk": 0.95,
    "freshdesk": 0.9,
    "glpi": 0.85,
    "servicenow": 0.9,
    "salesforce": 0.8,
    "redmine": 1.0,
}
_SURVEY_PROBABILITY: dict[str, float] = {
    "fr-portal": 0.15,
    "otrs": 0.1,
    "zammad": 0.1,
    "rt": 0.05,
    "zendesk": 0.6,
    "freshdesk": 0.4,
    "glpi": 0.4,
    "servicenow": 0.3,
    "salesforce": 0.4,
    "redmine": 0.05,
}
_FIRST_COUNTER: dict[str, int] = {
    "fr-portal": 204_100_000,
    "otrs": 1_000,
    "zammad": 4_000,
    "rt": 12_000,
    "zendesk": 48_000,
    "freshdesk": 21_000,
    "glpi": 1_200,
    "servicenow": 12_000,
    "salesforce": 40_000,
    "redmine": 800,
    "contractor": 1_000,
}
# Systems where a reply after "resolved" reopens the same ticket (RT AutoOpen,
# Zendesk Solved->Open, Freshdesk "reply to reopen").
_REOPEN_IN_PLACE = ("rt", "zendesk", "freshdesk")
# Systems that refuse a follow-up on a closed ticket with an automatic notice.
_REJECTING = ("otrs", "servicenow")


_CLIENT_HEADERS: dict[str, tuple[tuple[str, str], ...]] = {
    "thunderbird": (("User-Agent", "Mozilla Thunderbird"),),
    "outlook": (("X-Mailer", "Microsoft Outlook 16.0"),),
    "gmail": (),
}


def _max_references(refs: tuple[str, ...]) -> tuple[str, ...]:
    # Clients keep the first and the latest ids when a thread gets long.
    if len(refs) <= 10:
        return refs
    return (refs[0], *refs[-9:])


def _re(prefix: str, subject: str) -> str:
    low = subject.lower()
    if low.startswith(("re:", "re :", "aw:", "tr :", "fwd:")):
        return subject
    return prefix + subject


class _Builder:
    """Plays the world forward with one random stream, so a seed fixes everything."""

    def __init__(
        self,
        seed: int,
        styles: Sequence[str],
        attachments_share: float,
        start: datetime,
        reference_free_share: float,
        specifics: bool = True,
    ) -> None:
        unknown = [s for s in styles if s not in STYLES]
        if unknown or not styles:
            raise ValueError(f"unknown or empty styles {unknown!r}; choose among {STYLES!r}")
        if not 0.0 <= reference_free_share <= 1.0:
            raise ValueError("reference_free_share must be within [0, 1]")
        self.seed = seed
        self.rng = random.Random(seed)
        # A stream of its own: naming each matter's specifics leaves every
        # other draw, hence the scenario's structure and times, as it was.
        self.matter_rng = random.Random(f"matters-{seed}")
        self.specifics = specifics
        self.styles = tuple(dict.fromkeys(styles))
        self.attachments_share = attachments_share
        self.start = (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(UTC)
        self.ref_free = reference_free_share
        self.seq = 0
        self.seen_ids: set[str] = set()
        self.phantoms: set[str] = set()
        self.own: dict[str, str] = {}
        self.reopenings = 0
        self.case_no = 0
        self.span_days = 365.0
        self.used_names: set[tuple[str, str]] = set()
        self.orgs: dict[str, list[_Org]] = {}
        self.members: list[_Member] = []
        self.messages: list[SyntheticMessage] = []
        self.cases: list[CaseTruth] = []
        self.cases_by_org: dict[tuple[int, str], list[_Case]] = {}
        self._make_orgs()
        self._make_unrelated_world()

    # -- world ------------------------------------------------------------

    def _person(self) -> tuple[str, str]:
        rng = self.rng
        for _ in range(50):
            pair = (rng.choice(_FIRST), rng.choice(_LAST))
            if pair not in self.used_names:
                self.used_names.add(pair)
                return pair
        return (rng.choice(_FIRST), rng.choice(_LAST))

    def _make_orgs(self) -> None:
        rng = self.rng
        for spec in _AGENCY_SPECS:
            if spec.style not in self.styles:
                continue
            n_adv = 8 if spec.style == "fr-portal" else 4
            org = _Org(
                name=spec.name,
                kind=spec.kind,
                style=spec.style,
                domain=spec.domain,
                domains=(spec.domain, *spec.extra_domains),
                addresses=[],
                contact_local=spec.contact_local,
                tag=spec.tag,
                team=spec.team,
                reply_median_h=spec.reply_median_h,
                paris_tz=spec.paris_tz,
                advisors=[self._person() for _ in range(n_adv)],
                instance=_hex(rng, 13),
                counter=_FIRST_COUNTER[spec.style] + rng.randint(0, 999),
            )
            self.orgs[spec.style] = [org]
        if CONTRACTOR_STYLE in self.styles:
            contractors = []
            for name, firm, centre, prefix in _CONTRACTOR_SPECS:
                coaches: list[Address] = []
                addresses: list[str] = []
                for i in range(3):
                    first, last = self._person()
                    if i == 0:
                        # Coaches of these firms often write from a personal webmail.
                        number = rng.randint(10, 99)
                        email = f"{_ascii_fold(first)}.{prefix.lower()}{number}@webmail.example"
                        addresses.append(email)
                        coaches.append(Address(f"{first} {last} - {name}", email))
                    else:
                        coaches.append(
                            Address(f"{first} {last}", f"{_local_part(first, last)}@{firm}")
                        )
                contractors.append(
                    _Org(
                        name=name,
                        kind="contractor",
                        style=CONTRACTOR_STYLE,
                        domain=firm,
                        domains=(firm, centre),
                        addresses=addresses,
                        contact_local="contact",
                        tag=prefix,
                        team=name,
                        reply_median_h=20.0,
                        paris_tz=True,
                        advisors=[],
                        instance=_hex(rng, 13),
                        counter=_FIRST_COUNTER[CONTRACTOR_STYLE] + rng.randint(0, 999),
                        callcentre=Address("Service Relation Bénéficiaires", f"contact@{centre}"),
                        coaches=coaches,
                        prefix=prefix,
                    )
                )
            self.orgs[CONTRACTOR_STYLE] = contractors

    def _make_unrelated_world(self) -> None:
        rng = self.rng
        self.friends: list[tuple[Address, str]] = []
        for _ in range(14):
            first, last = self._person()
            domain = rng.choice(_FRIEND_DOMAINS)
            self.friends.append(
                (
                    Address(
                        f"{first} {last}" if rng.random() < 0.8 else "",
                        f"{_local_part(first, last)}@{domain}",
                    ),
                    rng.choice(("thunderbird", "outlook", "gmail")),
                )
            )

    def counterparts(self) -> tuple[Counterpart, ...]:
        return tuple(o.counterpart() for s in STYLES for o in self.orgs.get(s, []))

    def make_member(self, index: int) -> _Member:
        rng = self.rng
        first, last = self._person()
        domain = _MEMBER_DOMAINS[index % len(_MEMBER_DOMAINS)]
        local = _local_part(first, last) + (str(index) if index else "")
        member = _Member(
            index=index,
            address=Address(f"{first} {last}", f"{local}@{domain}"),
            first=first,
            last=last,
            client=rng.choice(("thunderbird", "outlook", "gmail")),
            identifiant=f"{rng.randint(1_000_000, 9_999_999)}{rng.choice(_ID_LETTERS)}",
            # A digital-inclusion helper sometimes copied on her mail to the agencies.
            helper=Address(
                f"{rng.choice(_FIRST)} (médiation numérique)",
                f"mediation{rng.randint(1, 9)}@asso-quartier.example",
            ),
        )
        self.members.append(member)
        return member

    # -- ids ----------------------------------------------------------------

    def _unique(self, make: Callable[[], str]) -> str:
        for _ in range(20):
            mid = make()
            if mid not in self.seen_ids:
                self.seen_ids.add(mid)
                return mid
        raise RuntimeError("could not draw a unique Message-ID")  # pragma: no cover

    def _mid_member(self, member: _Member) -> str:
        rng = self.rng
        if member.client == "outlook":
            return self._unique(
                lambda: (
                    f"{_token(rng, 4)}P{rng.randint(100, 999)}MB{_token(rng, 4)}"
                    f"{_hex(rng, 24).upper()}@{_token(rng, 4)}P{rng.randint(100, 999)}MB"
                    f".EURP{rng.randint(100, 999)}"
                    ".PROD.OUTLOOK.COM"
                )
            )
        if member.client == "gmail":
            return self._unique(lambda: f"CA+{_token(rng, 40, _B62)}@mail.gmail.com")
        return self._unique(lambda: f"{_uuid(rng)}@{member.domain}")

    def _mid_friend(self, addr: Address, client: str) -> str:
        rng = self.rng
        domain = addr.email.rsplit("@", 1)[1]
        if client == "gmail":
            return self._unique(lambda: f"CA+{_token(rng, 40, _B62)}@mail.gmail.com")
        return self._unique(lambda: f"{_uuid(rng)}@{domain}")

    def _mid_org(self, org: _Org, tk: _Ticket | None, t: datetime, event: str) -> str:
        rng = self.rng
        ts = t.strftime("%Y%m%d%H%M%S")
        epoch = int(t.timestamp())
        st = org.style
        internal = tk.internal if tk else 0
        if st == "zendesk" and tk:
            return self._unique(
                lambda: f"{tk.encid}_{_hex(rng, 13)}_{_hex(rng, 6)}_sprut@zendesk.com"
            )
        if st == "zammad":
            return self._unique(lambda: f"{ts}.{internal}.{_uuid(rng)}@support.{org.domain}")
        if st == "rt":
            return self._unique(
                lambda: (
                    f"rt-4.4.6-{rng.randint(1000, 65000)}-{epoch}-{rng.randint(100, 9999)}."
                    f"{internal}-{rng.randint(1, 900)}-0@{org.domain}"
                )
            )
        if st == "glpi":
            return self._unique(
                lambda: (
                    f"GLPI_{org.instance}-Ticket-{internal}/{event}.{epoch}."
                    f"{rng.randint(100000, 999999)}@{org.domain}"
                )
            )
        if st == "redmine" and tk:
            if event == "ack":
                return self._unique(
                    lambda: f"redmine.issue-{tk.id}.{ts}.{_hex(rng, 16)}@{org.domain}"
                )
            tk.journal += 1
            jn = internal * 10 + tk.journal
            return self._unique(lambda: f"redmine.journal-{jn}.{ts}.{_hex(rng, 16)}@{org.domain}")
        if st == "otrs":
            return self._unique(
                lambda: (
                    f"{epoch}.{rng.randint(100000, 999999)}.{rng.randint(100000000, 999999999)}."
                    f"{internal}.{rng.randint(1, 40)}@helpdesk.{org.domain}"
                )
            )
        if st == "freshdesk":
            return self._unique(
                lambda: (
                    f"{_hex(rng, 13)}_{_hex(rng, 8)}{rng.randint(10, 99)}@{org.domains[-1]}.mail"
                )
            )
        if st == "servicenow":
            return self._unique(
                lambda: (
                    f"{rng.randint(10**8, 10**9)}.{rng.randint(1000, 99999)}."
                    f"{epoch}{rng.randint(100, 999)}"
                    f"@app{rng.randint(100000, 199999)}.fra2.service-now.com"
                )
            )
        if st == "salesforce":
            return self._unique(
                lambda: (
                    f"{_token(rng, 5, _B62)}{'0' * 44}{_token(rng, 6)}00"
                    f"{_token(rng, 22, _B62)}@sfdc.net"
                )
            )
        if st == "fr-portal":
            return self._unique(
                lambda: (
                    f"{rng.randint(10**9, 10**10)}.{rng.randint(1000, 999999)}."
                    f"{epoch}{rng.randint(100, 999)}"
                    f".JavaMail.wasadm@srv-mail-prd{rng.randint(1, 9):02d}"
                )
            )
        # Contractors: a CRM for the call centre, Outlook or a webmail for coaches.
        sender = tk.sender if tk is not None and tk.sender is not None else org.callcentre
        domain = sender.email.rsplit("@", 1)[1] if sender is not None else org.domain
        if domain == org.domain:
            return self._unique(
                lambda: (
                    f"PR{rng.randint(1, 3)}P{rng.randint(100, 999)}MB{_hex(rng, 24).upper()}"
                    f"@PR{rng.randint(1, 3)}P{rng.randint(100, 999)}MB.EURP{rng.randint(100, 999)}"
                    ".PROD.OUTLOOK.COM"
                )
            )
        if domain == "webmail.example":
            return self._unique(lambda: f"{_uuid(rng)}@webmail.example")
        return self._unique(lambda: f"{_hex(rng, 32)}@mail.{domain}")

    # -- emission -------------------------------------------------------------

    def _emit(
        self,
        sink: list[SyntheticMessage],
        *,
        case: _Case | None,
        tk: _Ticket | None,
        member: _Member,
        party: str,
        kind: str,
        automated: bool,
        sender: Address,
        to: tuple[Address, ...],
        subject: str,
        own: str,
        body: str | None,
        at: datetime,
        msgid: str,
        folder: str = "INBOX",
        tz: int | None = None,
        cc: tuple[Address, ...] = (),
        parent: SyntheticMessage | None = None,
        irt: str | None = None,
        refs: tuple[str, ...] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        html_body: str | None = None,
        answers: str | None = None,
        is_reopening: bool = False,
        reopen_reference: str | None = None,
        deadline: datetime | None = None,
        attach: bool = False,
        style: str | None = None,
    ) -> SyntheticMessage:
        rng = self.rng
        if case is not None:
            at = max(at, case.clock + timedelta(seconds=1))
        at = at.replace(microsecond=0)
        if case is not None:
            case.clock = at
        if parent is not None:
            if irt is None:
                irt = parent.message_id
            if refs is None:
                refs = _max_references((*parent.references, parent.message_id))
        if party == "me":
            received = at
            folder = "Sent"
            headers = headers or _CLIENT_HEADERS[member.client]
        else:
            lag = rng.randint(1, 120) if rng.random() < 0.97 else rng.randint(600, 6 * 3600)
            received = at + timedelta(seconds=lag)
        if tz is None:
            tz = (
                _paris_minutes(at)
                if party in ("me", "other") or (case and case.org.paris_tz)
                else 0
            )
        attachment = None
        if attach:
            name = rng.choice(
                (
                    "justificatif.pdf",
                    "attestation.pdf",
                    "releve_de_compte.pdf",
                    "capture_ecran.png",
                    "relevé_situation.pdf",
                    "contrat.pdf",
                    "photo.jpg",
                )
            )
            ctype = {"png": "image/png", "jpg": "image/jpeg"}.get(
                name.rsplit(".", 1)[1], "application/pdf"
            )
            attachment = Attachment(name, ctype, rng.randint(900, 6000), rng.getrandbits(32))
        truth = MessageTruth(
            message_id=msgid,
            case_id=case.truth.case_id if case else None,
            ticket_id=tk.id if tk else None,
            party=party,
            counterpart=case.org.name if case else None,
            automated=automated,
            kind=kind,
            style=style if style is not None else (case.org.style if case else None),
            sent_at=at,
            answers=answers,
            is_reopening=is_reopening,
            reopen_reference=reopen_reference if is_reopening else None,
            member=member.index,
            deadline=deadline,
        )
        self.seq += 1
        msg = SyntheticMessage(
            truth=truth,
            sender=sender,
            to=to,
            subject=subject,
            text=body if body is not None else own,
            received_at=received,
            tz_minutes=tz,
            folder=folder,
            owner=member.address.email,
            cc=cc,
            in_reply_to=irt,
            references=refs or (),
            headers=headers,
            html=html_body,
            attachment=attachment,
            seq=self.seq,
        )
        self.own[msgid] = own
        sink.append(msg)
        if case is not None and case.first_text == "" and party == "me":
            case.first_text = own
            case.first_at = at
        if tk is not None:
            tk.msgs.append(msg)
        return msg

    def _phantom(self, mid: str) -> str:
        self.phantoms.add(mid)
        return mid

    # -- text -------------------------------------------------------------------

    def _signature(self, case: _Case) -> list[str]:
        m = case.member
        lines = [f"{m.first} {m.last}"]
        if case.org.style in ("fr-portal", CONTRACTOR_STYLE):
            lines.append(f"Identifiant France Travail : {m.identifiant}")
        return lines

    def _citizen_own(self, case: _Case, paragraphs: list[str]) -> str:
        rng = self.rng
        lines = [rng.choice(_GREETINGS), ""]
        for p in paragraphs:
            lines += [_wrap(p), ""]
        lines.append(rng.choice(_CLOSINGS))
        lines += self._signature(case)
        return "\n".join(lines)

    def _attribution(self, client: str, parent: SyntheticMessage, quoted: str) -> str:
        who = parent.sender.name or parent.sender.email
        if client == "outlook":
            to = ", ".join(a.name or a.email for a in parent.to)
            return (
                "\n\n________________________________\n"
                f"De : {who} <{parent.sender.email}>\nEnvoyé : {_fr_long(parent.sent_at)}\n"
                f"À : {to}\nObjet : {parent.subject}\n\n{quoted}"
            )
        local = _paris_local(parent.sent_at)
        if client == "gmail":
            return (
                f"\n\nLe {_JOURS[local.weekday()][:3]}. {local.day} {_MOIS[local.month - 1]} "
                f"{local.year} à {local:%H:%M}, {who} <{parent.sender.email}> a écrit :\n"
                f"{_quote_lines(quoted)}"
            )
        return f"\n\nLe {local:%d/%m/%Y à %H:%M}, {who} a écrit :\n{_quote_lines(quoted)}"

    def _reply_prefix(self, client: str) -> str:
        return "RE : " if client == "outlook" else "Re: "

    def _ticket_ref(self, org: _Org, tid: str) -> str:
        st = org.style
        if st == "fr-portal":
            return f"ma demande n° {tid}"
        if st in ("otrs", "zammad"):
            return f"ma demande Ticket#{tid}"
        if st in ("rt", "glpi"):
            return f"ma demande [{org.tag} #{tid}]"
        if st in ("servicenow", "salesforce"):
            return f"ma demande (dossier {tid})"
        if st == CONTRACTOR_STYLE:
            return f"mon dossier réf. {tid}"
        return f"ma demande #{tid}"

    def _org_subject(self, org: _Org, tk: _Ticket, event: str) -> str:
        s = tk.subject
        st = org.style
        tid = tk.id
        if st == "otrs":
            body = {
                "ack": f"RE: {s}",
                "closure": f"Clôture de votre demande - {s}",
                "survey": "Votre avis sur le traitement de votre demande",
                "rejection": f"Votre courriel a été rejeté ! (RE: {s})",
            }.get(event, f"RE: {s}")
            return body if event == "rejection" else f"[Ticket#{tid}] {body}"
        if st == "zammad":
            return {
                "ack": f"Merci pour votre demande ({s})",
                "closure": f"Votre demande a été clôturée ({s}) [Ticket#{tid}]",
                "survey": f"Votre avis nous intéresse [Ticket#{tid}]",
            }.get(event, f"RE: {s} [Ticket#{tid}]")
        if st == "rt":
            tag = f"[{org.tag} #{tid}]"
            return {
                "ack": f"AutoReply: {tag} {s}",
                "closure": f"Resolved: {tag} {s}",
                "survey": f"{tag} Enquête de satisfaction",
            }.get(event, f"{tag} Re: {s}")
        if st == "zendesk":
            return {
                "ack": f"[Demande reçue] {s}",
                "survey": f"[{org.tag}] Demande n° {tid} : "
                "comment évalueriez-vous l'assistance reçue ?",
            }.get(event, f"[{org.tag}] Re: {s}")
        if st == "freshdesk":
            return {
                "ack": f"Ticket reçu - {s}",
                "closure": f"Ticket fermé - [#{tid}] {s}",
                "survey": f"Votre avis sur le ticket [#{tid}]",
            }.get(event, f"Re: [#{tid}] {s}")
        if st == "glpi":
            tag = f"[{org.tag} #{tid}]"
            return {
                "ack": f"{tag} Nouveau ticket {s}",
                "closure": f"{tag} Clôture du ticket {s}",
                "survey": f"{tag} Enquête de satisfaction",
            }.get(event, f"{tag} Nouveau suivi {s}")
        if st == "servicenow":
            return {
                "ack": f"Case {tid} opened - {s}",
                "closure": f"Case {tid} has been closed",
                "survey": f"Case {tid} - Enquête de satisfaction",
                "rejection": f"Unable to update your closed case {tid}.",
            }.get(event, f"Case {tid} has been updated - {s}")
        if st == "salesforce":
            return {
                "ack": f"Nous avons bien reçu votre demande - Dossier {tid}",
                "closure": f"Votre dossier {tid} a été clôturé [ {tk.ref} ]",
                "survey": "Votre avis compte pour nous",
            }.get(event, f"RE: {s} [ {tk.ref} ]")
        if st == "redmine":
            tag = f"[{org.tag} - Demande #{tid}]"
            return {
                "ack": f"{tag} (Nouveau) {s}",
                "closure": f"{tag} (Fermé) {s}",
                "survey": f"{tag} Votre avis",
            }.get(event, f"{tag} {s}")
        if st == "fr-portal":
            return {
                "ack": "Votre demande a bien été enregistrée",
                "closure": "Votre demande a été clôturée",
                "survey": "Votre avis sur nos services",
                "notification": "Nouveau message dans votre espace personnel",
            }.get(event, f"RE : {s}")
        return s

    def _frame(self, org: _Org, tk: _Ticket, own: str, who: str) -> str:
        """Wrap an organisation's text the way its system does."""
        st = org.style
        if st == "zendesk":
            return (
                "##- Veuillez saisir votre réponse au-dessus de cette ligne -##\n\n"
                f"{own}\n\n--\nCet e-mail provient de {org.name}."
            )
        if st == "glpi":
            return (
                "=-=-=-= Pour répondre par courriel, écrivez au dessus de cette ligne =-=-=-=\n\n"
                f"{own}\n\nURL : https://{org.domain}/glpi/front/ticket.form.php?id={tk.internal}"
            )
        if st == "servicenow":
            return f"{own}\n\nRef:{tk.ref}_{_token(self.rng, 20, _B62)}"
        if st == "salesforce":
            return f"{own}\n\n{tk.ref}"
        if st == "redmine":
            return (
                f"La demande #{tk.id} a été mise à jour par {who}.\n\n{own}\n\n"
                "----------------------------------------\n"
                "Vous recevez ce courriel car vous êtes l'auteur de cette demande."
            )
        return own

    def _org_headers(
        self, org: _Org, tk: _Ticket, event: str, sender: Address
    ) -> tuple[tuple[str, str], ...]:
        st = org.style
        auto = event in ("ack", "closure", "survey", "rejection")
        h: list[tuple[str, str]] = []
        if st == "otrs":
            h.append(("X-Mailer", "Znuny Mail Service (6.5)"))
            if event in ("ack", "rejection"):
                h += [("Auto-Submitted", "auto-replied"), ("X-Loop", "yes")]
            elif auto:
                h.append(("Auto-Submitted", "auto-generated"))
        elif st == "zammad":
            h.append(("X-Mailer", "Zammad Mail Service"))
            if auto:
                h += [("Auto-Submitted", "auto-generated"), ("Precedence", "bulk")]
        elif st == "rt":
            h += [
                ("RT-Ticket", f"{org.tag} #{tk.id}"),
                ("Managed-BY", "RT 4.4.6 (http://www.bestpractical.com/rt/)"),
                ("RT-Originator", sender.email),
                ("X-RT-Loop-Prevention", org.tag),
                ("Precedence", "bulk"),
            ]
            if event == "ack":
                h.append(("Auto-Submitted", "auto-replied"))
        elif st == "zendesk":
            # Zendesk marks every notification, agent replies included.
            h += [
                ("Auto-Submitted", "auto-generated"),
                ("X-Auto-Response-Suppress", "All"),
                ("X-Mailer", "Zendesk Mailer"),
                ("X-Zendesk-From-Account-Id", org.instance[:7]),
                ("X-Zendesk-Email-Id", f"{tk.encid}{_hex(self.rng, 12)}"),
            ]
        elif st == "glpi":
            h += [("X-Mailer", "GLPI"), ("X-Auto-Response-Suppress", "OOF, DR, NDR, RN, NRN")]
        elif st == "servicenow":
            h.append(("X-ServiceNow-Generated", "true"))
        elif st == "salesforce":
            h.append(("X-SFDC-LK", f"00D{org.instance[:12]}"))
        elif st == "redmine":
            h += [
                ("X-Mailer", "Redmine"),
                ("X-Redmine-Host", org.domain),
                ("X-Redmine-Site", org.name),
                ("X-Redmine-Project", _ascii_fold(org.tag)),
                ("X-Redmine-Issue-Id", tk.id),
                ("X-Redmine-Issue-Tracker", "Demande"),
                ("Auto-Submitted", "auto-generated"),
                ("List-Id", f"<{org.contact_local}.{org.domain}>"),
            ]
        return tuple(h)

    def _org_threading(
        self, org: _Org, tk: _Ticket, parent: SyntheticMessage | None
    ) -> tuple[str | None, tuple[str, ...]]:
        st = org.style
        if st == "zendesk":
            root = self._phantom(f"{tk.encid}@zendesk.com")
            return root, (root,)
        if st == "rt":
            root = self._phantom(f"RT-Ticket-{tk.id}@{org.domain}")
            if parent is not None:
                return parent.message_id, (root, parent.message_id)
            return None, (root,)
        if st == "glpi":
            root = self._phantom(f"GLPI_{org.instance}-Ticket-{tk.internal}@{org.domain}")
            return root, (root,)
        if st == "redmine" and tk.thread_root:
            return tk.thread_root, (tk.thread_root,)
        if parent is not None and st != "fr-portal":
            return parent.message_id, _max_references((*parent.references, parent.message_id))
        return None, ()

    def _html(self, org: _Org | None, tk: _Ticket | None, text: str) -> str:
        paras = "".join(
            f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in text.split("\n\n")
        )
        marker = ""
        if org is not None and tk is not None and org.style == "freshdesk":
            marker = (
                "<span title='fd_tkt_identifier' style='color:#FFF'>"
                f"{tk.id}:{org.instance[:6]}</span>\n"
            )
        return (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
            f'<body style="font-family:Arial,sans-serif">\n{paras}{marker}</body></html>\n'
        )

    # -- tickets -------------------------------------------------------------

    def _new_ticket(self, case: _Case, t: datetime, subject: str) -> _Ticket:
        rng = self.rng
        org = case.org
        org.counter += rng.randint(1, 40)
        n = org.counter
        st = org.style
        tk = _Ticket(id=str(n), internal=n + 1700, subject=subject)
        if st == "otrs":
            tk.id = f"{_paris_local(t):%Y%m%d}10{n % 100000:05d}{n % 7}"
        elif st == "zammad":
            tk.id = f"31{n}"
        elif st == "zendesk":
            tk.encid = _token(rng, rng.choice((10, 11)))
        elif st == "glpi":
            tk.id = f"{n:07d}"
        elif st == "servicenow":
            tk.id = f"CS{n:07d}"
            tk.ref = f"MSG{rng.randint(1_000_000, 9_999_999)}"
        elif st == "salesforce":
            tk.id = f"{n:08d}"
            tk.ref = f"ref:!00D{_token(rng, 7, _B62)}.!500{_token(rng, 9, _B62)}:ref"
        elif st == "fr-portal":
            tk.id = f"{n:09d}"
        elif st == CONTRACTOR_STYLE:
            tk.id = f"{org.prefix}-{n:06d}"
        case.truth.tickets.append(tk.id)
        return tk

    def _subject_for(self, case: _Case) -> str:
        rng = self.rng
        if rng.random() < 0.25:
            return rng.choice(_BOILERPLATE_SUBJECTS)
        return rng.choice(case.topic.subjects)

    def _attach(self, factor: float = 1.0) -> bool:
        return self.rng.random() < self.attachments_share * factor

    def _citizen_opening(
        self, sink: list[SyntheticMessage], case: _Case, k: int, ref_kind: str | None, t: datetime
    ) -> tuple[_Ticket, SyntheticMessage]:
        rng = self.rng
        org = case.org
        topic = case.topic
        ask = topic.asks[(case.asks_used + rng.randint(0, 1)) % len(topic.asks)]
        case.asks_used += 1
        if self.specifics and k > 0 and case.unanswered and case.last_ask:
            ask = case.last_ask
        case.last_ask = ask
        paragraphs: list[str] = []
        quoted = ""
        subject = self._subject_for(case)
        previous = case.truth.tickets[-1] if case.truth.tickets else None
        if k > 0 and ref_kind == "ticket-number" and previous is not None:
            ref = self._ticket_ref(org, previous)
            paragraphs.append(
                rng.choice(
                    (
                        f"Je reviens vers vous au sujet de {ref} : "
                        "elle a été clôturée sans réponse.",
                        f"Suite à la clôture de {ref}, je dois recréer une demande.",
                        f"On m'a demandé de créer une nouvelle demande après la clôture de {ref}.",
                    )
                )
            )
            if rng.random() < 0.4:
                subject = f"Suite à {ref}"
        elif k > 0 and ref_kind == "quote" and case.first_text:
            when = _fr_date(case.first_at) if case.first_at else "mon premier envoi"
            paragraphs.append(
                f"Je vous renvoie ci-dessous mon message du {when}, toujours sans réponse."
            )
            quoted = "\n\n" + _quote_lines(case.first_text)
        elif k > 0 and rng.random() < 0.5:
            paragraphs.append(rng.choice(_REEXPLAIN).capitalize().rstrip(":, ") + ".")
        paragraphs.append(ask)
        if self.specifics and self.matter_rng.random() < MATTER_NAMED_SHARE:
            paragraphs.append(case.matter)
        own = self._citizen_own(case, paragraphs)
        at = _waking(rng, t)
        tk = self._new_ticket(case, at, subject)
        msg = self._emit(
            sink,
            case=case,
            tk=tk,
            member=case.member,
            party="me",
            kind="question",
            automated=False,
            sender=case.member.address,
            to=(org.contact(at),),
            cc=(case.member.helper,) if rng.random() < 0.08 else (),
            subject=subject,
            own=own,
            body=own + quoted,
            at=at,
            msgid=self._mid_member(case.member),
            is_reopening=k > 0,
            reopen_reference=ref_kind,
            attach=self._attach(2.0),
        )
        return tk, msg

    def _ack(
        self, sink: list[SyntheticMessage], case: _Case, tk: _Ticket, q: SyntheticMessage
    ) -> None:
        rng = self.rng
        org = case.org
        if rng.random() > _ACK_PROBABILITY.get(org.style, 0.0):
            return
        at = q.sent_at + timedelta(seconds=rng.randint(3, 150))
        st = org.style
        tid = tk.id
        member = case.member
        texts = {
            "fr-portal": (
                f"Bonjour,\n\nNous avons bien reçu votre demande n° {tid}. Un conseiller "
                "vous répondra dans les meilleurs délais.\n\nCe courriel est envoyé "
                "automatiquement, merci de ne pas y répondre.\n\nFrance Travail"
            ),
            "otrs": (
                f"Merci pour votre courriel. Un nouveau ticket a été créé (Ticket#{tid}).\n\n"
                f"Nous vous répondrons dans les meilleurs délais.\n\n{org.team}"
            ),
            "zammad": (
                f"Votre demande (Ticket#{tid}) a bien été reçue et sera traitée par nos "
                f"équipes.\n\n{org.team}"
            ),
            "rt": (
                "Ce message a été généré automatiquement en réponse à la création d'un "
                f"ticket.\n\nVotre ticket a reçu le numéro [{org.tag} #{tid}].\nMerci de "
                "conserver ce numéro dans l'objet de vos prochains messages."
            ),
            "zendesk": (
                f"Votre demande ({tid}) a bien été reçue et est en cours d'examen par notre "
                "équipe.\n\nPour ajouter des commentaires, répondez à cet e-mail."
            ),
            "freshdesk": (
                "Nous vous confirmons la bonne réception de votre demande : un ticket a été "
                f"créé (#{tid}).\n\n{org.team}"
            ),
            "glpi": f"Votre ticket n° {tid} a été créé. Il sera pris en charge prochainement.",
            "servicenow": f"Votre dossier {tid} a été ouvert. Un gestionnaire reviendra vers vous.",
            "salesforce": (
                f"Nous avons bien reçu votre demande, enregistrée sous le dossier {tid}.\n\n"
                f"{tk.ref}"
            ),
            "redmine": (
                f"La demande #{tid} a été signalée par {member.first} {member.last}.\n\n"
                f"Statut : Nouveau\n\n{self.own[q.message_id]}"
            ),
        }
        own = texts[st]
        if st not in ("fr-portal", "redmine"):
            own = self._frame(org, tk, own, org.name)
        sender = org.noreply(at) if st == "fr-portal" else org.contact(at)
        msgid = self._mid_org(org, tk, at, "ack")
        irt: str | None
        refs: tuple[str, ...]
        if st == "redmine":
            tk.thread_root = msgid
            irt, refs = None, ()
        elif st == "fr-portal":
            irt, refs = None, ()
        else:
            irt, refs = self._org_threading(org, tk, q)
        self._emit(
            sink,
            case=case,
            tk=tk,
            member=case.member,
            party=org.kind,
            kind="ack",
            automated=True,
            sender=sender,
            to=(case.member.address,),
            subject=self._org_subject(org, tk, "ack"),
            own=own,
            body=None,
            at=at,
            msgid=msgid,
            irt=irt,
            refs=refs,
            headers=self._org_headers(org, tk, "ack", sender),
            html_body=self._html(org, tk, own)
            if st in ("zendesk", "freshdesk", "salesforce")
            else None,
            answers=q.message_id,
        )

    def _deadline_sentence(self, case: _Case, at: datetime) -> tuple[str, datetime]:
        rng = self.rng
        doc = rng.choice(case.topic.docs)
        if rng.random() < 0.5:
            return (
                f"Vous devez nous transmettre {doc} sous 48 heures, faute de quoi votre dossier "
                "sera transmis pour décision.",
                at + timedelta(hours=48),
            )
        due = at + timedelta(days=15)
        return f"Merci de nous faire parvenir {doc} avant le {_fr_date(due)}.", due

    def _org_demand(
        self, sink: list[SyntheticMessage], case: _Case, t: datetime
    ) -> tuple[_Ticket, SyntheticMessage]:
        """France Travail opens the case itself: a check with a 48-hour deadline."""
        rng = self.rng
        org = case.org
        at = _working(rng, t)
        case.advisor = rng.randrange(len(org.advisors))
        adv = org.advisor(case.advisor, at)
        tk = self._new_ticket(case, at, rng.choice(case.topic.subjects))
        doc = case.topic.docs[0]
        own = (
            f"Bonjour {case.member.first} {case.member.last},\n\n"
            + _wrap(
                "Votre dossier fait l'objet d'un contrôle de la recherche d'emploi. Vous devez "
                f"nous transmettre {doc} sous 48 heures et mettre à jour votre profil de "
                "compétences. Une commission étudiera votre dossier dans les prochains jours."
            )
            + f"\n\nCordialement,\n\n{adv.name}\n"
            + f"Cellule contrôle de la recherche d'emploi\n{org.team}"
        )
        msg = self._emit(
            sink,
            case=case,
            tk=tk,
            member=case.member,
            party=org.kind,
            kind="demand",
            automated=False,
            sender=adv,
            to=(case.member.address,),
            subject=f"{tk.subject} - demande n° {tk.id}",
            own=own,
            body=None,
            at=at,
            msgid=self._mid_org(org, tk, at, "demand"),
            html_body=self._html(org, tk, own),
            deadline=at + timedelta(hours=48),
        )
        return tk, msg

    def _org_reply(
        self, sink: list[SyntheticMessage], case: _Case, tk: _Ticket, turn: _Turn, at: datetime
    ) -> SyntheticMessage:
        rng = self.rng
        org = case.org
        st = org.style
        deadline: datetime | None = None
        paragraphs = [rng.choice(case.topic.replies)]
        if rng.random() < 0.2:
            sentence, deadline = self._deadline_sentence(case, at)
            paragraphs.append(sentence)
        parent = turn.last_me
        answers = turn.first.message_id if turn.first is not None else None
        greeting = f"Bonjour {case.member.first} {case.member.last},"
        if st == CONTRACTOR_STYLE:
            sender = tk_sender = self._contractor_sender(case, tk)
            own = "\n".join(
                [
                    greeting,
                    "",
                    *(_wrap(p) + "\n" for p in paragraphs),
                    "Bien à vous,",
                    tk_sender.name.split(" - ")[0],
                    org.name,
                ]
            )
            subject = _re("RE: ", parent.subject) if parent else tk.subject
            return self._emit(
                sink,
                case=case,
                tk=tk,
                member=case.member,
                party=org.kind,
                kind="reply",
                automated=False,
                sender=sender,
                to=(case.member.address,),
                subject=subject,
                own=own,
                body=None,
                at=at,
                msgid=self._mid_org(org, tk, at, "reply"),
                parent=parent,
                answers=answers,
                deadline=deadline,
                html_body=self._html(org, tk, own) if rng.random() < 0.6 else None,
                attach=self._attach(),
            )
        if case.advisor is None or rng.random() < 0.45:
            case.advisor = rng.randrange(len(org.advisors))
        first, last = org.advisors[case.advisor]
        role = _ROLES[(case.advisor + len(first)) % len(_ROLES)]
        if st == "fr-portal" and rng.random() < 0.45:
            # The advisor answered inside the portal; the mailbox only gets a notice.
            sender = org.noreply(at)
            about = f" concernant votre demande n° {tk.id}" if rng.random() < 0.5 else ""
            own = (
                "Bonjour,\n\nVous avez reçu un nouveau message dans votre espace personnel"
                f"{about}.\nPour le consulter, connectez-vous à votre espace sur francetravail.fr, "
                "rubrique « Mes échanges ».\n\nCe courriel est envoyé automatiquement, merci de ne "
                "pas y répondre."
            )
            return self._emit(
                sink,
                case=case,
                tk=tk,
                member=case.member,
                party=org.kind,
                kind="notification",
                automated=False,
                sender=sender,
                to=(case.member.address,),
                subject=self._org_subject(org, tk, "notification"),
                own=own,
                body=None,
                at=at,
                msgid=self._mid_org(org, tk, at, "notification"),
                answers=answers,
                deadline=deadline,
                html_body=self._html(org, tk, own),
            )
        sender = org.advisor(case.advisor, at)
        body_lines = [greeting, ""]
        body_lines += [_wrap(p) + "\n" for p in paragraphs]
        body_lines += ["Cordialement,", "", f"{first} {last}", role, org.team]
        if st == "fr-portal":
            body_lines.insert(len(body_lines) - 5, f"Référence : demande n° {tk.id}\n")
        own = "\n".join(body_lines)
        framed = self._frame(org, tk, own, f"{first} {last}")
        body = framed
        if parent is not None and st in ("fr-portal", "otrs") and rng.random() < 0.6:
            client = "outlook" if st == "fr-portal" else "thunderbird"
            body = framed + self._attribution(client, parent, self.own[parent.message_id])
        irt, refs = self._org_threading(org, tk, parent)
        if st == "fr-portal":
            if parent is not None and rng.random() < 0.7:
                subject = _re("RE : ", parent.subject)
                irt, refs = (
                    parent.message_id,
                    _max_references((*parent.references, parent.message_id)),
                )
            else:
                # Written from the agency's tool rather than as a reply: a generic
                # subject shared by many cases and no threading headers.
                subject = "Votre demande"
                body = framed
        else:
            subject = self._org_subject(org, tk, "reply")
        use_html = st in ("zendesk", "freshdesk", "salesforce", "servicenow") or rng.random() < 0.3
        return self._emit(
            sink,
            case=case,
            tk=tk,
            member=case.member,
            party=org.kind,
            kind="reply",
            automated=False,
            sender=sender,
            to=(case.member.address,),
            subject=subject,
            own=own,
            body=body,
            at=at,
            msgid=self._mid_org(org, tk, at, "followup"),
            irt=irt,
            refs=refs,
            headers=self._org_headers(org, tk, "reply", sender),
            answers=answers,
            deadline=deadline,
            html_body=self._html(org, tk, framed) if use_html else None,
            attach=self._attach(),
        )

    def _contractor_sender(self, case: _Case, tk: _Ticket) -> Address:
        org = case.org
        if tk.sender is not None:
            return tk.sender
        assert org.callcentre is not None
        return org.callcentre

    def _citizen_reply(
        self,
        sink: list[SyntheticMessage],
        case: _Case,
        tk: _Ticket,
        turn: _Turn,
        at: datetime,
        *,
        parent: SyntheticMessage | None = None,
    ) -> SyntheticMessage:
        rng = self.rng
        org = case.org
        member = case.member
        if parent is None:
            parent = turn.last_org
            if parent is not None and parent.truth.kind == "notification":
                # One cannot answer a no-reply notice: she writes again from her own thread.
                parent = turn.last_me
        paragraphs: list[str] = []
        if not case.first_text:
            paragraphs.append(rng.choice(case.topic.asks))
        else:
            if turn.last_org is not None and rng.random() < 0.25:
                paragraphs.append(
                    rng.choice(_REEXPLAIN)
                    + rng.choice(case.topic.asks)[0].lower()
                    + rng.choice(case.topic.asks)[1:]
                )
            paragraphs.append(rng.choice(case.topic.follows))
        own = self._citizen_own(case, paragraphs)
        if parent is not None:
            body = own + self._attribution(member.client, parent, self.own[parent.message_id])
            subject = _re(self._reply_prefix(member.client), parent.subject)
            if parent.truth.party == "me":
                to = parent.to
            elif org.style in ("fr-portal", CONTRACTOR_STYLE):
                to = (parent.sender,)
            else:
                to = (org.contact(at),)
        else:
            body = own
            subject = _re(self._reply_prefix(member.client), tk.subject)
            to = (org.contact(at),)
        if to and to[0].email.startswith("ne-pas-repondre@"):
            to = (org.contact(at),)
        answers = turn.first.message_id if turn.owner == "org" and turn.first is not None else None
        pending = turn.last_org.truth.deadline if turn.last_org is not None else None
        return self._emit(
            sink,
            case=case,
            tk=tk,
            member=member,
            party="me",
            kind="reply",
            automated=False,
            sender=member.address,
            to=to,
            subject=subject,
            own=own,
            body=body,
            at=at,
            msgid=self._mid_member(member),
            parent=parent,
            answers=answers,
            attach=self._attach(3.0 if pending else 1.0),
        )

    def _reminders(
        self,
        sink: list[SyntheticMessage],
        case: _Case,
        tk: _Ticket,
        turn: _Turn,
        t: datetime,
        until: datetime,
    ) -> datetime:
        rng = self.rng
        nxt = t + timedelta(hours=_lognormal_hours(rng, 100.0, 0.5))
        count = 0
        while count < 3:
            at = _waking(rng, nxt)
            if at >= until - timedelta(hours=1):
                break
            parent = turn.last_me
            asked = turn.first.sent_at if turn.first is not None else t
            text = rng.choice(_REMINDERS).format(date=_fr_date(asked))
            own = self._citizen_own(case, [text, rng.choice(case.topic.asks)])
            body = own
            subject = tk.subject
            if parent is not None:
                body = own + self._attribution(
                    case.member.client, parent, self.own[parent.message_id]
                )
                subject = _re(self._reply_prefix(case.member.client), parent.subject)
            to = parent.to if parent is not None else (case.org.contact(at),)
            r = self._emit(
                sink,
                case=case,
                tk=tk,
                member=case.member,
                party="me",
                kind="reminder",
                automated=False,
                sender=case.member.address,
                to=to,
                cc=(case.member.helper,) if rng.random() < 0.1 else (),
                subject=subject,
                own=own,
                body=body,
                at=at,
                msgid=self._mid_member(case.member),
                parent=parent,
            )
            turn.last_me = r
            t = r.sent_at
            count += 1
            nxt = t + timedelta(hours=_lognormal_hours(rng, 120.0, 0.5))
        return t

    def _burst(
        self,
        sink: list[SyntheticMessage],
        case: _Case,
        tk: _Ticket,
        turn: _Turn,
        t: datetime,
        p: float,
    ) -> datetime:
        rng = self.rng
        if rng.random() >= p:
            return t
        for i in range(rng.randint(1, 2)):
            parent = turn.last_me
            assert parent is not None
            at = t + timedelta(minutes=rng.randint(2, 45), seconds=rng.randint(0, 59))
            own = self._citizen_own(case, [rng.choice(_ADDENDA).format(n=f"{i + 2}/3")])
            r = self._emit(
                sink,
                case=case,
                tk=tk,
                member=case.member,
                party="me",
                kind="addendum",
                automated=False,
                sender=case.member.address,
                to=parent.to,
                subject=_re(self._reply_prefix(case.member.client), parent.subject),
                own=own,
                body=None,
                at=at,
                msgid=self._mid_member(case.member),
                parent=parent,
                attach=True,
            )
            turn.last_me = r
            t = r.sent_at
        return t

    def _ooo(
        self, sink: list[SyntheticMessage], case: _Case, tk: _Ticket, r: SyntheticMessage
    ) -> None:
        rng = self.rng
        org = case.org
        advisor = r.to[0] if r.to else None
        if (
            advisor is None
            or org.style != "fr-portal"
            or advisor.email.startswith("ape.")
            or rng.random() > 0.15
        ):
            return
        at = r.sent_at + timedelta(seconds=rng.randint(2, 90))
        back = at + timedelta(days=rng.randint(3, 15))
        own = (
            f"Bonjour,\n\nJe suis absente jusqu'au {_fr_date(back)} inclus. Votre message ne sera "
            "pas transféré.\nPour toute urgence, contactez le 39 49.\n\n" + advisor.name
        )
        headers: list[tuple[str, str]] = [
            ("X-Auto-Response-Suppress", "All"),
            ("X-MS-Exchange-Inbox-Rules-Loop", advisor.email),
        ]
        if rng.random() < 0.5:
            headers.insert(0, ("Auto-Submitted", "auto-replied"))
        self._emit(
            sink,
            case=case,
            tk=tk,
            member=case.member,
            party=org.kind,
            kind="ooo",
            automated=True,
            sender=advisor,
            to=(case.member.address,),
            subject=f"Réponse automatique : {r.subject}",
            own=own,
            body=None,
            at=at,
            msgid=self._mid_org(org, tk, at, "ooo"),
            headers=tuple(headers),
            answers=r.message_id,
        )

    def _closure(
        self, sink: list[SyntheticMessage], case: _Case, tk: _Ticket, at: datetime
    ) -> SyntheticMessage:
        org = case.org
        st = org.style
        tid = tk.id
        texts = {
            "fr-portal": (
                f"Bonjour,\n\nVotre demande n° {tid} a été clôturée. Si vous souhaitez "
                "apporter des précisions, merci de créer une nouvelle demande depuis votre "
                "espace personnel.\n\nCe courriel est envoyé automatiquement, merci de ne pas "
                "y répondre."
            ),
            "otrs": (
                "Votre demande a été clôturée. Si vous répondez à ce message, votre réponse "
                "sera rejetée : merci de créer une nouvelle demande."
            ),
            "zammad": (
                f"Votre demande (Ticket#{tid}) a été clôturée. Pour toute nouvelle question, "
                "merci d'ouvrir une nouvelle demande."
            ),
            "rt": (
                "D'après nos informations, votre demande a été résolue. Pour toute question "
                "complémentaire, répondez à ce message."
            ),
            "zendesk": (
                f"Votre demande (#{tid}) a été considérée comme résolue. Pour la rouvrir, "
                "répondez à cet e-mail ou suivez le lien ci-dessous."
            ),
            "freshdesk": (
                f"Votre ticket [#{tid}] a été fermé. Si vous estimez que le problème n'est "
                "pas résolu, répondez à ce courriel pour rouvrir automatiquement le ticket."
            ),
            "glpi": f"Le ticket n° {tid} a été clos.",
            "servicenow": (
                f"Votre dossier {tid} a été clôturé. Toute réponse à ce message sera "
                "ignorée ; merci d'ouvrir un nouveau dossier."
            ),
            "salesforce": f"Votre dossier {tid} a été clôturé. Merci de votre confiance.",
            "redmine": "Statut changé de En cours à Fermé",
        }
        own = self._frame(org, tk, texts[st], org.name)
        sender = org.noreply(at) if st == "fr-portal" else org.contact(at)
        last = tk.msgs[-1] if tk.msgs else None
        if st in ("zammad", "freshdesk", "servicenow", "salesforce"):
            irt, refs = self._org_threading(org, tk, last)
        elif st in ("fr-portal", "otrs"):
            irt, refs = None, ()
        else:
            irt, refs = self._org_threading(org, tk, None)
        return self._emit(
            sink,
            case=case,
            tk=tk,
            member=case.member,
            party=org.kind,
            kind="closure",
            automated=True,
            sender=sender,
            to=(case.member.address,),
            subject=self._org_subject(org, tk, "closure"),
            own=own,
            body=None,
            at=at,
            msgid=self._mid_org(org, tk, at, "closure"),
            irt=irt,
            refs=refs,
            headers=self._org_headers(org, tk, "closure", sender),
            html_body=self._html(org, tk, own) if st in ("zendesk", "freshdesk") else None,
        )

    def _survey(self, sink: list[SyntheticMessage], case: _Case, tk: _Ticket, t: datetime) -> None:
        rng = self.rng
        org = case.org
        if rng.random() > _SURVEY_PROBABILITY.get(org.style, 0.0):
            return
        at = t + timedelta(hours=24 if org.style == "zendesk" else rng.uniform(20, 72))
        sender = Address(org.display(at), f"enquete@{org.domain_at(at)}")
        if org.style in ("zendesk", "freshdesk", "servicenow"):
            sender = org.contact(at)
        own = (
            "Bonjour,\n\nComment évalueriez-vous le traitement de votre demande ?\n\n"
            "Satisfait : https://{0}/avis?n=1\nPas satisfait : https://{0}/avis?n=0\n\n"
            "Ce questionnaire ne prend qu'une minute.".format(org.domain_at(at))
        )
        self._emit(
            sink,
            case=case,
            tk=tk,
            member=case.member,
            party=org.kind,
            kind="survey",
            automated=True,
            sender=sender,
            to=(case.member.address,),
            subject=self._org_subject(org, tk, "survey"),
            own=own,
            body=None,
            at=at,
            msgid=self._mid_org(org, tk, at, "survey"),
            headers=(("Auto-Submitted", "auto-generated"),) if rng.random() < 0.5 else (),
            html_body=self._html(org, tk, own),
        )

    def _rejection(
        self, sink: list[SyntheticMessage], case: _Case, tk: _Ticket, r: SyntheticMessage
    ) -> None:
        rng = self.rng
        org = case.org
        at = r.sent_at + timedelta(seconds=rng.randint(5, 120))
        if org.style == "servicenow":
            own = (
                f"Impossible de mettre à jour votre dossier clôturé {tk.id}. "
                "Merci d'ouvrir un nouveau dossier."
            )
        else:
            own = (
                "Votre précédent ticket est clôturé.\n\n-- Votre relance a été rejetée. --\n\n"
                "Merci de créer un nouveau ticket."
            )
        sender = org.contact(at)
        self._emit(
            sink,
            case=case,
            tk=tk,
            member=case.member,
            party=org.kind,
            kind="rejection",
            automated=True,
            sender=sender,
            to=(case.member.address,),
            subject=self._org_subject(org, tk, "rejection"),
            own=own,
            body=None,
            at=at,
            msgid=self._mid_org(org, tk, at, "rejection"),
            parent=r,
            headers=self._org_headers(org, tk, "rejection", sender),
            answers=r.message_id,
        )

    def _exchange(
        self,
        sink: list[SyntheticMessage],
        case: _Case,
        tk: _Ticket,
        turn: _Turn,
        t: datetime,
        max_exchanges: int,
        closable: bool,
    ) -> tuple[str, datetime]:
        """Alternate turns until the organisation has answered ``max_exchanges`` times.

        Returns ``answered`` (the organisation spoke last), ``closed-unanswered``
        (closed on the citizen's open question) or ``unanswered`` (never answered).
        """
        rng = self.rng
        org = case.org
        exchanges = 0
        while True:
            if turn.owner == "me":
                delay = _lognormal_hours(rng, org.reply_median_h, 0.7)
                reply_at = _working(rng, t + timedelta(hours=delay))
                t = self._reminders(sink, case, tk, turn, t, reply_at)
                if rng.random() < 0.2:
                    if closable:
                        at = max(reply_at, t + timedelta(minutes=5))
                        return "closed-unanswered", self._closure(sink, case, tk, at).sent_at
                    return "unanswered", t
                a = self._org_reply(sink, case, tk, turn, max(reply_at, t + timedelta(minutes=1)))
                exchanges += 1
                turn.owner, turn.first, turn.last_org = "org", a, a
                t = case.clock
            else:
                if exchanges >= max_exchanges:
                    return "answered", t
                deadline = turn.last_org.truth.deadline if turn.last_org is not None else None
                if deadline is not None:
                    hours = rng.uniform(1.0, 40.0)
                else:
                    hours = min(max(_lognormal_hours(rng, 8.0, 1.1), 0.2), 240.0)
                r = self._citizen_reply(
                    sink, case, tk, turn, _waking(rng, t + timedelta(hours=hours))
                )
                turn.owner, turn.first, turn.last_me = "me", r, r
                self._ooo(sink, case, tk, r)
                self._burst(sink, case, tk, turn, case.clock, 0.35 if deadline else 0.1)
                t = case.clock

    def _agency_ticket(
        self, sink: list[SyntheticMessage], case: _Case, k: int, ref_kind: str | None, t: datetime
    ) -> datetime:
        rng = self.rng
        org = case.org
        if k == 0 and org.style == "fr-portal" and case.topic.key == "controle":
            tk, first = self._org_demand(sink, case, t)
            turn = _Turn("org", first, None, first)
        else:
            tk, first = self._citizen_opening(sink, case, k, ref_kind, t)
            turn = _Turn("me", first, first, None)
            self._ack(sink, case, tk, first)
            self._burst(sink, case, tk, turn, case.clock, 0.12)
        last_ticket = k == case.n_tickets - 1
        outcome, t = self._exchange(sink, case, tk, turn, case.clock, rng.randint(1, 3), True)
        case.unanswered = outcome == "closed-unanswered"
        if outcome != "closed-unanswered":
            if last_ticket and rng.random() < 0.3:
                return case.clock  # still open when the mailbox was exported
            self._closure(
                sink, case, tk, _working(rng, t + timedelta(hours=rng.uniform(0.3, 72.0)))
            )
        closure = tk.msgs[-1]
        self._survey(sink, case, tk, case.clock)
        t = case.clock
        react = timedelta(hours=min(max(_lognormal_hours(rng, 12.0, 1.0), 0.3), 240.0))
        if org.style in _REOPEN_IN_PLACE and rng.random() < 0.25:
            r = self._citizen_reply(sink, case, tk, turn, _waking(rng, t + react), parent=closure)
            turn.owner, turn.first, turn.last_me = "me", r, r
            outcome, t = self._exchange(sink, case, tk, turn, case.clock, 1, True)
            if outcome != "closed-unanswered" and not (last_ticket and rng.random() < 0.3):
                self._closure(
                    sink, case, tk, _working(rng, t + timedelta(hours=rng.uniform(0.3, 72.0)))
                )
        elif org.style in _REJECTING and not last_ticket and rng.random() < 0.35:
            r = self._citizen_reply(sink, case, tk, turn, _waking(rng, t + react), parent=closure)
            self._rejection(sink, case, tk, r)
        return case.clock

    def _contractor_ticket(
        self, sink: list[SyntheticMessage], case: _Case, k: int, ref_kind: str | None, t: datetime
    ) -> datetime:
        rng = self.rng
        org = case.org
        member = case.member
        at = _working(rng, t)
        deadline: datetime | None = None
        folder = "INBOX"
        if k == 0:
            base = rng.choice(
                (
                    "Accompagnement obligatoire",
                    "Votre parcours vers l'emploi",
                    "Prise de rendez-vous - accompagnement",
                )
            )
            tk = self._new_ticket(case, at, base)
            tk.sender = org.callcentre
            if rng.random() < 0.5:
                tk.subject = f"{base} - Réf. {tk.id}"
            paragraphs = [
                "Dans le cadre de votre parcours avec France Travail, vous avez été orienté vers "
                f"la prestation d'accompagnement de {org.name}. Cet accompagnement obligatoire "
                "débute par un entretien téléphonique."
            ]
            variant = rng.random()
            if variant < 0.4:
                paragraphs.append(f"Votre identifiant France Travail : {member.identifiant}.")
            if rng.random() < 0.5:
                paragraphs.append(
                    "Merci de prendre rendez-vous sous 48 heures en répondant à ce courriel."
                )
                deadline = at + timedelta(hours=48)
            else:
                paragraphs.append(
                    "Merci de nous indiquer vos disponibilités en répondant à ce courriel."
                )
            own = "Madame, Monsieur,\n\n" + "\n\n".join(_wrap(p) for p in paragraphs)
            own += f"\n\nService Relation Bénéficiaires\n{org.name}"
            body = own
            if 0.4 <= variant < 0.65:
                agency_at = at - timedelta(days=rng.randint(1, 6))
                ft = "pole-emploi.fr" if agency_at < _RENAMING else "francetravail.fr"
                body += (
                    "\n\n---------- Message transféré ----------\n"
                    f"De : ne-pas-repondre@{ft}\nDate : {_fr_long(agency_at)}\n"
                    "Objet : Votre accompagnement\n\n"
                    + _wrap(
                        "Vous allez être contacté par un prestataire chargé de votre "
                        "accompagnement vers l'emploi. Merci de lui réserver le meilleur accueil."
                    )
                )
            sender = org.callcentre
            assert sender is not None
            if rng.random() < 0.4:
                folder = "Junk"  # unknown sender domain: the spam filter is suspicious
        else:
            coach = rng.choice(org.coaches)
            subjects = (
                "Votre accompagnement",
                "Premier rendez-vous",
                "Suite de votre accompagnement",
            )
            tk = self._new_ticket(case, at, rng.choice(subjects))
            tk.sender = coach
            previous = case.truth.tickets[-2]
            paragraphs = [
                "Je suis votre conseillère référente pour l'accompagnement proposé par "
                f"{org.name}. "
                "Je vous propose un premier rendez-vous en visio la semaine prochaine."
            ]
            if ref_kind == "ticket-number":
                paragraphs.append(f"Votre dossier porte la référence {previous}.")
            own = f"Bonjour {member.first} {member.last},\n\n" + "\n\n".join(
                _wrap(p) for p in paragraphs
            )
            own += f"\n\nBien à vous,\n{coach.name.split(' - ')[0]}\n{org.name}"
            body = own
            if ref_kind == "quote":
                origin = next((m for m in sink if m.truth.kind == "contractor"), None)
                if origin is not None:
                    body += (
                        "\n\n---------- Message transféré ----------\n"
                        f"De : {origin.sender.name} <{origin.sender.email}>\n"
                        f"Date : {_fr_long(origin.sent_at)}\nObjet : {origin.subject}\n\n"
                        + self.own[origin.message_id]
                    )
            sender = coach
        first = self._emit(
            sink,
            case=case,
            tk=tk,
            member=member,
            party="contractor",
            kind="contractor",
            automated=False,
            sender=sender,
            to=(member.address,),
            subject=tk.subject,
            own=own,
            body=body,
            at=at,
            msgid=self._mid_org(org, tk, at, "contractor"),
            folder=folder,
            is_reopening=k > 0,
            reopen_reference=ref_kind,
            deadline=deadline,
            html_body=self._html(org, tk, body) if rng.random() < 0.5 else None,
        )
        turn = _Turn("org", first, None, first)
        if rng.random() < 0.35:
            # No answer from the citizen: the firm chases her.
            at = _working(rng, first.sent_at + timedelta(days=rng.uniform(3, 6)))
            rem_own = (
                "Bonjour,\n\nSauf erreur de notre part, nous n'avons pas reçu votre réponse "
                "à notre "
                f"message du {_fr_date(first.sent_at)}.\n"
                + _wrap("Nous vous rappelons que cet accompagnement est obligatoire.")
                + f"\n\n{sender.name.split(' - ')[0]}\n{org.name}"
            )
            rem = self._emit(
                sink,
                case=case,
                tk=tk,
                member=member,
                party="contractor",
                kind="reminder",
                automated=False,
                sender=sender,
                to=(member.address,),
                subject=_re("RE: ", first.subject),
                own=rem_own,
                body=None,
                at=at,
                msgid=self._mid_org(org, tk, at, "reminder"),
                parent=first,
            )
            turn.last_org = rem
        self._exchange(sink, case, tk, turn, case.clock, rng.randint(1, 3), False)
        return case.clock

    # -- cases ----------------------------------------------------------------

    def _plan_case(self, member: _Member) -> _Case:
        rng = self.rng
        style = rng.choices(self.styles, [_STYLE_WEIGHTS[s] for s in self.styles])[0]
        org = rng.choice(self.orgs[style])
        if style == "fr-portal":
            pool = _EMPLOI_TOPICS
        elif style == CONTRACTOR_STYLE:
            pool = _CONTRACTOR_TOPICS
        else:
            pool = _SERVICE_TOPICS
        siblings = self.cases_by_org.setdefault((member.index, org.name), [])
        if siblings and rng.random() < 0.3:
            # Same organisation, same topic, overlapping in time: the hard negatives.
            sibling = rng.choice(siblings)
            topic = sibling.topic
            start = sibling.start + timedelta(days=rng.uniform(-10.0, 25.0))
        else:
            topic = rng.choice(pool)
            start = self.start + timedelta(days=rng.uniform(0.0, self.span_days))
        start = max(start, self.start).replace(microsecond=0)
        if style == CONTRACTOR_STYLE:
            n = rng.choices((1, 2, 3), (40, 40, 20))[0]
        else:
            n = rng.choices((1, 2, 3, 4, 5), (30, 30, 20, 12, 8))[0]
        self.case_no += 1
        truth = CaseTruth(
            case_id=f"case-{self.case_no:05d}",
            counterpart=org.name,
            style=style,
            tickets=[],
            topic=topic.key,
            member=member.index,
        )
        case = _Case(truth, org, topic, start, n, member, clock=start)
        taken = {c.matter for c in siblings if c.topic is topic}
        case.matter = self._matter(taken, start)
        siblings.append(case)
        return case

    def _matter(self, taken: set[str], start: datetime) -> str:
        """A sentence naming a matter's specifics, unlike those in ``taken``
        (matters on the same topic with the same organisation differ). The
        month it is about and the letter it follows came before ``start``."""
        rng = self.matter_rng
        while True:
            period = start - timedelta(days=rng.randint(15, 300))
            letter = start - timedelta(days=rng.randint(2, 40))
            template = rng.choice(_MATTERS)
            when = letter if "{day}" in template else period
            matter = template.format(month=_MOIS[when.month - 1], year=when.year,
                                     day=letter.day, employer=rng.choice(_EMPLOYERS))
            if matter not in taken:
                return matter

    def _reopen_reference(self) -> str:
        # Spread reference-free reopenings evenly so that every prefix of the
        # run (scale() may cut the last case) keeps the requested share.
        j = self.reopenings
        self.reopenings += 1
        share = self.ref_free
        if math.ceil(round((j + 1) * share, 9)) > math.ceil(round(j * share, 9)):
            return "none"
        return "ticket-number" if self.rng.random() < 0.55 else "quote"

    def _run_case(self, case: _Case) -> list[SyntheticMessage]:
        rng = self.rng
        refs = [self._reopen_reference() for _ in range(case.n_tickets - 1)]
        t = case.start
        for k in range(case.n_tickets):
            ref = refs[k - 1] if k else None
            if case.org.kind == "contractor":
                t = self._contractor_ticket(case.msgs, case, k, ref, t)
            else:
                t = self._agency_ticket(case.msgs, case, k, ref, t)
            t += timedelta(hours=min(max(_lognormal_hours(rng, 30.0, 1.0), 0.5), 24.0 * 30))
        self.own.clear()
        return case.msgs

    def run_cases(self, member: _Member, count: int | None, budget: int | None) -> None:
        produced = made = 0
        while (count is None or made < count) and (budget is None or produced < budget):
            case = self._plan_case(member)
            made += 1
            msgs = self._run_case(case)
            if budget is not None and produced + len(msgs) > budget:
                msgs = msgs[: budget - produced]
                kept = {m.truth.ticket_id for m in msgs}
                case.truth.tickets = [tid for tid in case.truth.tickets if tid in kept]
            produced += len(msgs)
            self.messages.extend(msgs)
            self.cases.append(case.truth)

    # -- unrelated mail -------------------------------------------------------

    def run_unrelated(self, member: _Member, budget: int) -> None:
        rng = self.rng
        produced = 0
        while produced < budget:
            t = self.start + timedelta(days=rng.uniform(0.0, self.span_days + 60.0))
            sink: list[SyntheticMessage] = []
            r = rng.random()
            if r < 0.30:
                self._newsletter(sink, member, t)
            elif r < 0.45:
                self._shop(sink, member, t)
            elif r < 0.52:
                self._bank(sink, member, t)
            else:
                self._personal(sink, member, t)
            sink = sink[: budget - produced]
            produced += len(sink)
            self.messages.extend(sink)
            self.own.clear()

    def _newsletter(self, sink: list[SyntheticMessage], member: _Member, t: datetime) -> None:
        rng = self.rng
        name, domain, english = rng.choice(_NEWSLETTERS)
        issue = rng.randint(10, 400)
        if english:
            subject = f"{name} #{issue}"
            # Lines starting with "From " exercise mbox quoting.
            own = (
                f"From the editor: issue {issue} is about open public data.\n\n"
                "From our readers\nFrom Lyon to Lille, three projects opened their datasets.\n\n"
                f"Unsubscribe: https://{domain}/u/{_hex(rng, 10)}"
            )
        else:
            subject = rng.choice(
                (
                    f"Lettre d'information n° {issue}",
                    "Les nouvelles du mois",
                    "Programme de la semaine",
                    "Nouveau message de votre association",
                )
            )
            own = (
                "Bonjour,\n\n"
                + _wrap(rng.choice(_NEWS_LINES))
                + f"\n\nPour vous désinscrire : https://{domain}/desinscription/{_hex(rng, 10)}"
            )
        headers = (
            ("List-Id", f"{name} <lettre.{domain}>"),
            (
                "List-Unsubscribe",
                f"<mailto:desinscription@{domain}>, <https://{domain}/d/{_hex(rng, 8)}>",
            ),
            ("Precedence", "bulk"),
            ("Feedback-ID", f"{rng.randint(100, 999)}:lettre:{domain}"),
        )
        self._emit(
            sink,
            case=None,
            tk=None,
            member=member,
            party="other",
            kind="newsletter",
            automated=True,
            sender=Address(name, f"lettre@{domain}"),
            to=(member.address,),
            subject=subject,
            own=own,
            body=None,
            at=t,
            tz=0 if english else None,
            msgid=self._unique(lambda: f"{_hex(rng, 20)}.{rng.randint(1000, 99999)}@mail.{domain}"),
            folder="Junk" if rng.random() < 0.15 else "INBOX",
            headers=headers,
            html_body=self._html(None, None, own),
        )

    def _shop(self, sink: list[SyntheticMessage], member: _Member, t: datetime) -> None:
        rng = self.rng
        name, domain = rng.choice(_SHOPS)
        n = rng.randint(100000, 999999)
        subject, text = rng.choice(
            (
                (
                    f"Confirmation de votre commande n° {n}",
                    f"Nous avons bien reçu votre commande n° {n}.",
                ),
                (
                    f"Votre commande n° {n} a été expédiée",
                    f"Votre colis (commande n° {n}) est en route.",
                ),
                (
                    "Votre demande",
                    f"Votre demande de retour pour la commande n° {n} a bien été enregistrée.",
                ),
                (
                    "Votre demande a bien été enregistrée",
                    "Notre service client vous répondra sous 48 heures.",
                ),
            )
        )
        own = f"Bonjour {member.first},\n\n{_wrap(text)}\n\nL'équipe {name}"
        self._emit(
            sink,
            case=None,
            tk=None,
            member=member,
            party="other",
            kind="shop",
            automated=True,
            sender=Address(name, f"commandes@{domain}"),
            to=(member.address,),
            subject=subject,
            own=own,
            body=None,
            at=t,
            tz=0,
            msgid=self._unique(lambda: f"{_hex(rng, 24)}@{domain}"),
            html_body=self._html(None, None, own) if rng.random() < 0.7 else None,
        )

    def _bank(self, sink: list[SyntheticMessage], member: _Member, t: datetime) -> None:
        rng = self.rng
        domain = "banque-cooperative.example"
        subject = rng.choice(
            (
                "Votre relevé de compte est disponible",
                "Information de paiement",
                "Nouveau message dans votre espace client",
            )
        )
        own = (
            f"Bonjour,\n\n{subject}. Connectez-vous à votre espace client pour le consulter.\n\n"
            "Ce message est envoyé automatiquement, merci de ne pas y répondre."
        )
        self._emit(
            sink,
            case=None,
            tk=None,
            member=member,
            party="other",
            kind="bank",
            automated=True,
            sender=Address("Banque Coopérative", f"ne-pas-repondre@{domain}"),
            to=(member.address,),
            subject=subject,
            own=own,
            body=None,
            at=t,
            msgid=self._unique(lambda: f"{rng.randint(10**11, 10**12)}.{_hex(rng, 8)}@{domain}"),
        )

    def _personal(self, sink: list[SyntheticMessage], member: _Member, t: datetime) -> None:
        rng = self.rng
        friend, friend_client = rng.choice(self.friends)
        subject, lines = rng.choice(_PERSONAL)
        starter_me = rng.random() < 0.4
        forward = rng.random() < 0.12
        n = rng.randint(1, min(4, len(lines)))
        cc: tuple[Address, ...] = ()
        if rng.random() < 0.15:
            other = rng.choice(self.friends)[0]
            if other != friend:
                cc = (other,)
        parent: SyntheticMessage | None = None
        clock = _waking(rng, t)
        for i in range(n):
            mine = (i % 2 == 0) == starter_me
            client = member.client if mine else friend_client
            sender = member.address if mine else friend
            addressee = friend if mine else member.address
            if i:
                clock = _waking(
                    rng,
                    clock + timedelta(hours=min(max(_lognormal_hours(rng, 5.0, 1.2), 0.1), 120.0)),
                )
            greet = (friend.name or friend.email).split(" ")[0] if mine else member.first
            me_name = member.first if mine else (friend.name.split(" ")[0] if friend.name else "")
            own = f"Salut {greet},\n\n{_wrap(lines[i])}\n\n{me_name}".rstrip()
            body = own
            if parent is not None:
                subj = _re(self._reply_prefix(client), parent.subject)
                body = own + self._attribution(client, parent, self.own[parent.message_id])
            elif forward:
                subj = ("TR : " if client == "outlook" else "Fwd: ") + subject
                body = own + (
                    "\n\n---------- Message transféré ----------\n"
                    f"Date : {_fr_long(clock - timedelta(days=2))}\nObjet : {subject}\n\n"
                    + _wrap(rng.choice(_NEWS_LINES))
                )
            else:
                subj = subject
            if parent is not None:
                clock = max(clock, parent.sent_at + timedelta(seconds=30))
            msg = self._emit(
                sink,
                case=None,
                tk=None,
                member=member,
                party="me" if mine else "other",
                kind="personal",
                automated=False,
                sender=sender,
                to=(addressee,),
                cc=cc,
                subject=subj,
                own=own,
                body=body,
                at=clock,
                msgid=self._mid_member(member) if mine else self._mid_friend(friend, friend_client),
                parent=parent,
                attach=self._attach(1.5),
            )
            parent = msg
            clock = msg.sent_at

    # -- result ---------------------------------------------------------------

    def finish(self) -> Scenario:
        msgs = sorted(self.messages, key=lambda m: (m.sent_at, m.seq))
        ids = {m.message_id for m in msgs}
        phantoms: dict[str, None] = {}
        for m in msgs:
            for ref in (m.in_reply_to, *m.references):
                if ref and ref not in ids:
                    if ref not in self.phantoms:  # pragma: no cover - generator bug
                        raise RuntimeError(f"dangling reference {ref!r} in {m.message_id!r}")
                    phantoms[ref] = None
        counterparts = self.counterparts()
        addresses = tuple(mb.address.email for mb in self.members)
        return Scenario(
            seed=self.seed,
            me=addresses[0],
            messages=msgs,
            truth=Truth(
                messages=[m.truth for m in msgs],
                cases=sorted(self.cases, key=lambda c: c.case_id),
                phantom_ids=list(phantoms),
            ),
            config_toml=_config_toml(addresses, counterparts, self.seed),
            members=addresses,
            counterparts=counterparts,
        )


_NEWSLETTERS: tuple[tuple[str, str, bool], ...] = (
    ("La Gazette du Quartier", "gazette-quartier.example", False),
    ("Cinéma Le Familial", "cinema-familial.example", False),
    ("Ateliers Numériques", "ateliers-numeriques.example", False),
    ("Open Data Weekly", "opendata-weekly.example", True),
)
_NEWS_LINES = (
    "Ce mois-ci, la bibliothèque ouvre un atelier d'aide aux démarches en ligne le samedi matin.",
    "Au programme de la semaine : ciné-débat jeudi, séance jeune public dimanche.",
    "Le repair café revient le premier samedi du mois, salle des fêtes, de 14 h à 18 h.",
    "Nos médiatrices numériques accompagnent les démarches administratives sur rendez-vous.",
)
_SHOPS: tuple[tuple[str, str], ...] = (
    ("Librairie des Canaux", "librairie-canaux.example"),
    ("Vélo Pratique", "velo-pratique.example"),
    ("Maison Déco", "maisondeco.example"),
)
_PERSONAL: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Dîner samedi ?",
        (
            "Tu es libre samedi soir ? On pensait faire un dîner à la maison.",
            "Avec plaisir ! J'apporte le dessert.",
            "Parfait, à samedi vers 20 h.",
            "Super, à samedi !",
        ),
    ),
    (
        "Photos du week-end",
        (
            "Voici quelques photos de la randonnée de dimanche.",
            "Merci, elles sont superbes !",
            "Je t'envoie les autres ce soir.",
        ),
    ),
    (
        "Covoiturage lundi",
        (
            "Tu pourrais m'emmener lundi matin à la gare ?",
            "Oui, je passe te prendre à 7 h 30.",
            "Merci beaucoup !",
        ),
    ),
    (
        "Réunion de l'association",
        (
            "La prochaine réunion de l'association aura lieu mardi à 19 h.",
            "Je serai un peu en retard, commencez sans moi.",
            "Pas de souci, on te garde une part de gâteau.",
        ),
    ),
    (
        "Anniversaire de Lou",
        (
            "On organise une surprise pour l'anniversaire de Lou, tu en es ?",
            "Bien sûr ! Je participe pour le cadeau.",
            "Génial, je t'envoie les détails.",
            "Top, merci !",
        ),
    ),
    (
        "Des nouvelles",
        (
            "Ça fait longtemps ! Comment vas-tu ?",
            "Ça va, je cherche toujours du travail, pas simple en ce moment.",
            "Courage ! Tiens-moi au courant.",
        ),
    ),
)


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------


def _span_days(cases: int) -> float:
    # Roughly ten days of calendar per case keeps several cases open at once.
    return min(max(cases * 10.0, 120.0), 3650.0)


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, UTF-8 kept).
    return json.dumps(value, ensure_ascii=False)


def _config_toml(addresses: Sequence[str], counterparts: Sequence[Counterpart], seed: int) -> str:
    lines = [
        f"# Synthetic mailbox written by analyzer.synthetic (seed {seed}).",
        "",
        "[me]",
        f"addresses = [{', '.join(_toml_str(a) for a in addresses)}]",
    ]
    for c in counterparts:
        lines += [
            "",
            "[[counterpart]]",
            f"# helpdesk style: {c.style}",
            f"name = {_toml_str(c.name)}",
            f"kind = {_toml_str(c.kind)}",
            f"domains = [{', '.join(_toml_str(d) for d in c.domains)}]",
            f"addresses = [{', '.join(_toml_str(a) for a in c.addresses)}]",
        ]
    return "\n".join(lines) + "\n"


def generate(
    seed: int,
    *,
    members: int = 1,
    cases: int = 30,
    unrelated: int = 300,
    styles: Sequence[str] | None = None,
    attachments_share: float = 0.05,
    start: datetime = DEFAULT_START,
    reference_free_share: float = 0.3,
    specifics: bool = True,
) -> Scenario:
    """Simulate ``members`` citizens, each with ``cases`` cases and ``unrelated`` other mails.

    ``styles`` restricts the helpdesk systems (default: all of :data:`STYLES`).
    ``reference_free_share`` is the share of reopenings that neither cite the
    old ticket nor quote it; it is met exactly (rounded up) over the scenario.
    With several members the mailbox is a shared one (a digital-inclusion
    helper handling mail for several people); :func:`split_members` gives one
    mailbox per member.

    >>> s = generate(3, cases=4, unrelated=20)
    >>> sum(1 for m in s.truth.messages if m.case_id is None)
    20
    >>> generate(3, cases=4, unrelated=20).truth.to_dict() == s.truth.to_dict()
    True
    """
    if members < 1 or cases < 0 or unrelated < 0:
        raise ValueError("members must be >= 1, cases and unrelated >= 0")
    chosen = STYLES if styles is None else styles
    builder = _Builder(seed, chosen, attachments_share, start, reference_free_share,
                       specifics)
    builder.span_days = _span_days(cases)
    for index in range(members):
        member = builder.make_member(index)
        builder.run_cases(member, cases, None)
        builder.run_unrelated(member, unrelated)
    return builder.finish()


def scale(
    seed: int,
    total_messages: int,
    counterpart_share: float = 0.1,
    *,
    styles: Sequence[str] | None = None,
    attachments_share: float = 0.05,
    start: datetime = DEFAULT_START,
    reference_free_share: float = 0.3,
) -> Scenario:
    """One mailbox of exactly ``total_messages`` messages.

    ``counterpart_share`` is the share of messages that belong to a case (mail
    to and from the organisations); the rest is unrelated personal mail. The
    case part is exact: the last case is cut short if needed, as if the mailbox
    had been exported in the middle of it. ``1.0`` gives the worst case for the
    case builder.

    >>> s = scale(1, 200, 0.25)
    >>> len(s.messages), sum(1 for m in s.truth.messages if m.case_id)
    (200, 50)
    """
    if total_messages < 0 or not 0.0 <= counterpart_share <= 1.0:
        raise ValueError("total_messages must be >= 0 and counterpart_share within [0, 1]")
    case_budget = round(total_messages * counterpart_share)
    chosen = STYLES if styles is None else styles
    builder = _Builder(seed, chosen, attachments_share, start, reference_free_share)
    builder.span_days = _span_days(max(1, case_budget // 12))
    member = builder.make_member(0)
    if case_budget:
        builder.run_cases(member, None, case_budget)
    builder.run_unrelated(member, total_messages - case_budget)
    return builder.finish()


def split_members(scenario: Scenario) -> list[Scenario]:
    """One scenario per member, each with its own config and truth.

    >>> parts = split_members(generate(5, members=2, cases=2, unrelated=5))
    >>> [len({m.truth.member for m in p.messages}) for p in parts]
    [1, 1]
    """
    result = []
    for index, address in enumerate(scenario.members):
        msgs = [m for m in scenario.messages if m.truth.member == index]
        ids = {m.message_id for m in msgs}
        referenced = {r for m in msgs for r in (m.in_reply_to, *m.references) if r}
        phantoms = [p for p in scenario.truth.phantom_ids if p in referenced]
        dangling = sorted(r for r in referenced if r not in ids and r not in phantoms)
        if dangling:  # pragma: no cover - members never write to each other
            raise RuntimeError(f"member {index} references other members' mail: {dangling[:3]}")
        result.append(
            Scenario(
                seed=scenario.seed,
                me=address,
                messages=msgs,
                truth=Truth(
                    messages=[m.truth for m in msgs],
                    cases=[c for c in scenario.truth.cases if c.member == index],
                    phantom_ids=phantoms,
                ),
                config_toml=_config_toml([address], scenario.counterparts, scenario.seed),
                members=(address,),
                counterparts=scenario.counterparts,
            )
        )
    return result


def bcubed(truth: Mapping[str, str], predicted: Mapping[str, str]) -> tuple[float, float]:
    """B-cubed precision and recall of a clustering against the truth: for each
    item, the share of its predicted cluster that is truly with it, and of its
    true cluster that is predicted with it, averaged over items (same keys).

    >>> bcubed({"a": "1", "b": "1", "c": "2"}, {"a": "x", "b": "x", "c": "x"})
    (0.5555555555555555, 1.0)
    """
    members_t: dict[str, set[str]] = defaultdict(set)
    members_p: dict[str, set[str]] = defaultdict(set)
    for item, cluster in truth.items():
        members_t[cluster].add(item)
    for item, cluster in predicted.items():
        members_p[cluster].add(item)
    precision = recall = 0.0
    for item in truth:
        same = len(members_t[truth[item]] & members_p[predicted[item]])
        precision += same / len(members_p[predicted[item]])
        recall += same / len(members_t[truth[item]])
    return precision / len(truth), recall / len(truth)


def truth_waits(scenario: Scenario | Truth) -> list[dict[str, Any]]:
    """Waits per case, from the truth alone (not from the analyzer's output).

    Within a case, messages are ordered by ``sent_at`` (mailbox order on ties)
    and automated ones are left out. A turn is a run of consecutive messages
    from one side (``me`` versus the counterpart). A wait starts at the first
    message of a turn and ends at the first message of the other side's next
    turn, so reminders do not restart it and closures do not stop it. The last
    turn of a case is an open wait (``answered_at`` None). ``requester`` and
    ``responder`` are ``"me"`` or the counterpart's name.

    >>> t0 = datetime(2024, 3, 4, 9, tzinfo=UTC)
    >>> def mk(mid, party, hours, automated=False):
    ...     return MessageTruth(mid, "c1", "1", party, "France Travail", automated, "reply",
    ...                         "fr-portal", t0 + timedelta(hours=hours))
    >>> truth = Truth([mk("a", "me", 0), mk("b", "agency", 0.01, True), mk("c", "agency", 48)],
    ...               [CaseTruth("c1", "France Travail", "fr-portal", ["1"], "paiement")])
    >>> [(w["requester"], w["delay_seconds"]) for w in truth_waits(truth)]
    [('me', 172800), ('France Travail', None)]
    """
    truth = scenario.truth if isinstance(scenario, Scenario) else scenario
    counterpart_of = {c.case_id: c.counterpart for c in truth.cases}
    by_case: dict[str, list[MessageTruth]] = {}
    for m in truth.messages:
        if m.case_id is not None and not m.automated:
            by_case.setdefault(m.case_id, []).append(m)
    rows: list[dict[str, Any]] = []
    for case_id in sorted(by_case):
        msgs = sorted(by_case[case_id], key=lambda m: m.sent_at)
        counterpart = counterpart_of.get(case_id) or msgs[0].counterpart or "counterpart"
        turns: list[MessageTruth] = []
        side: bool | None = None
        for m in msgs:
            mine = m.party == "me"
            if mine != side:
                turns.append(m)
                side = mine
        for i, asked in enumerate(turns):
            answer = turns[i + 1] if i + 1 < len(turns) else None
            mine = asked.party == "me"
            rows.append(
                {
                    "case_id": case_id,
                    "requester": "me" if mine else counterpart,
                    "responder": counterpart if mine else "me",
                    "asked_at": asked.sent_at,
                    "answered_at": answer.sent_at if answer else None,
                    "delay_seconds": int((answer.sent_at - asked.sent_at).total_seconds())
                    if answer
                    else None,
                    "asked_message_id": asked.message_id,
                    "answer_message_id": answer.message_id if answer else None,
                }
            )
    return rows


# ---------------------------------------------------------------------------
# Rendering to RFC 5322 bytes
# ---------------------------------------------------------------------------

_SPECIALS = frozenset('()<>[]:;@\\,."')
_Q_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/")


def _q_chars(text: str) -> list[str]:
    """RFC 2047 "Q" encoding of each character (phrase-safe set)."""
    out = []
    for ch in text:
        if ch == " ":
            out.append("_")
        elif ch in _Q_SAFE:
            out.append(ch)
        else:
            out.append("".join(f"={b:02X}" for b in ch.encode("utf-8")))
    return out


def _encoded_words(text: str) -> list[str]:
    """Encoded words of at most 75 characters, never splitting a character."""
    words: list[str] = []
    cur = ""
    for enc in _q_chars(text):
        if len(cur) + len(enc) > 63:
            words.append(cur)
            cur = ""
        cur += enc
    if cur:
        words.append(cur)
    return [f"=?utf-8?q?{w}?=" for w in words]


def _one_encoded_word(text: str) -> str:
    return "=?utf-8?q?" + "".join(_q_chars(text)) + "?="


@lru_cache(maxsize=4096)
def _phrase(name: str) -> str:
    if not name:
        return ""
    if name.isascii():
        return _quoted_if_needed(name)
    # Decoders disagree on the space between two encoded words in a phrase
    # (RFC 2047 drops it, Python keeps it), so each run of non-ASCII words
    # becomes ONE encoded word and ASCII words stay plain.
    out: list[str] = []
    run: list[str] = []
    for token in name.split(" "):
        if token.isascii():
            if run:
                out.append(_one_encoded_word(" ".join(run)))
                run = []
            out.append(_quoted_if_needed(token))
        else:
            run.append(token)
    if run:
        out.append(_one_encoded_word(" ".join(run)))
    return " ".join(out)


def _quoted_if_needed(text: str) -> str:
    if any(c in _SPECIALS for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _address(a: Address) -> str:
    phrase = _phrase(a.name)
    return f"{phrase} <{a.email}>" if phrase else a.email


@lru_cache(maxsize=4096)
def _unstructured(value: str) -> str:
    if not value.isascii():
        return "\n ".join(_encoded_words(value))
    if len(value) <= 68:
        return value
    out: list[str] = []
    line = ""
    for word in value.split(" "):
        if line and len(line) + 1 + len(word) > 68:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    out.append(line)
    return "\n ".join(out)


def _qp(text: str) -> bytes:
    if not text.endswith("\n"):
        text += "\n"
    return binascii.b2a_qp(text.encode("utf-8"), istext=True)


def _attachment_bytes(a: Attachment) -> bytes:
    magic = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff\xe0"}.get(
        a.content_type, b"%PDF-1.4\n"
    )
    return magic + random.Random(a.seed).randbytes(a.size)


def _param(name: str, value: str) -> str:
    if value.isascii():
        return f'{name}="{value}"'
    encoded = "".join(
        ch
        if ch.isascii() and (ch.isalnum() or ch in "._-")
        else "".join(f"%{b:02X}" for b in ch.encode())
        for ch in value
    )
    return f"{name}*=utf-8''{encoded}"


def _received(m: SyntheticMessage, key: int) -> str:
    domain = m.sender.email.rsplit("@", 1)[1]
    owner_domain = m.owner.rsplit("@", 1)[1]
    host = f"mx{key % 4 + 1}.{domain}"
    ip = f"203.0.113.{key % 250 + 1}"
    return (
        f"Received: from {host} ({host} [{ip}])\n\tby mx.{owner_domain} (Postfix) with ESMTPS id "
        f"{key:08X}{m.seq % 4096:03X}\n\tfor <{m.owner}>; "
        f"{_fmt_date(m.received_at, _paris_minutes(m.received_at))}"
    )


_TEXT_HEAD = (
    b'Content-Type: text/%s; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
)


def message_bytes(m: SyntheticMessage) -> bytes:
    """The message as RFC 5322 bytes (LF line ends, UTF-8 quoted-printable text).

    >>> s = generate(2, cases=1, unrelated=0)
    >>> import email, email.policy
    >>> msg = email.message_from_bytes(message_bytes(s.messages[0]), policy=email.policy.default)
    >>> msg["Message-ID"] == f"<{s.messages[0].message_id}>"
    True
    """
    key = binascii.crc32(m.message_id.encode())
    lines: list[str] = []
    if m.folder != "Sent":
        lines.append(f"Return-Path: <{m.sender.email}>")
        lines.append(_received(m, key))
    lines.append(f"Date: {_fmt_date(m.sent_at, m.tz_minutes)}")
    lines.append(f"From: {_address(m.sender)}")
    lines.append("To: " + ",\n ".join(_address(a) for a in m.to))
    if m.cc:
        lines.append("Cc: " + ",\n ".join(_address(a) for a in m.cc))
    lines.append(f"Subject: {_unstructured(m.subject)}")
    lines.append(f"Message-ID: <{m.message_id}>")
    if m.in_reply_to:
        lines.append(f"In-Reply-To: <{m.in_reply_to}>")
    if m.references:
        lines.append("References: " + "\n ".join(f"<{r}>" for r in m.references))
    lines.extend(f"{name}: {value}" for name, value in m.headers)
    lines.append("MIME-Version: 1.0")
    head = "\n".join(lines).encode("utf-8") + b"\n"

    text_part = _TEXT_HEAD % b"plain"
    text_part += _qp(m.text)
    body = text_part
    boundary = f"=_synth_{key:08x}_{m.seq:x}"
    if m.html is not None:
        html_part = _TEXT_HEAD % b"html"
        html_part += _qp(m.html)
        alt = boundary + "_alt"
        body = (
            f'Content-Type: multipart/alternative; boundary="{alt}"\n\n--{alt}\n'.encode()
            + text_part
            + f"\n--{alt}\n".encode()
            + html_part
            + f"\n--{alt}--\n".encode()
        )
    if m.attachment is not None:
        a = m.attachment
        part = (
            f"Content-Type: {a.content_type}; {_param('name', a.filename)}\n"
            f"Content-Disposition: attachment; {_param('filename', a.filename)}\n"
            "Content-Transfer-Encoding: base64\n\n"
        ).encode() + base64.encodebytes(_attachment_bytes(a))
        mixed = boundary + "_mix"
        body = (
            f'Content-Type: multipart/mixed; boundary="{mixed}"\n\n'
            f"This is a multi-part message in MIME format.\n--{mixed}\n".encode()
            + body
            + f"\n--{mixed}\n".encode()
            + part
            + f"\n--{mixed}--\n".encode()
        )
    return head + body


def iter_message_bytes(scenario: Scenario) -> Iterator[bytes]:
    """Each message's bytes in mailbox order, rendered one at a time.

    Benchmarks stream 100,000 messages this way without holding the bytes.

    >>> s = generate(4, cases=1, unrelated=5)
    >>> sum(1 for raw in iter_message_bytes(s) if b"Message-ID: <" in raw) == len(s.messages)
    True
    """
    for m in scenario.messages:
        yield message_bytes(m)


_FOLDERS = {"INBOX": "", "Sent": ".Sent", "Junk": ".Junk"}


def _truth_document(scenario: Scenario) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "seed": scenario.seed,
        "me": scenario.me,
        "members": list(scenario.members),
    }
    doc.update(scenario.truth.to_dict())
    return doc


def _write_sidecars(scenario: Scenario, folder: Path) -> None:
    (folder / "analyzer.toml").write_text(scenario.config_toml, encoding="utf-8")
    with (folder / "truth.json").open("w", encoding="utf-8") as fh:
        json.dump(_truth_document(scenario), fh, ensure_ascii=False, indent=1)
        fh.write("\n")


def write_maildir(scenario: Scenario, path: str | Path,
                  render: Callable[[SyntheticMessage], bytes] = message_bytes) -> Path:
    """Write a Maildir++ tree: INBOX in ``cur``, ``.Sent`` and ``.Junk`` subfolders.

    Also writes ``analyzer.toml`` and ``truth.json`` at the top. Returns the path.
    Raises ``FileExistsError`` if ``path`` already holds messages. ``render``
    makes each message's bytes (the benchmarks give messages real-world sizes).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = write_maildir(generate(1, cases=1, unrelated=3), Path(tmp) / "mail")
    ...     (root / "truth.json").is_file() and any((root / "cur").iterdir())
    True
    """
    root = Path(path)
    if (root / "cur").is_dir() and any((root / "cur").iterdir()):
        # Writing twice into one Maildir would silently double every message.
        raise FileExistsError(f"{root} already holds a Maildir with messages")
    for sub in _FOLDERS.values():
        folder = root / sub if sub else root
        for leaf in ("cur", "new", "tmp"):
            (folder / leaf).mkdir(parents=True, exist_ok=True)
        if sub:
            (folder / "maildirfolder").touch()
    dirs = {
        name: str((root / sub / "cur") if sub else (root / "cur")) for name, sub in _FOLDERS.items()
    }
    for seq, m in enumerate(scenario.messages, 1):
        epoch = int(m.received_at.timestamp())
        with open(f"{dirs[m.folder]}/{epoch}.{seq}.synthetic:2,S", "wb") as fh:
            fh.write(render(m))
    _write_sidecars(scenario, root)
    return root


_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)


def _asctime(t: datetime) -> str:
    return f"{_DAYS[t.weekday()]} {_MONTHS[t.month - 1]} {t.day:2d} {t:%H:%M:%S} {t.year}"


def write_mbox(scenario: Scenario, path: str | Path,
               render: Callable[[SyntheticMessage], bytes] = message_bytes) -> Path:
    """Write one mbox file (mboxrd quoting: ``>*From `` body lines gain a ``>``).

    ``analyzer.toml`` and ``truth.json`` go beside it, named after the file
    (``NAME.analyzer.toml``, ``NAME.truth.json``). Returns the path. ``render``
    is as for :func:`write_maildir`.

    >>> import mailbox, tempfile
    >>> s = generate(1, cases=1, unrelated=3)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     len(mailbox.mbox(write_mbox(s, Path(tmp) / "mail.mbox"))) == len(s.messages)
    True
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as fh:
        for m in scenario.messages:
            raw = render(m)
            fh.write(f"From {m.sender.email} {_asctime(m.received_at)}\n".encode())
            fh.write(_FROM_LINE.sub(rb">\1", raw))
            fh.write(b"\n")
    target.with_name(target.name + ".analyzer.toml").write_text(
        scenario.config_toml, encoding="utf-8"
    )
    with target.with_name(target.name + ".truth.json").open("w", encoding="utf-8") as fh:
        json.dump(_truth_document(scenario), fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    return target
