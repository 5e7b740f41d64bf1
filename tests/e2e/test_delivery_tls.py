"""Email delivery over TLS against a real aiosmtpd server with a self-signed certificate made here:
STARTTLS required before anything else and a login required after it, then `smtps://` (TLS from
the first byte). The worker trusts the test certificate only through OpenSSL's SSL_CERT_FILE,
as a carrier with a private CA would; without it the server is not trusted and nothing is sent."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cpniguard.actors import Actor
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.clock import FixedClock, SystemClock
from cpniguard.customers.model import ContactKind
from cpniguard.customers.service import change_contact
from cpniguard.db.migrate import upgrade
from cpniguard.jobs.worker import run_worker
from cpniguard.notifications.service import list_notices
from tests.conftest import T0, TEST_SIGNING_KEY, a_customer
from tests.servers import Mailbox, free_port

USER, PASSWORD = "relay@carrier", "s3cret:pass"
URL_CREDENTIALS = "relay%40carrier:s3cret%3Apass"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (an IP address SAN, which hostname checking needs)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cpniguard test SMTP")])
    now = SystemClock().now()  # a certificate is checked against real time, not the test's clock
    public = key.public_key()
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificate(cert_file, key_file)


@dataclass
class TlsMailbox(Mailbox):
    """The shared test mailbox, also noting the TLS version each message came over and each login."""

    tls_versions: list[str | None] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        ssl_object = server.transport.get_extra_info("ssl_object")
        self.tls_versions.append(ssl_object.version() if ssl_object else None)
        return await super().handle_DATA(server, session, envelope)

    def authenticator(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        ok = (data.login, data.password) == (USER.encode(), PASSWORD.encode())
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself


def server_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    return context


@contextmanager
def tls_server(mailbox: TlsMailbox, **options: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=mailbox.authenticator, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> TlsMailbox:
    return TlsMailbox()


@pytest.fixture
def trusted(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenSSL reads SSL_CERT_FILE whenever a default context is made: the adapter's contexts
    then verify the server against the test certificate, hostname included."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))


def worker_app(database_url: str, tmp_path: Path, clock: FixedClock, smtp_url: str) -> App:
    env = {
        "CPNIGUARD_DATABASE_URL": database_url,
        "CPNIGUARD_AUDIT_SIGNING_KEY": TEST_SIGNING_KEY,
        "CPNIGUARD_AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "CPNIGUARD_SMTP_URL": smtp_url,
        "CPNIGUARD_MAIL_FROM": "privacy@carrier.example",
        "CPNIGUARD_OUTBOX_DIR": str(tmp_path / "outbox"),
        "CPNIGUARD_WORKER_CONNECTIONS": "1",
    }
    app = build(load_settings(env), clock)
    upgrade(app.engine)
    return app


def deliver_one_change_notice(app: App, actor: Actor) -> tuple[str, str | None]:
    """Changes a two-year-old customer's email and runs the worker once; answers the notice's
    status and last error."""
    customer = a_customer(app, actor, at=T0 - timedelta(days=730))
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, "ada@new.example")
    run_worker(app, once=True)
    [record] = list_notices(app.uow(), customer.id)
    return record.status, record.last_error


@pytest.fixture
def starttls_server(certificate: Certificate, mailbox: TlsMailbox) -> Iterator[int]:
    """A submission server that refuses anything but EHLO, STARTTLS and QUIT before TLS, and mail before a login."""
    with tls_server(
        mailbox, tls_context=server_context(certificate), require_starttls=True, auth_required=True
    ) as port:
        yield port


@pytest.mark.usefixtures("trusted")
def test_the_worker_delivers_over_required_starttls_after_logging_in(
    database_url: str, tmp_path: Path, clock: FixedClock, actor: Actor, mailbox: TlsMailbox, starttls_server: int
) -> None:
    app = worker_app(database_url, tmp_path, clock, f"smtp://{URL_CREDENTIALS}@127.0.0.1:{starttls_server}?starttls=1")
    try:
        assert deliver_one_change_notice(app, actor) == ("delivered", None)
    finally:
        app.close()
    assert mailbox.logins == [(USER.encode(), PASSWORD.encode())]
    assert mailbox.recipients == [["ada@example.com"]]  # NOTIFY-5: the address of record before the change
    assert mailbox.tls_versions[0] in {"TLSv1.2", "TLSv1.3"}


def test_a_server_certificate_nobody_trusts_is_a_transient_failure_and_the_password_is_never_sent(
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
    actor: Actor,
    mailbox: TlsMailbox,
    starttls_server: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    app = worker_app(database_url, tmp_path, clock, f"smtp://{URL_CREDENTIALS}@127.0.0.1:{starttls_server}?starttls=1")
    try:
        status, error = deliver_one_change_notice(app, actor)
    finally:
        app.close()
    assert status == "pending" and error is not None and "CERTIFICATE_VERIFY_FAILED" in error
    assert mailbox.logins == [] and mailbox.received == []


@pytest.mark.usefixtures("trusted")
def test_a_refused_login_after_starttls_is_retried_later_and_nothing_is_sent(
    database_url: str, tmp_path: Path, clock: FixedClock, actor: Actor, mailbox: TlsMailbox, starttls_server: int
) -> None:
    url = f"smtp://relay%40carrier:wrong@127.0.0.1:{starttls_server}?starttls=1"
    app = worker_app(database_url, tmp_path, clock, url)
    try:
        status, error = deliver_one_change_notice(app, actor)
    finally:
        app.close()
    assert status == "pending" and error is not None and error.startswith("SMTP login refused")
    assert set(mailbox.logins) == {(USER.encode(), b"wrong")}  # smtplib tries PLAIN, then LOGIN
    assert mailbox.received == []


@pytest.mark.usefixtures("trusted")
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_worker_delivers_over_smtps_with_tls_from_the_first_byte(
    database_url: str, tmp_path: Path, clock: FixedClock, actor: Actor, mailbox: TlsMailbox, certificate: Certificate
) -> None:
    # aiosmtpd counts only STARTTLS as encryption for AUTH; here the whole connection is TLS.
    with tls_server(
        mailbox, ssl_context=server_context(certificate), auth_required=True, auth_require_tls=False
    ) as port:
        app = worker_app(database_url, tmp_path, clock, f"smtps://{URL_CREDENTIALS}@127.0.0.1:{port}")
        try:
            assert deliver_one_change_notice(app, actor) == ("delivered", None)
        finally:
            app.close()
    assert mailbox.logins == [(USER.encode(), PASSWORD.encode())]
    assert mailbox.recipients == [["ada@example.com"]]
    assert mailbox.tls_versions[0] in {"TLSv1.2", "TLSv1.3"}
