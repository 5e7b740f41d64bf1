"""The customer portal through FastAPI's TestClient over https (so Secure cookies are sent):
registering with a one-time code, signing in and out, the CPNI choice, secrets, addresses, the
privacy policy and writing to the privacy office, with every refusal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract
from fastapi.testclient import TestClient

from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.clock import FixedClock
from cpniguard.consent.service import show_consent
from cpniguard.customers.model import ContactKind, Customer, Language
from cpniguard.customers.service import add_contact
from cpniguard.db.migrate import upgrade
from cpniguard.notifications.model import NoticeEvent
from cpniguard.notifications.service import list_notices
from cpniguard.ports import NoticeRecord
from cpniguard.privacy_office.policies import PolicyDraft
from cpniguard.privacy_office.policy_service import publish_policy
from cpniguard.privacy_office.service import list_complaints
from cpniguard.web import i18n, portal_access, portal_forms, portal_security
from cpniguard.web.portal_forms import FORM_COOKIE
from cpniguard.web.security import PORTAL_COOKIE
from tests.conftest import TEST_SIGNING_KEY, a_customer

LONG_AGO = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)  # contacts added then are of record (DEF-5)
PHONE = "+12025550123"
EMAIL = "ada@example.com"
PASSWORD = "violet kettle harbour"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
JINJA = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
PAGES = ["/portal", "/portal/consent", "/portal/security", "/portal/addresses", "/portal/write"]
FORMS = [
    ("/portal/consent", {"choice": "opt-out"}),
    ("/portal/security/code", {}),
    ("/portal/security/pin", {"code": "000000", "secret": "7394", "secret_again": "7394"}),
    ("/portal/addresses/email", {"value": "new@example.org"}),
    ("/portal/write", {"topic": "something-else", "message": "hello"}),
]


@pytest.fixture
def app(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[App]:
    """The conftest app with cheap argon2 parameters: these tests set and check many secrets."""
    settings = load_settings(
        {},
        database_url=database_url,
        audit_signing_key=TEST_SIGNING_KEY,
        audit_key_file=str(tmp_path / "k"),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    built = build(settings, clock)
    upgrade(built.engine)
    yield built
    built.close()


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app), base_url="https://testserver", follow_redirects=False)


@pytest.fixture
def ada(app: App, actor: Actor) -> Customer:
    return a_customer(app, actor, at=LONG_AGO)


def csrf_of(response: httpx.Response) -> str:
    found = CSRF.search(response.text)
    assert found, "the page has no form token"
    return found.group(1)


def notices(app: App, customer: Customer, event: NoticeEvent) -> list[NoticeRecord]:
    return [r for r in list_notices(app.uow(), customer.id, 100) if r.notice.event is event]


def last_code(app: App, customer: Customer) -> str:
    sent = notices(app, customer, NoticeEvent.ONE_TIME_CODE)
    assert sent, "no one-time code was sent"
    newest = max(sent, key=lambda r: r.notice.created_at)
    found = re.search(r"\b(\d{6})\b", newest.notice.body)
    assert found
    return found.group(1)


def register(client: TestClient, app: App, customer: Customer, contact: str = PHONE) -> httpx.Response:
    token = csrf_of(client.get("/portal/register"))
    client.post("/portal/register", data={"contact": contact, "csrf": token})
    form = {"contact": contact, "code": last_code(app, customer), "csrf": token}
    done: httpx.Response = client.post(
        "/portal/register/confirm", data={**form, "password": PASSWORD, "password_again": PASSWORD}
    )
    return done


def sign_in(client: TestClient, email: str = EMAIL, password: str = PASSWORD) -> httpx.Response:
    token = csrf_of(client.get("/portal/sign-in"))
    answer: httpx.Response = client.post("/portal/sign-in", data={"email": email, "password": password, "csrf": token})
    return answer


@pytest.fixture
def signed_in(client: TestClient, app: App, ada: Customer, clock: FixedClock) -> str:
    """Ada registered and signed in a minute ago (so a later code is the newest); answers the
    session's form token."""
    register(client, app, ada)
    assert sign_in(client).status_code == 303
    clock.move_to(clock.now() + timedelta(minutes=1))
    return csrf_of(client.get("/portal"))


