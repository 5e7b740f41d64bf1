"""DEF-8, AUTH-6: in person, CPNI is disclosed only after a valid photo ID that matches the
account is shown."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from cpniguard.auth.model import folded_words
from cpniguard.calendar import eastern_date
from cpniguard.customers.model import Customer


class PhotoIdKind(StrEnum):
    """Government-issued identification with a photograph (DEF-8)."""

    DRIVERS_LICENCE = "drivers-licence"
    PASSPORT = "passport"
    STATE_ID = "state-id"
    MILITARY_ID = "military-id"
    PERMANENT_RESIDENT_CARD = "permanent-resident-card"


@dataclass(frozen=True, slots=True)
class PhotoId:
    kind: PhotoIdKind
    name: str
    expires_on: date


def photo_id_problem(
    photo_id: PhotoId, customer: Customer, at: datetime, authorised_users: Sequence[str] = ()
) -> str | None:
    """Why the ID does not let its bearer see the account's CPNI, or None when it does. The
    ID is valid through its expiry date, counted in Eastern calendar days. The name must be
    the account holder's or an authorised user's, in any word order, ignoring case, accents
    and punctuation."""
    if photo_id.expires_on < eastern_date(at):
        return f"the photo ID expired on {photo_id.expires_on.isoformat()}"
    shown = Counter(folded_words(photo_id.name))
    if not shown or all(shown != Counter(folded_words(n)) for n in (customer.name, *authorised_users)):
        return "the name on the photo ID does not match the account holder"
    return None
