"""The domain's refusals in German on German pages (web/i18n.reason and the patterns of
reasons.po): the catalogue is well formed, and real refusals, made by calling the domain,
read as a German visitor should read them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from cpniguard.access.web import REFUSED
from cpniguard.auth.credentials import FORBIDDEN_PROMPTS, biographical_reason, check_backup_question, normalise_secret
from cpniguard.auth.model import CredentialKind
from cpniguard.auth.release import RouteKind
from cpniguard.auth.sessions import _chosen
from cpniguard.breaches.clocks import RuleVersion
from cpniguard.breaches.model import Incident, Intent, check_new, determine, parse_data_types, set_affected
from cpniguard.calendar import parse_when
from cpniguard.campaigns.model import Campaign, CampaignStatus, Recipient, new_campaign, review_problem
from cpniguard.customers.model import (
    Contact,
    ContactKind,
    Customer,
    CustomerKind,
    Language,
    Service,
    ServiceCategory,
    normalise_email,
    normalise_postal_address,
    normalise_telephone_number,
    parse_enum,
)
from cpniguard.decisions.model import Purpose
from cpniguard.errors import DomainError
from cpniguard.ids import CustomerId, parse_customer_id, parse_uuid
from cpniguard.text import clean_text
from cpniguard.web import i18n
from cpniguard.web.office_audit import _customer, _date

REASONS = Path(i18n.__file__).parent / "locale" / "de" / "LC_MESSAGES" / "reasons.po"
K = CredentialKind
# The account number (the customer id) holds the run 5731; no other digit run of four.
CID = CustomerId(uuid.UUID("abcdefab-cdef-4bcd-abcd-ef5731abcdef"))
OPENED = datetime(2024, 1, 10, 15, 0, tzinfo=UTC)
AT = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
PHONE = "+12025550143"


def catalogue_patterns() -> list[tuple[str, str]]:
    with REASONS.open("rb") as source:
        catalog = read_po(source, locale="de")
    return [(str(m.id), str(m.string)) for m in catalog if m.id and i18n.PLACEHOLDER.search(str(m.id))]


PATTERNS = catalogue_patterns()


def placeholders(text: str) -> set[str]:
    return set(i18n.PLACEHOLDER.findall(text))


def refusal(call: Callable[[], object]) -> str:
    """The one-line reason the domain gives when it refuses."""
    with pytest.raises(DomainError) as refused:
        call()
    return str(refused.value)


def maria() -> Customer:
    contacts = (
        Contact(uuid.uuid4(), CID, ContactKind.TELEPHONE, PHONE, OPENED),
        Contact(uuid.uuid4(), CID, ContactKind.EMAIL, "maria.lopez@example.com", OPENED),
        Contact(uuid.uuid4(), CID, ContactKind.POSTAL, "1600 Elm Street, Springfield, IL 62704", OPENED),
    )
    service = Service(uuid.uuid4(), CID, ServiceCategory.LOCAL, OPENED, PHONE)
    customer = Customer(CID, "Maria Lopez-Garcia", CustomerKind.RESIDENTIAL, Language.EN, OPENED)
    return customer.with_parts((service,), contacts)


def refused_secret(kind: CredentialKind, secret: str) -> str:
    """As set_credential words it (auth/service.py), around the reason the rule gives."""
    why = biographical_reason(kind, normalise_secret(kind, secret), maria(), AT)
    assert why is not None, secret
    return f"refused: {why} (AUTH-7)"


def an_incident(**overrides: object) -> Incident:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "title": "Pretexter obtained call records",
        "rules": RuleVersion.STRICTEST,
        "discovered_at": AT,
        "intent": Intent.INTENTIONAL,
        "data_types": ("call-detail",),
        "cpni_description": "one month of call detail",
        "other_data_description": "",
        "circumstances": "a caller posing as the customer",
        "created_by": "staff:pat",
        "created_at": AT,
    }
    fields.update(overrides)
    return Incident(**fields)  # type: ignore[arg-type]


def a_campaign(owner: str = "mia") -> Campaign:
    return new_campaign(
        uuid.uuid4(),
        "Spring fiber",
        Purpose.MARKETING_COMMUNICATIONS,
        "Fiber upgrade",
        None,
        True,
        ("services",),
        (Recipient.CARRIER,),
        "email",
        owner,
        AT,
    )


@pytest.mark.parametrize(("msgid", "msgstr"), PATTERNS, ids=[p[0][:60] for p in PATTERNS])
def test_every_pattern_compiles_and_matches_its_own_msgid(msgid: str, msgstr: str) -> None:
    assert i18n.compile_pattern(msgid).match(msgid) is not None


@pytest.mark.parametrize(("msgid", "msgstr"), PATTERNS, ids=[p[0][:60] for p in PATTERNS])
def test_every_placeholder_of_a_msgid_is_in_its_msgstr_and_the_other_way_round(msgid: str, msgstr: str) -> None:
    assert placeholders(msgid) == placeholders(msgstr)


def test_the_patterns_of_reasons_po_are_loaded_in_the_order_of_the_file() -> None:
    loaded = [(p.msgid, p.msgstr) for p in i18n.reason_patterns("de")]
    assert [p for p in loaded if p in PATTERNS] == PATTERNS
    assert len(PATTERNS) >= 40


def test_a_msgid_of_placeholders_alone_is_refused_since_it_would_match_every_text() -> None:
    with pytest.raises(ValueError, match="literal text"):
        i18n.compile_pattern("{what}{why}")


GERMAN: list[tuple[Callable[[], str], str]] = [
    (
        lambda: refused_secret(K.PIN, "5731"),
        "abgelehnt: die PIN enthält 4 Ziffern in Folge aus der Kontonummer",
    ),
    (
        lambda: refused_secret(K.PIN, "5550143"),
        "abgelehnt: die PIN enthält 4 Ziffern in Folge aus einer Telefonnummer Ihres Kontos",
    ),
    (
        lambda: refused_secret(K.PASSWORD, "harbour 0143 lights"),
        "abgelehnt: das Passwort enthält 4 Ziffern in Folge aus einer Telefonnummer Ihres Kontos",
    ),
    (
        lambda: refused_secret(K.BACKUP_ANSWER, "box 62704"),
        "abgelehnt: die Sicherheitsantwort enthält 4 Ziffern in Folge aus einer Postanschrift Ihres Kontos",
    ),
    (
        lambda: refused_secret(K.PIN, "1111"),
        "abgelehnt: die PIN ist zu leicht zu erraten (eine Ziffer wiederholt, ein wiederholtes Muster oder eine "
        "gerade Folge)",
    ),
    (
        lambda: refused_secret(K.PIN, "0412"),
        "abgelehnt: die PIN sieht aus wie ein Datum, etwa ein Geburtsdatum",
    ),
    (
        lambda: refused_secret(K.PASSWORD, "Maria Lopez-Garcia"),
        "abgelehnt: das Passwort ist der Name des Kontoinhabers oder ein Teil davon",
    ),
    (
        lambda: refused_secret(K.BACKUP_ANSWER, "maria.lopez"),
        "abgelehnt: die Sicherheitsantwort ist eine E-Mail-Adresse Ihres Kontos oder ein Teil davon",
    ),
    (lambda: refusal(lambda: normalise_secret(K.PIN, "12")), "eine PIN besteht aus 4 bis 8 Ziffern"),
    (lambda: refusal(lambda: normalise_secret(K.PASSWORD, "short")), "ein Passwort muss 10 bis 200 Zeichen haben"),
    (
        lambda: refusal(lambda: normalise_secret(K.BACKUP_ANSWER, "ab")),
        "die Sicherheitsantwort muss 3 bis 200 Zeichen haben",
    ),
    (lambda: refusal(lambda: check_backup_question("Pet?")), "die Sicherheitsfrage muss 10 bis 200 Zeichen haben"),
    (
        lambda: refusal(lambda: check_backup_question("What is your mother's maiden name?")),
        "eine Sicherheitsfrage darf nicht nach dem Geburtsnamen der Mutter fragen: das sind leicht zugängliche "
        "persönliche oder Kontoangaben",
    ),
    (
        lambda: refusal(lambda: normalise_email("not an address")),
        "keine gültige E-Mail-Adresse: 'not an address' (Eine E-Mail-Adresse braucht ein @-Zeichen.)",
    ),
    (
        lambda: refusal(lambda: normalise_email("ada@example")),
        "keine gültige E-Mail-Adresse: 'ada@example' (Der Teil nach dem @-Zeichen ist ungültig: Er braucht "
        "einen Punkt.)",
    ),
    (
        lambda: refusal(lambda: normalise_email("ada @example.com")),
        "keine gültige E-Mail-Adresse: 'ada @example.com' (Vor dem @-Zeichen stehen ungültige Zeichen: Leerzeichen.)",
    ),
    (
        lambda: refusal(lambda: normalise_email("ada..lovelace@example.com")),
        "keine gültige E-Mail-Adresse: 'ada..lovelace@example.com' (Eine E-Mail-Adresse darf keine zwei Punkte "
        "hintereinander enthalten.)",
    ),
    (
        lambda: refusal(lambda: normalise_telephone_number("2025550123")),
        "keine Telefonnummer im Format E.164 (wie +12025550123): '2025550123'",
    ),
    (
        lambda: refusal(lambda: normalise_telephone_number("+1202555012345")),
        "keine gültige Telefonnummer im Format E.164: '+1202555012345'",
    ),
    (lambda: refusal(lambda: normalise_postal_address("Elm")), "die Postanschrift muss 5 bis 400 Zeichen haben"),
    (lambda: refusal(lambda: clean_text("a\x00b", "a summary", 1, 4000)), "die Nachricht enthält Steuerzeichen"),
    (lambda: refusal(lambda: clean_text(" ", "a reason", 1, 2000)), "die Begründung muss 1 bis 2000 Zeichen haben"),
    (
        lambda: REFUSED,
        "der Name oder das Passwort ist falsch, oder die Anmeldung ist nach mehreren Fehlversuchen vorübergehend "
        "gesperrt",
    ),
    (lambda: refusal(lambda: parse_customer_id("x")), "unbekannter Kunde: 'x'"),
    (lambda: refusal(lambda: parse_uuid("x", "call session")), "unbekannte Anrufsitzung: 'x'"),
    (lambda: refusal(lambda: parse_uuid("x", "campaign")), "unbekannte Kampagne: 'x'"),
    (lambda: refusal(lambda: parse_uuid("x", "breach incident")), "unbekannter Vorfall: 'x'"),
    (
        lambda: refusal(lambda: parse_enum(RouteKind, "fax", "release route")),
        "unbekannter Weg der Herausgabe 'fax' (möglich: discuss, callback, send-email, send-letter, single-call)",
    ),
    (
        lambda: refusal(lambda: parse_enum(CredentialKind, "voiceprint", "credential kind")),
        "unbekannte Art des Nachweises 'voiceprint' (möglich: password, pin, backup-answer)",
    ),
    (
        lambda: refusal(lambda: _chosen([], RouteKind.DISCUSS, None)),
        "dieser Weg ist in dieser Sitzung nicht offen (offen: keine)",
    ),
    (
        lambda: refusal(lambda: review_problem("bob", frozenset({"marketing"}), a_campaign())),
        "bob darf keine Kampagnen prüfen: dafür ist die Rolle cro oder supervisor nötig (SAFE-4)",
    ),
    (
        lambda: refusal(lambda: review_problem("mia", frozenset({"cro"}), a_campaign("mia"))),
        "eine Kampagne kann nicht von der Person genehmigt werden, die sie angelegt oder eingereicht hat (SAFE-4)",
    ),
    (
        lambda: refusal(lambda: a_campaign().moved(CampaignStatus.APPROVED)),
        "eine Kampagne im Status draft kann nicht in den Status approved wechseln",
    ),
    (
        lambda: refusal(lambda: replace(a_campaign(), status=CampaignStatus.ARCHIVED).moved(CampaignStatus.DRAFT)),
        "eine Kampagne im Status archived kann nicht in den Status draft wechseln",
    ),
    (
        lambda: refusal(lambda: parse_when("yesterday")),
        "kein Datum und kein Zeitpunkt nach ISO 8601: 'yesterday'",
    ),
    (
        lambda: refusal(lambda: parse_data_types(["gossip"])),
        "unbekannte oder keine Datenart: gossip (möglich: account-credentials, bills, biometric, call-detail, "
        "contact, financial, government-id, location, name, services, usage)",
    ),
    (
        lambda: refusal(lambda: check_new(an_incident(cpni_description="", other_data_description="names"))),
        "zu den Datenarten gehören CPNI: beschreiben Sie die betroffenen CPNI (BREACH-6)",
    ),
    (
        lambda: refusal(lambda: check_new(an_incident(cpni_description=""))),
        "beschreiben Sie die betroffenen Daten: die CPNI, andere personenbezogene Daten oder beides (BREACH-6)",
    ),
    (
        lambda: refusal(lambda: set_affected(an_incident(), 3, "")),
        "geben Sie an, wie die Zahl der betroffenen Kunden ermittelt wurde (BREACH23-10)",
    ),
    (
        lambda: refusal(lambda: an_incident().facts()),
        "der Vorfall hat noch keine begründete Feststellung: seine Fristen laufen noch nicht (AMB-13)",
    ),
    (
        lambda: refusal(lambda: check_new(an_incident(intent=Intent.GOOD_FAITH))),
        "die Ausnahme für Handeln in gutem Glauben braucht ihre Begründung (BREACH23-1)",
    ),
    (
        lambda: refusal(lambda: check_new(an_incident(incident_start=date(2026, 3, 2), incident_end=date(2026, 3, 1)))),
        "der Vorfall kann nicht enden, bevor er begonnen hat",
    ),
    (
        lambda: refusal(lambda: determine(an_incident(), datetime(2026, 3, 1, tzinfo=UTC), "pat", "because")),
        "die Feststellung kann nicht vor der Entdeckung liegen (AMB-13)",
    ),
    (
        lambda: refusal(lambda: determine(replace(an_incident(), determined_at=AT), AT, "pat", "because")),
        "die Feststellung ist bereits erfasst (2026-03-31T16:00:00+00:00)",
    ),
    (lambda: refusal(lambda: _customer("nope")), "eine Kunden-ID ist eine UUID: 'nope' ist keine"),
    (
        lambda: refusal(lambda: _date("1 March", "the start of the range")),
        "der Beginn des Zeitraums ist kein Datum (JJJJ-MM-TT)",
    ),
]


@pytest.mark.parametrize(("english", "german"), GERMAN, ids=[g[1][:50] for g in GERMAN])
def test_a_real_refusal_reads_in_german_and_stays_as_it_is_in_english(english: Callable[[], str], german: str) -> None:
    text = english()
    assert i18n.reason(text, "de") == german
    assert i18n.reason(text, "en") == text


QUESTIONS = [
    "When is your birthday?",
    "Wann sind Sie geboren worden?",
    "What is your SSN?",
    "What is your mother's maiden name?",
    "What is your home address?",
    "What is your ZIP code?",
    "What is your account number?",
    "What is your phone number?",
    "What are the last 4 digits of your card?",
    "What was the amount of your last bill?",
]


def test_every_kind_of_forbidden_backup_question_has_its_german_refusal_auth_8() -> None:
    refusals = {refusal(lambda q=q: check_backup_question(q)) for q in QUESTIONS}  # type: ignore[misc]
    assert len(refusals) == len({what for _, what in FORBIDDEN_PROMPTS})
    untranslated = sorted(text for text in refusals if i18n.reason(text, "de") == text)
    assert untranslated == []


def test_a_validator_detail_without_german_words_stays_english_inside_the_german_sentence() -> None:
    text = refusal(lambda: normalise_email("ada@ex--ample.com"))
    german = i18n.reason(text, "de")
    assert german.startswith("keine gültige E-Mail-Adresse: 'ada@ex--ample.com' (An email address cannot")


def test_a_text_the_catalogue_does_not_know_is_given_back_unchanged_braces_and_all() -> None:
    assert i18n.reason("something went sideways", "de") == "something went sideways"
    assert i18n.reason("unknown customer: {x}", "de") == "unbekannter Kunde: {x}"
    assert i18n.reason("", "de") == ""