def test_a_customer_registers_with_a_code_to_the_number_of_record_then_signs_in_with_a_password_auth_5_auth_7(
    client: TestClient, app: App, ada: Customer
) -> None:
    done = register(client, app, ada)
    assert done.status_code == 303
    assert done.headers["location"] == "/portal/sign-in?registered=true"
    sent = notices(app, ada, NoticeEvent.ONE_TIME_CODE)[0]
    assert (sent.channel, sent.recipient) == ("sms", PHONE)
    with app.uow() as uow:
        credential = uow.auth.credential(ada.id, CredentialKind.PASSWORD)
    assert credential is not None
    assert credential.verified_by is VerifiedBy.ONE_TIME_CODE
    assert notices(app, ada, NoticeEvent.ONLINE_ACCOUNT_CHANGED), "NOTIFY-1: the online account is announced"
    answer = sign_in(client)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{PORTAL_COOKIE}="))
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Your account" in client.get("/portal").text


def test_registration_answers_an_unknown_contact_exactly_like_a_known_one_and_sends_no_code(
    client: TestClient, app: App, ada: Customer
) -> None:
    token = csrf_of(client.get("/portal/register"))
    known = client.post("/portal/register", data={"contact": PHONE, "csrf": token})
    unknown = client.post("/portal/register", data={"contact": "+12025550199", "csrf": token})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace(PHONE, "") == unknown.text.replace("+12025550199", "")
    confirm = {"code": "123456", "password": PASSWORD, "password_again": PASSWORD, "csrf": token}
    right = last_code(app, ada)
    confirm["code"] = "000000" if right != "000000" else "111111"
    unknown_code = client.post("/portal/register/confirm", data={**confirm, "contact": "+12025550199"})
    known_code = client.post("/portal/register/confirm", data={**confirm, "contact": PHONE})
    assert unknown_code.status_code == known_code.status_code == 401
    assert "The code is wrong or has expired" in unknown_code.text
    assert unknown_code.text.replace("+12025550199", "") == known_code.text.replace(PHONE, "")
    assert len(notices(app, ada, NoticeEvent.ONE_TIME_CODE)) == 1


def test_a_code_never_goes_to_an_email_added_days_ago_amb_5_def_5(client: TestClient, app: App, actor: Actor) -> None:
    bea = a_customer(app, actor, name="Bea Smith", telephone_numbers=("+12025550177",), emails=(), at=LONG_AGO)
    add_contact(app.uow(), app.clock, actor, bea.id, ContactKind.EMAIL, "bea.new@example.org")
    token = csrf_of(client.get("/portal/register"))
    client.post("/portal/register", data={"contact": "bea.new@example.org", "csrf": token})
    assert notices(app, bea, NoticeEvent.ONE_TIME_CODE) == [], "a new email is no contact of record"
    client.post("/portal/register", data={"contact": "+12025550177", "csrf": token})
    [sent] = notices(app, bea, NoticeEvent.ONE_TIME_CODE)
    assert (sent.channel, sent.recipient) == ("sms", "+12025550177")


def test_a_wrong_code_is_refused_with_401_and_sets_no_password_auth_7(
    client: TestClient, app: App, ada: Customer
) -> None:
    token = csrf_of(client.get("/portal/register"))
    client.post("/portal/register", data={"contact": EMAIL, "csrf": token})
    right = last_code(app, ada)
    wrong = "000000" if right != "000000" else "111111"
    form = {"contact": EMAIL, "code": wrong, "password": PASSWORD, "password_again": PASSWORD, "csrf": token}
    answer = client.post("/portal/register/confirm", data=form)
    assert answer.status_code == 401
    with app.uow() as uow:
        assert uow.auth.credential(ada.id, CredentialKind.PASSWORD) is None


