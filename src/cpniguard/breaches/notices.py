"""What the notices of a breach must say: the agency notice staff submit through the central
reporting facility (BREACH23-4) and the customer notice, in English and German (BREACH23-9).
Our own words throughout; the customer notice never repeats the breached values themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from cpniguard.breaches.clocks import Deadlines
from cpniguard.breaches.model import IDENTITY_THEFT, Incident
from cpniguard.customers.model import Customer
from cpniguard.errors import Conflict
from cpniguard.ids import new_id
from cpniguard.notifications.model import Channel, Notice, NoticeEvent, notice_route
from cpniguard.notifications.service import Letterhead
from cpniguard.notifications.texts import DEFAULTS

NONE_OR_UNKNOWN = ("none", "unknown")


@dataclass(frozen=True, slots=True)
class AgencyNotice:
    """BREACH23-4 (i)-(vii), and BREACH-3's statement of an urgent need to tell customers sooner."""

    carrier_contact: str
    description: str
    method_of_compromise: str
    date_range: str
    approximate_customers: str
    financial_loss: str
    data_types: str
    urgent_need: bool
    recipients: tuple[str, ...]

    def missing(self) -> list[str]:
        """The required fields still empty; (vi) may say none or unknown, but not nothing."""
        fields = asdict(self)
        return [name for name in REQUIRED_FIELDS if not str(fields[name]).strip()]


REQUIRED_FIELDS = (
    "carrier_contact",
    "description",
    "method_of_compromise",
    "date_range",
    "approximate_customers",
    "financial_loss",
    "data_types",
)


def agency_notice(incident: Incident, clocks: Deadlines, carrier_contact: str) -> AgencyNotice:
    start, end = incident.incident_start, incident.incident_end
    date_range = f"{start.isoformat()} to {end.isoformat() if end else 'ongoing'}" if start else ""
    count = incident.affected_count
    return AgencyNotice(
        carrier_contact,
        f"{incident.title}. {incident.circumstances}".strip(),
        incident.method_of_compromise,
        date_range,
        "unknown" if count is None else str(count),
        incident.financial_loss,
        ", ".join(incident.data_types),
        incident.urgent_need,
        clocks.agency_recipients,
    )


DATA_WORDS = {
    "en": {
        "call-detail": "records of your calls",
        "bills": "your bills",
        "services": "the services you buy from us",
        "usage": "how much you use your services",
        "location": "where your device was used",
        "name": "your name",
        "government-id": "a government identity number",
        "account-credentials": "sign-in details of your online account",
        "biometric": "biometric data",
        "financial": "payment or bank details",
        "contact": "your contact details",
    },
    "de": {
        "call-detail": "Ihre Verbindungsdaten",
        "bills": "Ihre Rechnungen",
        "services": "die Dienste, die Sie bei uns nutzen",
        "usage": "den Umfang Ihrer Nutzung",
        "location": "Standortdaten Ihres Geräts",
        "name": "Ihren Namen",
        "government-id": "eine amtliche Ausweisnummer",
        "account-credentials": "Anmeldedaten Ihres Online-Kontos",
        "biometric": "biometrische Daten",
        "financial": "Zahlungs- oder Bankdaten",
        "contact": "Ihre Kontaktdaten",
    },
}

# BREACH23-9: the six blocks, in order; {identity} is empty unless the data calls for it.
TEXTS = {
    "en": (
        "Important: information about your account was exposed",
        "{carrier}: we are writing about a security incident that affected your account.\n\n"
        "What happened: around {when}, someone gained access to information we hold about you "
        "without permission.\n\n"
        "What was involved: {what}.\n\n"
        "Questions: call {support} and mention this letter.\n\n"
        "You can also contact the Federal Communications Commission (fcc.gov/complaints, "
        "1-888-225-5322), the Federal Trade Commission (reportfraud.ftc.gov, 1-877-438-4338) "
        "or your state's public utility commission or attorney general.\n\n"
        "{identity}"
        "What you can do: change your account PIN and password, be wary of callers who ask "
        "about your account, and check your bills for anything you do not recognise.",
    ),
    "de": (
        "Wichtig: Daten zu Ihrem Kundenkonto waren ungeschützt",
        "{carrier}: Wir informieren Sie über einen Sicherheitsvorfall, der Ihr Kundenkonto betrifft.\n\n"
        "Was geschah: Um den {when} hat sich jemand unbefugt Zugang zu Daten verschafft, die wir "
        "über Sie speichern.\n\n"
        "Betroffen sind: {what}.\n\n"
        "Fragen: Rufen Sie {support} an und nennen Sie dieses Schreiben.\n\n"
        "Sie können sich auch an die Federal Communications Commission (fcc.gov/complaints, "
        "1-888-225-5322), die Federal Trade Commission (reportfraud.ftc.gov, 1-877-438-4338) oder "
        "an die Regulierungsbehörde oder den Attorney General Ihres Bundesstaats wenden.\n\n"
        "{identity}"
        "Was Sie tun können: Ändern Sie PIN und Passwort Ihres Kontos, seien Sie vorsichtig bei "
        "Anrufern, die nach Ihrem Konto fragen, und prüfen Sie Ihre Rechnungen auf Unbekanntes.",
    ),
}

IDENTITY = {
    "en": "Identity theft: you can place a free fraud alert or security freeze with the national "
    "credit bureaus: Equifax (equifax.com, 1-800-685-1111), Experian (experian.com, 1-888-397-3742) "
    "and TransUnion (transunion.com, 1-888-909-8872). {monitoring}\n\n",
    "de": "Identitätsdiebstahl: Sie können bei den landesweiten Auskunfteien kostenlos einen "
    "Betrugshinweis oder eine Kreditsperre einrichten lassen: Equifax (equifax.com, "
    "1-800-685-1111), Experian (experian.com, 1-888-397-3742) und TransUnion (transunion.com, "
    "1-888-909-8872). {monitoring}\n\n",
}


def customer_notice(
    incident: Incident, customer: Customer, at: datetime, letterhead: Letterhead, monitoring: str = ""
) -> Notice | None:
    """The notice to one affected customer, by email or letter to the contacts of record (too
    long for a text message); None when the customer has neither."""
    try:
        stops = notice_route(customer, at)
    except Conflict:  # no contact of record at all
        return None
    route = tuple(stop for stop in stops if stop.channel in (Channel.EMAIL, Channel.LETTER))
    if not route:
        return None
    lang = customer.language.value if customer.language.value in TEXTS else "en"
    subject, body = TEXTS[lang]
    carrier, support = DEFAULTS[lang]
    identity = IDENTITY[lang].format(monitoring=monitoring) if set(incident.data_types) & IDENTITY_THEFT else ""
    text = body.format(
        carrier=letterhead.carrier or carrier,
        support=letterhead.support or support,
        when=_when(incident, lang),
        what=", ".join(DATA_WORDS[lang][kind] for kind in incident.data_types),
        identity=identity,
    )
    return Notice(new_id(), at, customer.id, NoticeEvent.BREACH_NOTICE, lang, route, subject, text)


def _when(incident: Incident, lang: str) -> str:
    day = incident.incident_start or (incident.determined_at or incident.discovered_at).date()
    return day.strftime("%d.%m.%Y") if lang == "de" else day.strftime("%B %-d, %Y")
