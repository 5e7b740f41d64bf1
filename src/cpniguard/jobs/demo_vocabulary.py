"""Words the demo carrier is made of: names, streets and the regions its numbers come from.

Emails use the domains reserved for examples (RFC 2606), so no demo message can reach a
real mailbox even if an outbox is ever delivered by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Region:
    area_code: int
    city: str
    state: str
    zip_prefix: str


# Area codes libphonenumber accepts for every exchange 2xx-9xx (checked by a test).
REGIONS: tuple[Region, ...] = (
    Region(202, "Washington", "DC", "200"),
    Region(212, "New York", "NY", "100"),
    Region(646, "New York", "NY", "101"),
    Region(718, "Brooklyn", "NY", "112"),
    Region(917, "New York", "NY", "102"),
    Region(312, "Chicago", "IL", "606"),
    Region(773, "Chicago", "IL", "606"),
    Region(415, "San Francisco", "CA", "941"),
    Region(617, "Boston", "MA", "021"),
    Region(213, "Los Angeles", "CA", "900"),
    Region(310, "Santa Monica", "CA", "904"),
    Region(305, "Miami", "FL", "331"),
    Region(404, "Atlanta", "GA", "303"),
    Region(512, "Austin", "TX", "787"),
    Region(206, "Seattle", "WA", "981"),
    Region(303, "Denver", "CO", "802"),
    Region(702, "Las Vegas", "NV", "891"),
    Region(713, "Houston", "TX", "770"),
    Region(214, "Dallas", "TX", "752"),
    Region(602, "Phoenix", "AZ", "850"),
)

# N11 codes are service codes and 555 holds the fictional 555-01xx block: neither is dialled.
EXCHANGES: tuple[int, ...] = tuple(x for x in range(200, 1000) if x % 100 != 11 and x != 555)

FIRST_NAMES_EN = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Ashley",
    "Andrew", "Emily", "Joshua", "Michelle", "Kevin", "Amanda", "Brian", "Melissa", "Jamal", "Rosa",
    "Wei", "Priya", "Carlos", "Aisha", "Hiroshi", "Fatima",
)  # fmt: skip
LAST_NAMES_EN = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Nguyen", "Hill", "Flores", "Green", "Patel", "Kim",
)  # fmt: skip
FIRST_NAMES_DE = (
    "Jürgen", "Ursula", "Klaus", "Monika", "Stefan", "Sabine", "Andreas", "Petra", "Thomas", "Gabriele",
    "Michael", "Birgit", "Wolfgang", "Renate", "Matthias", "Katrin", "Jörg", "Heike", "Lukas", "Anna",
    "Felix", "Lea", "Maximilian", "Sophie", "Jonas", "Marie", "Günter", "Käthe",
)  # fmt: skip
LAST_NAMES_DE = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Weiß", "Köhler", "Groß",
)  # fmt: skip
BUSINESS_TRADES = (
    "Dental Group", "Logistics", "Law Offices", "Bakery", "Auto Repair", "Realty", "Veterinary Clinic",
    "Accounting", "Construction", "Print Shop", "Architects", "Plumbing", "Insurance Agency", "Pharmacy",
    "Coffee Roasters", "Consulting", "Landscaping", "Family Medicine", "Brewing Company", "Engineering",
)  # fmt: skip
BUSINESS_FORMS = ("LLC", "Inc.", "Co.", "LLP", "Partners")
GERMAN_BUSINESS_FORM = "GmbH & Co. KG"
STREETS = (
    "Main", "Oak", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Pine", "Walnut", "Sunset",
    "Lincoln", "Jackson", "Highland", "Church", "Willow", "Mill", "River", "Spring", "Ridge", "Chestnut",
)  # fmt: skip
STREET_KINDS = ("St", "Ave", "Blvd", "Rd", "Ln", "Dr", "Ct", "Pl", "Way")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# ASCII spellings for the local part of an email address (German convention: ü -> ue).
ASCII_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def email_local_part(*words: str) -> str:
    joined = ".".join(w.translate(ASCII_FOLD).lower() for w in words)
    return "".join(ch for ch in joined.replace(" ", "-") if ch.isalnum() or ch in ".-")
