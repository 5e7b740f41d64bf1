"""The later steps of a breach on the privacy officer's incident page, through TestClient on both
databases: affected customers, harm, triage notes, the agency notice's submission, the BREACH-3
consultation, an agency's written direction, the customer notices and closing. Each success
redirects to the incident page; each refusal shows the form again with the reason and writes
nothing; a form without its CSRF token, or from a role outside ROUTE_ROLES, gets a 403."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.customers.model import Customer
from cpniguard.notifications.model import NoticeEvent
from tests.conftest import T0, a_customer
from tests.e2e.test_web_office import INCIDENT, csrf, ledger, signed_in


@pytest.fixture
def carrier(app: App) -> App:
    """The app of a carrier that has set its name, address and support line (BREACH23-4(i))."""
    settings = replace(
        app.settings,
        carrier_name="Acme Telephone",
        carrier_address="1 Main St, Springfield, IL 62701",
        support_line="+1 800 555 0100",
    )
    return replace(app, settings=settings)


@pytest.fixture
def customer(app: App, actor: Actor) -> Customer:
    return a_customer(app, actor, at=T0 - timedelta(days=60))  # contacts of record 60 days old


def opened(officer: TestClient, **changes: object) -> tuple[str, str]:
    """A recorded and determined incident: (its page, the form token)."""
    token = csrf(officer, "/console/breaches")
    made = officer.post("/console/breaches", data={**INCIDENT, **changes, "csrf": token}, follow_redirects=False)
    assert made.status_code == 303, made.text
    return made.headers["location"], token


def step(officer: TestClient, path: str, form: dict[str, object], **kwargs: object) -> None:
    done = officer.post(path, data=form, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
    assert done.status_code == 303, done.text
    assert done.headers["location"] == path.rsplit("/", 1)[0]


SUBMISSION = {"submitted_at": "2026-03-02T09:00", "recipients": ["FCC", "USSS", "FBI"], "reference": "CRF-123"}


def test_breach_3_an_urgent_breach_goes_from_triage_to_closing_through_the_incident_page(
    carrier: App, actor: Actor, customer: Customer
) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, token = opened(officer, urgent_need="yes")
    step(officer, f"{path}/notes", {"csrf": token, "text": "The caller knew the account PIN"})
    step(officer, f"{path}/harm", {"csrf": token, "harm_likely": "yes", "reasoning": "stalking", "decided_by": "pat"})
    affected = {"csrf": token, "count": "1", "basis": "one account called", "customers": f"{customer.id}\n"}
    step(officer, f"{path}/affected", affected)
    page = officer.get(path).text
    assert "1 (1 listed): one account called" in page and "yes (pat): stalking" in page
    assert "triage-note: The caller knew the account PIN" in page
    assert 'id="agency-notice-form"' in page and 'id="consultation-form"' not in page
    step(officer, f"{path}/agency-notice", {**SUBMISSION, "csrf": token})
    page = officer.get(path).text
    assert 'id="agency-notice-form"' not in page and "(FBI, FCC, USSS)" in page
    step(officer, f"{path}/consultations", {"csrf": token, "at": "2026-03-02T09:30", "agency": "FBI", "person": "Dana"})
    step(officer, f"{path}/customer-notices", {"csrf": token, "monitoring": ""})  # BREACH-3: no hold after it
    assert "(1 queued)" in officer.get(path).text
    with carrier.uow() as uow:
        assert [r.notice.event for r in uow.outbox.notices(customer.id, 100)].count(NoticeEvent.BREACH_NOTICE) == 1
    step(officer, f"{path}/close", {"csrf": token, "closed_at": ""})
    page = officer.get(path).text
    assert "closed Mar 2, 2026" in page and "Next steps" not in page
    steps = ("triage-note", "harm-assessed", "affected-set", "agency-notice", "agency-consulted", "closed")
    assert [ledger(carrier, f"breaches:{kind}:recorded") for kind in steps] == [1] * len(steps)
    assert ledger(carrier, "breaches:customer-notices:recorded") == 1


def test_breach_4_a_written_direction_is_uploaded_as_a_file_and_its_all_clear_follows(
    carrier: App, actor: Actor
) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, token = opened(officer)
    order = {"csrf": token, "kind": "directed", "agency": "FBI", "received_at": "2026-03-02T08:00", "days": "30"}
    step(officer, f"{path}/directions", order, files={"document": ("order.pdf", b"%PDF- order", "application/pdf")})
    page = officer.get(path).text
    assert "directed from FBI" in page and "SHA-256" in page
    assert 'value="ended"' in page and 'value="directed"' not in page  # a delay is in force
    ended = {"csrf": token, "kind": "ended", "agency": "FBI"}
    step(officer, f"{path}/directions", ended, files={"document": ("clear.pdf", b"%PDF- clear", "application/pdf")})
    assert "ended from FBI" in officer.get(path).text
    assert ledger(carrier, "breaches:agency-direction:recorded") == 2


def test_breach23_4_the_submission_is_refused_while_the_carrier_contact_is_missing_and_nothing_is_written(
    app: App, actor: Actor
) -> None:
    officer = signed_in(app, actor, "pat", "privacy-officer")
    path, token = opened(officer)
    refused = officer.post(f"{path}/agency-notice", data={**SUBMISSION, "csrf": token})
    assert refused.status_code == 422 and "the agency notice lacks: carrier_contact" in refused.text
    assert 'id="agency-notice-form"' in refused.text and 'value="CRF-123"' in refused.text  # the form again
    assert ledger(app, "breaches:agency-notice") == 0
    assert 'id="agency-notice-form"' in officer.get(path).text  # still to record


def test_breach23_3_a_submission_that_leaves_out_a_recipient_is_refused_with_422(carrier: App, actor: Actor) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, token = opened(officer)
    refused = officer.post(f"{path}/agency-notice", data={**SUBMISSION, "recipients": ["FCC", "USSS"], "csrf": token})
    assert refused.status_code == 422 and "missing: FBI" in refused.text
    assert ledger(carrier, "breaches:agency-notice") == 0


def test_breach_2_customer_notices_before_the_agency_notice_are_refused_with_409_and_none_is_queued(
    carrier: App, actor: Actor, customer: Customer
) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, token = opened(officer)
    step(officer, f"{path}/affected", {"csrf": token, "count": "1", "basis": "one", "customers": str(customer.id)})
    assert "Customer notices cannot go yet" in officer.get(path).text  # no form while it would be refused
    refused = officer.post(f"{path}/customer-notices", data={"csrf": token})
    assert refused.status_code == 409 and "only after the agency notice is recorded" in refused.text
    assert ledger(carrier, "breaches:customer-notices") == 0
    with carrier.uow() as uow:
        assert not [r for r in uow.outbox.notices(customer.id, 100) if r.notice.event is NoticeEvent.BREACH_NOTICE]


def test_breach_1_closing_before_the_agency_notice_is_refused_with_409(carrier: App, actor: Actor) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, token = opened(officer)
    refused = officer.post(f"{path}/close", data={"csrf": token})
    assert refused.status_code == 409 and "the agency notice is not on record" in refused.text
    assert ledger(carrier, "breaches:closed") == 0 and "Next steps" in officer.get(path).text


def test_breach23_10_a_count_below_the_customers_listed_is_refused_and_nobody_is_listed(
    carrier: App, actor: Actor, customer: Customer
) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, token = opened(officer)
    form = {"csrf": token, "count": "0", "basis": "print log", "customers": str(customer.id)}
    refused = officer.post(f"{path}/affected", data=form)
    assert refused.status_code == 422 and "the count cannot be lower" in refused.text
    assert ">print log</textarea>" in refused.text
    assert ledger(carrier, "breaches:affected-set") == 0
    assert "unknown (0 listed)" in officer.get(path).text


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"count": "", "basis": "b"}, "or mark it unknown"),
        ({"count": "3", "unknown": "yes", "basis": "b"}, "not both"),
        ({"count": "many", "basis": "b"}, "not a whole number"),
    ],
)
def test_breach23_5_the_count_is_a_number_or_unknown_said_in_so_many_words(
    carrier: App, actor: Actor, form: dict[str, str], reason: str
) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, token = opened(officer)
    refused = officer.post(f"{path}/affected", data={**form, "csrf": token})
    assert refused.status_code == 422 and reason in refused.text
    step(officer, f"{path}/affected", {"csrf": token, "unknown": "yes", "basis": "logs still being read"})
    assert "unknown (0 listed): logs still being read" in officer.get(path).text


def test_breach23_8_a_finding_of_no_harm_without_its_evidence_is_refused_with_422(carrier: App, actor: Actor) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, token = opened(officer)
    form = {"csrf": token, "harm_likely": "no", "reasoning": "encrypted", "decided_by": "pat"}
    refused = officer.post(f"{path}/harm", data=form)
    assert refused.status_code == 422 and "BREACH23-8" in refused.text
    assert ledger(carrier, "breaches:harm-assessed") == 0 and "not assessed yet" in officer.get(path).text


def test_breach_4_a_direction_without_its_document_is_refused_and_nothing_is_stored(carrier: App, actor: Actor) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, token = opened(officer)
    order = {"csrf": token, "kind": "directed", "agency": "FBI", "days": "30"}
    refused = officer.post(f"{path}/directions", data=order, files={"document": ("", b"", "application/pdf")})
    assert refused.status_code == 422 and "written document attached" in refused.text
    assert ledger(carrier, "breaches:agency-direction") == 0
    assert "No document is on record." in officer.get(path).text


def test_breach_3_a_consultation_without_a_stated_urgent_need_is_refused_with_409(carrier: App, actor: Actor) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, token = opened(officer)
    step(officer, f"{path}/agency-notice", {**SUBMISSION, "csrf": token})
    refused = officer.post(f"{path}/consultations", data={"csrf": token, "agency": "FBI", "person": "Dana"})
    assert refused.status_code == 409 and "no urgent need was stated" in refused.text
    assert ledger(carrier, "breaches:agency-consulted") == 0


STEPS = ("affected", "harm", "notes", "agency-notice", "consultations", "directions", "customer-notices", "close")


def test_a_step_without_its_csrf_token_is_refused_with_403_and_nothing_is_written(carrier: App, actor: Actor) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, _ = opened(officer)
    before = ledger(carrier, "breaches:")
    form = {**SUBMISSION, "count": "1", "basis": "b", "harm_likely": "yes", "decided_by": "p", "text": "t"}
    for name in STEPS:
        answer = officer.post(f"{path}/{name}", data=form)
        assert answer.status_code == 403 and "did not come from this site" in answer.text, name
    assert ledger(carrier, "breaches:") == before


def test_route_roles_an_agent_cannot_take_a_step_on_an_incident(carrier: App, actor: Actor) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, _ = opened(officer)
    before = ledger(carrier, "breaches:")
    agent = signed_in(carrier, actor, "ann", "agent")
    token = csrf(agent, "/")
    for name in STEPS:
        answer = agent.post(f"{path}/{name}", data={**SUBMISSION, "count": "1", "basis": "b", "csrf": token})
        assert answer.status_code == 403 and "Not allowed" in answer.text, name
    assert ledger(carrier, "breaches:") == before


def test_a_step_on_an_unknown_incident_gets_the_not_found_page(carrier: App, actor: Actor) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    token = csrf(officer, "/console/breaches")
    answer = officer.post("/console/breaches/not-an-id/notes", data={"csrf": token, "text": "x"})
    assert answer.status_code == 404 and "Not found" in answer.text


def test_the_steps_speak_german_to_a_german_browser(carrier: App, actor: Actor) -> None:
    officer = signed_in(carrier, actor, "pat", "privacy-officer")
    path, _ = opened(officer)
    page = officer.get(path, headers={"accept-language": "de-DE,de;q=0.9"}).text
    assert "Nächste Schritte" in page and "Betroffene Kunden" in page and "Einreichung der Behördenmeldung" in page
