"""The office pages of the console through TestClient (HTTPS, so the Secure cookies travel):
campaign review, breaches, the audit ledger and the dashboard, with their refusals."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cpniguard.access.web import set_staff_password
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.audit.model import AuditEntry
from cpniguard.auth.model import CredentialKind
from cpniguard.auth.service import verify_credential
from cpniguard.bootstrap import App
from cpniguard.calendar import eastern_date
from cpniguard.campaigns.model import Recipient
from cpniguard.campaigns.service import CampaignSpec, add_user, create_campaign, submit_campaign
from cpniguard.clock import FixedClock
from cpniguard.consent.failures import record_opt_out_failure
from cpniguard.consent.model import Channel, ConsentEventKind
from cpniguard.consent.service import record_event
from cpniguard.decisions.model import Purpose
from cpniguard.privacy_office.dashboard import SEARCH_LIMIT
from cpniguard.privacy_office.staff import record_training
from cpniguard.web import pages
from tests.conftest import T0, a_customer

PASSWORD = "correct horse battery staple"
PAGES = ("/console/campaigns", "/console/breaches", "/console/audit", "/console/dashboard")


def staff(app: App, actor: Actor, name: str, *roles: str) -> None:
    today = eastern_date(app.clock.now())
    record_training(app.uow(), app.clock, actor, name, "CPNI basics", today, today + timedelta(days=365))
    add_user(app.uow(), app.clock, actor, name, frozenset(roles))
    set_staff_password(app.uow(), app.clock, actor, app.auth.hasher, name, PASSWORD)


def signed_in(app: App, actor: Actor, name: str, *roles: str) -> TestClient:
    staff(app, actor, name, *roles)
    client = TestClient(create_app(app), base_url="https://testserver")
    answer = client.post("/sign-in", data={"name": name, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303
    return client


def csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def submitted(app: App, by: str, name: str = "Partner TV") -> str:
    spec = CampaignSpec(
        name,
        Purpose.MARKETING_THIRD_PARTY,
        "Streaming bundle",
        recipients=(Recipient.THIRD_PARTY,),
        cpni=("services", "usage"),
        description="Bundle offer with a streaming partner",
    )
    campaign = create_campaign(app.uow(), app.clock, spec, by)
    submit_campaign(app.uow(), app.clock, campaign.id, by)
    return str(campaign.id)


def ledger(app: App, action: str) -> int:
    with app.uow() as uow:
        return len(uow.audit.find(None, action, 1000))


def test_safe_4_the_cro_sees_the_queue_counts_the_audience_by_reason_and_approves_with_a_reason(
    app: App, actor: Actor
) -> None:
    staff(app, actor, "mia", "marketing")
    opted_in = a_customer(app, actor, name="Opted In")
    a_customer(app, actor, name="No Approval", telephone_numbers=("+12025550177",))
    record_event(app.uow(), app.clock, actor, opted_in.id, ConsentEventKind.OPT_IN, Channel.WEB)
    cid = submitted(app, "mia")
    cro = signed_in(app, actor, "carl", "cro")
    queue = cro.get("/console/campaigns")
    assert queue.status_code == 200
    assert "Bundle offer with a streaming partner" in queue.text and "opt-in" in queue.text
    assert "services, usage" in queue.text and "third-party" in queue.text
    token = csrf(cro, f"/console/campaigns/{cid}")
    counted = cro.post(f"/console/campaigns/{cid}/audience", data={"csrf": token})
    assert counted.status_code == 200 and "Excluded: opt-in required" in counted.text
    assert ledger(app, "campaigns:audience:counted") == 1
    review = {"csrf": token, "decision": "approve", "reason": "offer and partner checked"}
    done = cro.post(f"/console/campaigns/{cid}/review", data=review)
    assert done.status_code == 200 and "The campaign is approved." in done.text
    with app.uow() as uow:
        events = uow.campaigns.events(uuid.UUID(cid))
    approvals = [(e.by, e.reason) for e in events if e.status == "approved"]
    assert approvals == [("carl", "offer and partner checked")]


def test_safe_4_the_maker_of_a_campaign_cannot_approve_it_and_is_told_why_with_403(app: App, actor: Actor) -> None:
    cro = signed_in(app, actor, "carl", "cro")
    cid = submitted(app, "carl")
    token = csrf(cro, f"/console/campaigns/{cid}")
    refused = cro.post(f"/console/campaigns/{cid}/review", data={"csrf": token, "decision": "approve", "reason": "ok"})
    assert refused.status_code == 403 and "SAFE-4" in refused.text
    assert ledger(app, "campaigns:campaign:approved") == 0


def test_safe_4_a_review_without_a_reason_is_refused_with_422_and_changes_nothing(app: App, actor: Actor) -> None:
    staff(app, actor, "mia", "marketing")
    cid = submitted(app, "mia")
    cro = signed_in(app, actor, "carl", "cro")
    token = csrf(cro, f"/console/campaigns/{cid}")
    refused = cro.post(f"/console/campaigns/{cid}/review", data={"csrf": token, "decision": "reject", "reason": " "})
    assert refused.status_code == 422 and "reason" in refused.text
    assert 'class="status">submitted' in cro.get(f"/console/campaigns/{cid}").text


def test_a_form_without_its_csrf_token_is_refused_with_403_and_nothing_is_written(app: App, actor: Actor) -> None:
    staff(app, actor, "mia", "marketing")
    cid = submitted(app, "mia")
    cro = signed_in(app, actor, "carl", "cro", "privacy-officer")
    review = cro.post(f"/console/campaigns/{cid}/review", data={"decision": "approve", "reason": "fine"})
    breach = cro.post("/console/breaches", data={"title": "Lost laptop", "discovered_at": "2026-03-01T09:00"})
    assert (review.status_code, breach.status_code) == (403, 403)
    assert ledger(app, "campaigns:campaign:approved") == 0 and ledger(app, "breaches:") == 0


def test_route_roles_an_agent_gets_the_not_allowed_page_on_each_office_page(app: App, actor: Actor) -> None:
    agent = signed_in(app, actor, "ann", "agent")
    for path in PAGES:
        answer = agent.get(path)
        assert answer.status_code == 403 and "Not allowed" in answer.text, path


def test_route_roles_an_agent_cannot_post_the_office_forms_and_nothing_is_written(app: App, actor: Actor) -> None:
    staff(app, actor, "mia", "marketing")
    cid = submitted(app, "mia")
    agent = signed_in(app, actor, "ann", "agent")
    token = csrf(agent, "/")
    posts: dict[str, dict[str, object]] = {
        f"/console/campaigns/{cid}/review": {"decision": "approve", "reason": "fine"},
        f"/console/campaigns/{cid}/audience": {},
        "/console/breaches": INCIDENT,
        "/console/audit/verify": {},
    }
    for path, form in posts.items():
        answer = agent.post(path, data={**form, "csrf": token})
        assert answer.status_code == 403 and "Not allowed" in answer.text, path
    assert [ledger(app, a) for a in ("campaigns:campaign:approved", "campaigns:audience", "breaches:")] == [0, 0, 0]


def test_safe_4_marketing_staff_see_the_queue_but_their_review_is_refused_with_403(app: App, actor: Actor) -> None:
    staff(app, actor, "mia", "marketing")
    cid = submitted(app, "mia")
    other = signed_in(app, actor, "max", "marketing")
    assert "Only the CRO or a supervisor reviews campaigns" in other.get(f"/console/campaigns/{cid}").text
    token = csrf(other, f"/console/campaigns/{cid}")
    refused = other.post(f"/console/campaigns/{cid}/review", data={"csrf": token, "decision": "approve", "reason": "x"})
    assert refused.status_code == 403 and "cro or supervisor role is needed" in refused.text
    assert ledger(app, "campaigns:campaign:approved") == 0


def test_route_roles_a_signed_out_visitor_is_sent_to_sign_in_from_each_office_page(app: App) -> None:
    client = TestClient(create_app(app), base_url="https://testserver")
    for path in PAGES:
        answer = client.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in"), path


INCIDENT: dict[str, object] = {
    "title": "Call records sent to the wrong address",
    "discovered_at": "2026-02-26T09:00",
    "intent": "intentional",
    "data_types": ["call-detail", "name"],
    "circumstances": "A pretexter obtained call records by phone",
    "cpni_description": "Call detail records of February",
    "method_of_compromise": "pretexting",
    "incident_start": "2026-02-20",
    "incident_end": "2026-02-25",
    "financial_loss": "unknown",
    "determined_at": "2026-02-27T10:00",
    "determined_by": "pat",
    "determination_reason": "Call logs confirm the disclosure",
}


def test_breach_1_a_recorded_incident_shows_its_legal_date_seven_business_days_after_determination(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    officer = signed_in(app, actor, "pat", "privacy-officer")
    token = csrf(officer, "/console/breaches")
    made = officer.post("/console/breaches", data={**INCIDENT, "csrf": token}, follow_redirects=False)
    assert made.status_code == 303
    page = officer.get(made.headers["location"]).text
    # Fri 2026-02-27 not counted (AMB-2): Mar 2..6, 9, 10 -> Tue Mar 10; the target a day earlier
    assert "Mar 10, 2026" in page and "Mar 9, 2026" in page and "FCC, USSS, FBI" in page
    assert "Still missing" in page and "carrier_contact" in page  # BREACH23-4: no carrier address set
    clock.move_to(T0 + timedelta(days=9))  # Wed 2026-03-11: the legal date has passed
    officer.post("/sign-in", data={"name": "pat", "password": PASSWORD})  # the idle session has ended
    listing = officer.get("/console/breaches").text
    assert 'class="overdue"' in listing and "Mar 10, 2026" in listing


def test_breach_6_an_incident_without_its_circumstances_is_refused_with_422_and_nothing_is_recorded(
    app: App, actor: Actor
) -> None:
    officer = signed_in(app, actor, "pat", "privacy-officer")
    token = csrf(officer, "/console/breaches")
    refused = officer.post("/console/breaches", data={**INCIDENT, "circumstances": "", "csrf": token})
    assert refused.status_code == 422 and "BREACH-6" in refused.text
    assert 'value="Call records sent to the wrong address"' in refused.text  # the form keeps what was typed
    assert ledger(app, "breaches:") == 0


def test_amb_13_a_determination_before_the_discovery_is_refused_and_leaves_no_incident_behind(
    app: App, actor: Actor
) -> None:
    officer = signed_in(app, actor, "pat", "privacy-officer")
    token = csrf(officer, "/console/breaches")
    early = {**INCIDENT, "determined_at": "2026-02-25T10:00", "csrf": token}
    refused = officer.post("/console/breaches", data=early)
    assert refused.status_code == 422 and "AMB-13" in refused.text
    assert ledger(app, "breaches:") == 0


def test_the_audit_page_searches_by_action_customer_and_date_range_and_verifies_the_chain(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = a_customer(app, actor)
    clock.move_to(T0 + timedelta(days=3))
    record_event(app.uow(), app.clock, actor, customer.id, ConsentEventKind.OPT_OUT, Channel.WEB)
    auditor = signed_in(app, actor, "aud", "auditor")
    found = auditor.get("/console/audit", params={"action": "consent:", "customer": str(customer.id)}).text
    assert "consent:" in found and str(customer.id) in found
    before = auditor.get("/console/audit", params={"customer": str(customer.id), "last": "2026-03-03"}).text
    assert "consent:opt-out" not in before and "customers:" in before
    after = auditor.get("/console/audit", params={"customer": str(customer.id), "first": "2026-03-04"}).text
    assert "consent:opt-out" in after and "customers:customer" not in after
    token = csrf(auditor, "/console/audit")
    verified = auditor.post("/console/audit/verify", data={"csrf": token})
    assert verified.status_code == 200 and "Verified:" in verified.text and "Last signed checkpoint" in verified.text


@pytest.mark.parametrize(
    ("params", "reason"),
    [({"customer": "not-a-uuid"}, "is not one"), ({"first": "2026-03-05", "last": "2026-03-01"}, "before its start")],
)
def test_the_audit_search_refuses_a_bad_customer_id_or_range_with_422(
    app: App, actor: Actor, params: dict[str, str], reason: str
) -> None:
    auditor = signed_in(app, actor, "aud", "auditor")
    refused = auditor.get("/console/audit", params=params)
    assert refused.status_code == 422 and reason in refused.text


SEQ_CELL = re.compile(r"<tr><td>(\d+)</td>")


def test_the_audit_page_pages_through_the_ledger_with_older_entries_links(app: App, actor: Actor) -> None:
    with app.uow() as uow:
        for n in range(SEARCH_LIMIT + 30):
            uow.audit.add(AuditEntry.of("tests:paging:entry", actor, app.clock.now(), reason=f"n{n}"))
        uow.commit()
    auditor = signed_in(app, actor, "aud", "auditor")
    first = auditor.get("/console/audit", params={"action": "tests:paging"})
    seqs = [int(s) for s in SEQ_CELL.findall(first.text)]
    assert len(seqs) == SEARCH_LIMIT and seqs == sorted(seqs, reverse=True)
    older = re.search(r'id="older" href="([^"]+)"', first.text)
    assert older is not None
    second = auditor.get(html.unescape(older.group(1)))
    rest = [int(s) for s in SEQ_CELL.findall(second.text)]
    assert len(rest) == 30 and max(rest) < min(seqs) and 'id="older"' not in second.text
    in_range = auditor.get(
        "/console/audit", params={"action": "tests:paging", "first": "2026-01-01", "before": min(seqs)}
    )
    assert [int(s) for s in SEQ_CELL.findall(in_range.text)] == rest
    refused = auditor.get("/console/audit", params={"before": "12; drop"})
    assert refused.status_code == 422 and "entry number" in refused.text


def test_the_dashboard_draws_rates_failures_and_notices_as_svg_and_lists_the_deadlines_coming_up(
    app: App, actor: Actor
) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(days=60))  # contacts of record 30 days old
    record_event(app.uow(), app.clock, actor, customer.id, ConsentEventKind.OPT_OUT, Channel.WEB)
    for _ in range(5):  # the fifth failure locks the PIN channel (AUTH-1) and queues the notice
        verify_credential(app.uow, app.clock, actor, app.auth, customer.id, CredentialKind.PIN, "0000")
    record_opt_out_failure(app.uow(), app.clock, actor, "email link", "the link answered 500")  # SAFE-5
    officer = signed_in(app, actor, "pat", "privacy-officer")
    token = csrf(officer, "/console/breaches")
    assert officer.post("/console/breaches", data={**INCIDENT, "csrf": token}).status_code == 200
    page = officer.get("/console/dashboard")
    assert page.status_code == 200
    text = page.text
    assert text.count("<svg") == 3 and 'class="line-opt-out"' in text and 'class="bar-failures"' in text
    assert "style=" not in text and "<script" not in text  # the CSP allows neither
    rows = {row.split("</td>")[0]: row for row in text.split("<tr>") if "</td>" in row}
    letter = next(row for key, row in rows.items() if "Letter to the FCC on an opt-out failure" in key)
    assert "Mar 9, 2026" in letter  # SAFE-5: five business days after Mon 2026-03-02
    agency = next(row for key, row in rows.items() if "Agency notice (FCC, USSS, FBI)" in key)
    assert "Mar 10, 2026" in agency and "Mar 9, 2026" in agency  # BREACH-1: legal date and internal target
    march = re.search(r"<td>2026-03</td><td>1</td><td>1 \(100.0 %\)</td><td>0 \(0.0 %\)</td><td>5</td><td>1</td>", text)
    assert march is not None


def test_the_office_pages_speak_german_to_a_german_browser(app: App, actor: Actor) -> None:
    officer = signed_in(app, actor, "pat", "privacy-officer", "auditor")
    german = {"accept-language": "de-DE,de;q=0.9"}
    assert "Anstehende Fristen" in officer.get("/console/dashboard", headers=german).text
    assert "Neuen Vorfall erfassen" in officer.get("/console/breaches", headers=german).text
    assert "Kette jetzt prüfen" in officer.get("/console/audit", headers=german).text


def test_the_shared_macros_speak_each_visitor_s_language_whoever_came_first(app: App, actor: Actor) -> None:
    """A German visitor first, then an English one: office/_macros.html (imported with `from`,
    which Jinja caches) must not keep the first visitor's language for everyone after."""
    pages.environment.cache_clear()  # as in a freshly started server
    record_opt_out_failure(app.uow(), app.clock, actor, "email link", "the link answered 500")  # SAFE-5
    officer = signed_in(app, actor, "pat", "privacy-officer")
    german = officer.get("/console/dashboard", headers={"accept-language": "de-DE,de;q=0.9"}).text
    english = officer.get("/console/dashboard", headers={"accept-language": "en-US,en;q=0.9"}).text
    assert "Schreiben an die FCC wegen eines Opt-out-Ausfalls" in german
    assert "Letter to the FCC on an opt-out failure" in english and "Schreiben an die FCC" not in english


def test_amb_13_an_incident_recorded_without_its_determination_gets_its_clocks_when_it_is_determined(
    app: App, actor: Actor
) -> None:
    officer = signed_in(app, actor, "pat", "privacy-officer")
    token = csrf(officer, "/console/breaches")
    undetermined = {**INCIDENT, "determined_at": "", "determination_reason": "", "csrf": token}
    made = officer.post("/console/breaches", data=undetermined, follow_redirects=False)
    path = made.headers["location"]
    assert "No clock runs until the reasonable determination is recorded" in officer.get(path).text
    form = {"csrf": token, "determined_at": "2026-02-27T10:00", "determined_by": "pat", "reason": ""}
    refused = officer.post(f"{path}/determination", data=form)
    assert refused.status_code == 422 and "BREACH23-11" in refused.text
    assert ledger(app, "breaches:determined") == 0
    done = officer.post(f"{path}/determination", data={**form, "reason": "Call logs confirm it"})
    assert done.status_code == 200 and "Mar 10, 2026" in done.text
    assert ledger(app, "breaches:determined") == 1
