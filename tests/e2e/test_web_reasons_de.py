"""A German visitor reads the domain's refusals, details and all, in German: in the portal
(a PIN built from the account number, an email address the validator refuses) and in the
console (a campaign reviewed by its own maker, an audit search with a date that is none)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from cpniguard.customers.model import Customer
from tests.conftest import a_customer
from tests.e2e.test_web_office import csrf, signed_in, submitted
from tests.e2e.test_web_portal import LONG_AGO, csrf_of, last_code, register, sign_in

GERMAN = {"accept-language": "de-DE,de;q=0.9"}
# The customer's id is their account number (DEF-4); this one holds the run of digits 5731.
ACCOUNT = uuid.UUID("abcdefab-cdef-4bcd-abcd-ef5731abcdef")


@pytest.fixture
def german_customer(app: App, actor: Actor, monkeypatch: pytest.MonkeyPatch) -> tuple[TestClient, Customer, str]:
    """Ada, whose account number is ACCOUNT, registered and signed in on German pages; answers
    the client, Ada and the session's form token."""
    ids = iter([ACCOUNT])
    monkeypatch.setattr("cpniguard.customers.service.new_id", lambda: next(ids, None) or uuid.uuid4())
    ada = a_customer(app, actor, at=LONG_AGO)
    assert ada.id == ACCOUNT
    client = TestClient(create_app(app), base_url="https://testserver", follow_redirects=False, headers=GERMAN)
    register(client, app, ada)
    assert sign_in(client).status_code == 303
    return client, ada, csrf_of(client.get("/portal/security"))


def test_a_german_customer_choosing_a_pin_from_the_account_number_reads_why_in_german_auth_7(
    app: App, german_customer: tuple[TestClient, Customer, str]
) -> None:
    client, ada, token = german_customer
    client.post("/portal/security/code", data={"csrf": token})
    form = {"code": last_code(app, ada), "secret": "5731", "secret_again": "5731", "csrf": token}
    refused = client.post("/portal/security/pin", data=form)
    assert refused.status_code == 422
    assert '<html lang="de">' in refused.text
    assert "abgelehnt: die PIN enthält 4 Ziffern in Folge aus der Kontonummer" in refused.text
    assert "repeats" not in refused.text and "AUTH-7" not in refused.text


def test_a_german_customer_giving_an_email_address_without_an_at_sign_reads_the_validator_in_german(
    german_customer: tuple[TestClient, Customer, str],
) -> None:
    client, _, token = german_customer
    refused = client.post("/portal/addresses/email", data={"value": "ada.example.org", "csrf": token})
    assert refused.status_code == 422
    assert "keine gültige E-Mail-Adresse: &#39;ada.example.org&#39;" in refused.text
    assert "(Eine E-Mail-Adresse braucht ein @-Zeichen.)" in refused.text


def test_a_german_cro_reviewing_a_campaign_of_their_own_reads_the_refusal_in_german_safe_4(
    app: App, actor: Actor
) -> None:
    cro = signed_in(app, actor, "carl", "cro")
    campaign = submitted(app, "carl")
    cro.headers.update(GERMAN)
    form = {"csrf": csrf(cro, f"/console/campaigns/{campaign}"), "decision": "approve", "reason": "fine"}
    refused = cro.post(f"/console/campaigns/{campaign}/review", data=form)
    assert refused.status_code == 403
    assert "eine Kampagne kann nicht von der Person genehmigt werden, die sie angelegt oder eingereicht hat" in (
        refused.text
    )


def test_a_german_auditor_searching_from_a_date_that_is_none_reads_why_in_german(app: App, actor: Actor) -> None:
    auditor = signed_in(app, actor, "aud", "auditor")
    refused = auditor.get("/console/audit", params={"first": "1 March"}, headers=GERMAN)
    assert refused.status_code == 422
    assert "der Beginn des Zeitraums ist kein Datum (JJJJ-MM-TT)" in refused.text