def test_a_short_or_mistyped_password_is_refused_with_422_and_the_code_stays_usable_auth_7(
    client: TestClient, app: App, ada: Customer
) -> None:
    token = csrf_of(client.get("/portal/register"))
    client.post("/portal/register", data={"contact": PHONE, "csrf": token})
    form = {"contact": PHONE, "code": last_code(app, ada), "csrf": token}
    short = client.post("/portal/register/confirm", data={**form, "password": "short", "password_again": "short"})
    assert short.status_code == 422
    assert "a password must have 10 to 200 characters" in short.text
    differ = client.post("/portal/register/confirm", data={**form, "password": PASSWORD, "password_again": "x" * 12})
    assert differ.status_code == 422
    assert "the two passwords differ" in differ.text
    good = client.post("/portal/register/confirm", data={**form, "password": PASSWORD, "password_again": PASSWORD})
    assert good.status_code == 303


def test_a_contact_that_is_neither_an_email_nor_a_telephone_number_is_refused_with_422_auth_5(
    client: TestClient, app: App, ada: Customer
) -> None:
    token = csrf_of(client.get("/portal/register"))
    answer = client.post("/portal/register", data={"contact": "account 1234", "csrf": token})
    assert answer.status_code == 422
    assert "not an E.164 telephone number" in answer.text
    assert notices(app, ada, NoticeEvent.ONE_TIME_CODE) == []


@pytest.mark.parametrize("path", ["/portal/sign-in", "/portal/register", "/portal/register/confirm"])
def test_a_signed_out_form_without_its_form_token_is_refused_with_403(client: TestClient, path: str) -> None:
    client.get("/portal/sign-in")
    assert client.cookies.get(FORM_COOKIE)
    assert client.post(path, data={"contact": PHONE, "email": EMAIL, "password": PASSWORD}).status_code == 403
    assert client.post(path, data={"contact": PHONE, "csrf": "forged"}).status_code == 403


