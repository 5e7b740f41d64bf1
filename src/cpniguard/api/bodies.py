"""Request bodies. Enumerations use the domain's own enums, so /openapi.json lists the values.

Unknown fields are refused rather than ignored: a misspelt `at` or `reference` would
otherwise be decided silently for another moment or without the order it names.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from cpniguard.api.deps import WHEN_HELP
from cpniguard.consent.model import Channel, ConsentEventKind
from cpniguard.customers.model import CustomerKind, Language, ListingStatus, ServiceCategory
from cpniguard.customers.service import NewCustomer
from cpniguard.decisions.model import Purpose, Request

# The contacts table holds 400 characters; SQLite would keep a longer value, PostgreSQL would not.
PostalAddress = Annotated[str, Field(max_length=400)]
When = Annotated[str | None, Field(description=WHEN_HELP, examples=["2026-04-02", "2026-03-02T10:00:00-05:00"])]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomerIn(Body):
    name: str = Field(examples=["Ada Lovelace"])
    telephone_numbers: list[str] = Field(
        min_length=1, description="E.164; the first is the number of the services", examples=[["+12025550123"]]
    )
    emails: list[str] = Field(default_factory=list, description="Of record after 30 days on the account (DEF-5)")
    postal_addresses: list[PostalAddress] = Field(default_factory=list, description="One line each")
    services: list[ServiceCategory] = Field(default_factory=lambda: [ServiceCategory.LOCAL])
    business: bool = False
    language: Language = Language.EN
    listing_status: ListingStatus = ListingStatus.NON_PUBLISHED
    at: When = None

    def spec(self) -> NewCustomer:
        return NewCustomer(
            name=self.name,
            telephone_numbers=tuple(self.telephone_numbers),
            emails=tuple(self.emails),
            postal_addresses=tuple(self.postal_addresses),
            services=tuple(self.services),
            kind=CustomerKind.BUSINESS if self.business else CustomerKind.RESIDENTIAL,
            language=self.language,
            listing_status=self.listing_status,
        )


class ConsentEventIn(Body):
    event: ConsentEventKind
    channel: Channel
    at: When = None
    evidence: str = Field(default="", description="Where the proof is: message id, recording, signed form")


class CheckIn(Body):
    purpose: Purpose
    reference: str | None = Field(default=None, description="legal-process: the order or subpoena")
    offer: ServiceCategory | None = Field(default=None, description="marketing-subscribed: the category offered")
    at: When = None

    def request(self) -> Request:
        return Request(self.purpose, self.reference, self.offer)


class BatchCheckIn(CheckIn):
    customers: list[uuid.UUID] | None = Field(default=None, description="Every customer when absent")
    include_ids: bool = Field(default=False, description="List the allowed customers in the answer")