def test_a_wrong_password_and_an_unknown_email_get_the_same_401_page_auth_1(
    client: TestClient, app: App, ada: Customer
) -> None:
    register(client, app, ada)
    wrong = sign_in(client, EMAIL, "not the password at all")
    unknown = sign_in(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    reason = "The email address or password is wrong"
    assert reason in wrong.text
    assert wrong.text.replace(EMAIL, "") == unknown.text.replace("nobody@example.org", "")
    assert PORTAL_COOKIE not in client.cookies


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_out_visitor_is_sent_to_sign_in_auth_5(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/sign-in"


@pytest.mark.parametrize(("path", "form"), FORMS)
def test_a_signed_out_post_is_sent_to_sign_in_and_writes_nothing_auth_5(
    client: TestClient, path: str, form: dict[str, str]
) -> None:
    answer = client.post(path, data={**form, "csrf": "anything"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/sign-in"


@pytest.mark.parametrize(("path", "form"), FORMS)
def test_a_signed_in_form_without_the_session_token_is_refused_with_403_and_writes_nothing(
    client: TestClient, app: App, ada: Customer, signed_in: str, path: str, form: dict[str, str]
) -> None:
    before = len(list_notices(app.uow(), ada.id, 100))
    assert client.post(path, data=form).status_code == 403
    assert client.post(path, data={**form, "csrf": "forged"}).status_code == 403
    assert len(list_notices(app.uow(), ada.id, 100)) == before
    assert list_complaints(app.uow()) == []
    view = show_consent(app.uow(), app.clock, Actor.system(), ada.id, app.clock.now())
    assert view.events == []


def test_the_home_page_shows_the_material_policy_change_and_the_cpni_choice_in_plain_words_def_9(
    client: TestClient, app: App, actor: Actor, signed_in: str
) -> None:
    draft = PolicyDraft("2.0", "en", date(2026, 2, 20), "# Privacy policy\n\nWe changed it.", "We share less.", True)
    publish_policy(app.uow(), app.clock, actor, app.letterhead, draft)
    home = client.get("/portal")
    assert home.status_code == 200
    assert "Our privacy policy has changed" in home.text
    assert "Version 2.0 took effect on Feb 20, 2026." in home.text
    assert "We have no approval from you." in home.text


def test_an_opt_out_takes_effect_at_once_and_is_acknowledged_then_an_opt_in_ends_it_notice_9_consent_2(
    client: TestClient, app: App, ada: Customer, signed_in: str
) -> None:
    answer = client.post("/portal/consent", data={"choice": "opt-out", "csrf": signed_in})
    assert answer.status_code == 200
    assert "we recorded your opt-out on" in answer.text
    assert "You have opted out." in answer.text
    state = show_consent(app.uow(), app.clock, Actor.system(), ada.id, app.clock.now()).state
    assert state.objection_active(app.clock.now())
    with app.uow() as uow:  # NOTICE-9: the acknowledgement goes to the contacts of record as well
        events = [n.notice.event.value for n in uow.outbox.notices(ada.id, 20)]
    assert events.count("opt-out-recorded") == 1
    back_in = client.post("/portal/consent", data={"choice": "opt-in", "csrf": signed_in})
    assert "You have opted in." in back_in.text
    state = show_consent(app.uow(), app.clock, Actor.system(), ada.id, app.clock.now()).state
    assert state.opt_in_active(app.clock.now())
    assert not state.objection_active(app.clock.now())


def test_an_unknown_consent_choice_is_refused_with_422_and_records_nothing(
    client: TestClient, app: App, ada: Customer, signed_in: str
) -> None:
    answer = client.post("/portal/consent", data={"choice": "maybe", "csrf": signed_in})
    assert answer.status_code == 422
    assert "Choose to opt out or to opt in." in answer.text
    assert show_consent(app.uow(), app.clock, Actor.system(), ada.id, app.clock.now()).events == []


def test_a_pin_is_changed_with_a_code_and_announced_at_the_contact_of_record_notify_1(
    client: TestClient, app: App, ada: Customer, signed_in: str
) -> None:
    sent = client.post("/portal/security/code", data={"csrf": signed_in})
    assert "We sent a code by text message" in sent.text
    form = {"code": last_code(app, ada), "secret": "7394", "secret_again": "7394", "csrf": signed_in}
    answer = client.post("/portal/security/pin", data=form)
    assert answer.status_code == 200
    assert "Your PIN is changed." in answer.text
    [notice] = notices(app, ada, NoticeEvent.PIN_CHANGED)
    assert "7394" not in notice.notice.body, "NOTIFY-4: the notice does not reveal the PIN"


def test_a_pin_built_from_the_telephone_number_is_refused_before_the_code_is_spent_auth_7(
    client: TestClient, app: App, ada: Customer, signed_in: str
) -> None:
    client.post("/portal/security/code", data={"csrf": signed_in})
    code = last_code(app, ada)
    refused = client.post(
        "/portal/security/pin", data={"code": code, "secret": "5550123", "secret_again": "5550123", "csrf": signed_in}
    )
    assert refused.status_code == 422
    assert "repeats 4 digits" in refused.text
    accepted = client.post(
        "/portal/security/pin", data={"code": code, "secret": "7394", "secret_again": "7394", "csrf": signed_in}
    )
    assert "Your PIN is changed." in accepted.text


def test_a_wrong_code_changes_no_secret_auth_7(client: TestClient, app: App, ada: Customer, signed_in: str) -> None:
    client.post("/portal/security/code", data={"csrf": signed_in})
    wrong = "000000" if last_code(app, ada) != "000000" else "111111"
    form = {"code": wrong, "secret": "7394", "secret_again": "7394", "csrf": signed_in}
    assert client.post("/portal/security/pin", data=form).status_code == 401
    with app.uow() as uow:
        assert uow.auth.credential(ada.id, CredentialKind.PIN) is None


def test_a_backup_question_asking_for_biographical_information_is_refused_auth_8(
    client: TestClient, app: App, ada: Customer, signed_in: str
) -> None:
    client.post("/portal/security/code", data={"csrf": signed_in})
    form = {"code": last_code(app, ada), "secret": "a blue bicycle", "secret_again": "a blue bicycle"}
    refused = client.post(
        "/portal/security/backup-answer",
        data={**form, "question": "What is your mother's maiden name?", "csrf": signed_in},
    )
    assert refused.status_code == 422
    assert "a backup question may not ask for" in refused.text
    accepted = client.post(
        "/portal/security/backup-answer",
        data={**form, "question": "What was my first bicycle like?", "csrf": signed_in},
    )
    assert "Your backup question and answer are changed." in accepted.text
    assert notices(app, ada, NoticeEvent.BACKUP_ANSWER_CHANGED)


def test_an_unknown_secret_kind_is_refused_with_422(client: TestClient, signed_in: str) -> None:
    form = {"code": "1", "secret": "x", "secret_again": "x", "csrf": signed_in}
    assert client.post("/portal/security/voiceprint", data=form).status_code == 422


def test_an_email_change_is_announced_at_the_old_address_never_the_new_one_notify_5(
    client: TestClient, app: App, ada: Customer, signed_in: str
) -> None:
    answer = client.post("/portal/addresses/email", data={"value": "ada.new@example.org", "csrf": signed_in})
    assert answer.status_code == 200
    assert "Your address is changed." in answer.text
    [notice] = notices(app, ada, NoticeEvent.EMAIL_CHANGED)
    recipients = {stop.recipient for stop in notice.notice.route}
    assert "ada.new@example.org" not in recipients
    assert notice.recipient in {EMAIL, PHONE}
    assert "ada.new@example.org" not in notice.notice.body


def test_a_postal_address_can_be_replaced_and_the_change_is_announced_notify_1(
    client: TestClient, app: App, ada: Customer, signed_in: str
) -> None:
    form = {"value": "1 New Street, Springfield, IL 62701", "csrf": signed_in}
    answer = client.post("/portal/addresses/postal", data=form)
    assert "1 New Street" in answer.text
    assert notices(app, ada, NoticeEvent.POSTAL_ADDRESS_CHANGED)


def test_an_invalid_email_address_is_refused_with_422_and_nothing_changes(
    client: TestClient, app: App, ada: Customer, signed_in: str
) -> None:
    answer = client.post("/portal/addresses/email", data={"value": "not an address", "csrf": signed_in})
    assert answer.status_code == 422
    assert "not a valid email address" in answer.text
    assert notices(app, ada, NoticeEvent.EMAIL_CHANGED) == []


def test_the_privacy_policy_in_force_is_shown_in_german_with_its_revision_date(
    client: TestClient, app: App, actor: Actor
) -> None:
    draft = PolicyDraft("1.1", "de", date(2026, 1, 15), "# Datenschutzerklärung\n\nUnser Text.", "Neu.")
    publish_policy(app.uow(), app.clock, actor, app.letterhead, draft)
    page = client.get("/portal/privacy-policy", headers={"accept-language": "de-DE"})
    assert page.status_code == 200
    assert "<h1>Datenschutzerklärung</h1>" in page.text
    assert "Fassung 1.1, zuletzt überarbeitet am 15.01.2026." in page.text
    assert client.get("/portal/privacy-policy").status_code == 404, "no English version yet"


def test_a_customer_whose_language_is_german_reads_the_german_policy_when_there_is_no_english_one(
    client: TestClient, app: App, actor: Actor, clock: FixedClock
) -> None:
    draft = PolicyDraft("1.1", "de", date(2026, 1, 15), "# Datenschutzerklärung\n\nUnser Text.", "Neu.")
    publish_policy(app.uow(), app.clock, actor, app.letterhead, draft)
    bea = a_customer(app, actor, name="Bea Smith", language=Language.DE, at=LONG_AGO)
    register(client, app, bea)
    sign_in(client)
    page = client.get("/portal/privacy-policy")
    assert page.status_code == 200
    assert "<h1>Datenschutzerklärung</h1>" in page.text
    assert "Version 1.1, last revised on Jan 15, 2026." in page.text


def test_a_message_to_the_privacy_office_is_recorded_as_a_complaint_in_its_category_cert_3(
    client: TestClient, app: App, ada: Customer, signed_in: str
) -> None:
    form = {"topic": "online-account", "message": "Someone changed my PIN.", "csrf": signed_in}
    answer = client.post("/portal/write", data=form)
    assert answer.status_code == 200
    assert "The privacy office received your message" in answer.text
    [complaint] = list_complaints(app.uow())
    assert (complaint.category.value, complaint.channel.value) == ("online-access", "web")
    assert complaint.customer_id == ada.id


@pytest.mark.parametrize(
    ("form", "why"),
    [({"topic": "gossip", "message": "hi"}, "choose what your message is about"), ({"topic": "other"}, "")],
)
def test_a_message_without_a_known_topic_or_text_is_refused_and_nothing_is_recorded(
    client: TestClient, app: App, signed_in: str, form: dict[str, str], why: str
) -> None:
    answer = client.post("/portal/write", data={**form, "csrf": signed_in})
    assert answer.status_code == 422
    assert why in answer.text
    assert list_complaints(app.uow()) == []


def test_signing_out_ends_the_session(client: TestClient, signed_in: str) -> None:
    answer = client.post("/portal/sign-out", data={"csrf": signed_in})
    assert answer.status_code == 303
    assert client.get("/portal").status_code == 303


@pytest.mark.parametrize("path", [*PAGES, "/portal/privacy-policy"])
def test_every_page_opens_for_a_signed_in_customer_in_german(client: TestClient, signed_in: str, path: str) -> None:
    answer = client.get(path, headers={"accept-language": "de-DE"})
    assert answer.status_code == (404 if path.endswith("policy") else 200)
    assert '<html lang="de">' in answer.text
    assert "Abmelden" in answer.text


def test_portal_pages_carry_the_security_headers(client: TestClient) -> None:
    answer = client.get("/portal/sign-in")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"


def portal_texts() -> set[str]:
    """Every text the portal shows: `_()` in its templates and modules, and its constants."""
    web = Path(portal_forms.__file__).parent
    found: set[str] = set()
    for template in (web / "templates" / "portal").glob("*.html"):
        with template.open("rb") as source:
            found |= {str(m[1]) for m in extract("jinja2.ext:babel_extract", source, options=JINJA)}
    for module in web.glob("portal*.py"):
        with module.open("rb") as source:
            found |= {str(m[1]) for m in extract("python", source)}
    found |= {portal_access.SIGN_IN_REFUSED, portal_forms.CODE_REFUSED}
    return found | set(portal_security.DONE.values()) | set(portal_security.SENT.values())


def test_every_text_of_the_portal_has_its_german_words() -> None:
    german = i18n.translations("de")
    missing = sorted(text for text in portal_texts() if german.gettext(text) == text and text != "PIN")
    assert missing == []


def test_a_german_visitor_reads_the_sign_in_page_and_its_refusal_in_german(
    client: TestClient, app: App, ada: Customer
) -> None:
    page = client.get("/portal/sign-in", headers={"accept-language": "de-DE,de;q=0.9"})
    assert "Bei Ihrem Konto anmelden" in page.text
    refused = client.post(
        "/portal/sign-in",
        data={"email": EMAIL, "password": "wrong password here", "csrf": csrf_of(page)},
        headers={"accept-language": "de-DE"},
    )
    assert "Die E-Mail-Adresse oder das Passwort ist falsch" in refused.text
