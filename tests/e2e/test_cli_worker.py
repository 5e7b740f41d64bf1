"""`cpniguard worker` as a deployment runs it, with no SMTP server or SMS provider configured: it
delivers to the local folder (`CPNIGUARD_OUTBOX_DIR`), email, SMS and voice as text files and
letters as PDF, keeps polling without `--once`, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cpniguard.actors import Actor
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.clock import FixedClock
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.customers.service import change_contact
from cpniguard.db.migrate import upgrade
from cpniguard.jobs.worker import run_worker
from cpniguard.notifications.model import Channel, Notice, NoticeEvent, Stop
from cpniguard.notifications.service import Letterhead, compose, list_notices, queue_notice
from tests.conftest import T0, TEST_SIGNING_KEY, a_customer

TWO_YEARS_AGO = T0 - timedelta(days=730)
PHONE = "+12025550123"
ADDRESS_BLOCK = "Ada Lovelace\n12 Analytical Way\nSpringfield, IL 62701"
WAIT = 60.0  # generous: only a broken test waits this long


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A deployment with nothing but a database: no CPNIGUARD_SMTP_URL, SMS_URL or LETTERS_DIR."""
    return {
        "CPNIGUARD_DATABASE_URL": database_url,
        "CPNIGUARD_AUDIT_SIGNING_KEY": TEST_SIGNING_KEY,
        "CPNIGUARD_AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "CPNIGUARD_OUTBOX_DIR": str(tmp_path / "outbox"),
    }


@pytest.fixture
def app(env: dict[str, str], clock: FixedClock) -> Iterator[App]:
    built = build(load_settings(env), clock)
    upgrade(built.engine)
    yield built
    built.close()


def status(app: App, customer: Customer) -> str:
    [record] = list_notices(app.uow(), customer.id)
    return record.status


def queue_by(app: App, actor: Actor, customer: Customer, channel: Channel, recipient: str) -> Notice:
    """A notice routed to one channel only."""
    notice = compose(customer, NoticeEvent.PASSWORD_CHANGED, T0, Letterhead(), route=(Stop(channel, recipient),))
    with app.uow() as uow:
        queue_notice(uow, actor, T0, notice)
        uow.commit()
    return notice


def test_with_nothing_configured_email_sms_voice_and_letters_are_written_to_the_outbox_folder(
    app: App, actor: Actor, tmp_path: Path
) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    sent = {
        Channel.EMAIL: queue_by(app, actor, customer, Channel.EMAIL, "ada@example.com"),
        Channel.SMS: queue_by(app, actor, customer, Channel.SMS, PHONE),
        Channel.VOICE: queue_by(app, actor, customer, Channel.VOICE, PHONE),
        Channel.LETTER: queue_by(app, actor, customer, Channel.LETTER, ADDRESS_BLOCK),
    }
    assert run_worker(app, once=True).outcomes == {"delivered": 4}
    outbox = tmp_path / "outbox"
    for channel, recipient in ((Channel.EMAIL, "ada@example.com"), (Channel.SMS, PHONE), (Channel.VOICE, PHONE)):
        text = (outbox / channel.value / f"{sent[channel].id}.0.txt").read_text()
        assert text.startswith(f"To: {recipient}\nSubject: {sent[channel].subject}\nChannel: {channel.value}\n")
        assert text.endswith(sent[channel].body + "\n")
    [letter] = (outbox / "letters" / T0.date().isoformat()).iterdir()
    assert letter.name == f"{sent[Channel.LETTER].id}.0.pdf" and letter.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in outbox.iterdir()) == ["email", "letters", "sms", "voice"]


def test_the_worker_without_once_delivers_to_the_folder_keeps_polling_and_stops_cleanly_on_sigterm(
    app: App, actor: Actor, env: dict[str, str], tmp_path: Path
) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, "ada@new.example")
    [record] = list_notices(app.uow(), customer.id)
    command = [str(Path(sys.executable).with_name("cpniguard")), "worker", "--json"]
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + WAIT
        while status(app, customer) != "delivered" and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        assert status(app, customer) == "delivered"
        time.sleep(1.5)  # a poll or more with nothing due: it waits rather than exits
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert json.loads(out) == {"claimed": 1, "outcomes": {"delivered": 1}}
    written = (tmp_path / "outbox" / "email" / f"{record.notice.id}.0.txt").read_text()
    assert written.startswith("To: ada@example.com\n")  # NOTIFY-5: the address of record before the change
    assert record.notice.body in written and "ada@new.example" not in written


def _delivery_processes(parent: int) -> set[int]:
    """The pool's delivery processes: spawned children, not multiprocessing's resource tracker."""
    found = set()
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    for pid in children:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            found.add(int(pid))
    return found


def _until(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.1)


def test_worker_concurrency_runs_processes_restarts_one_killed_and_delivers_every_notice_once(
    app: App, actor: Actor, env: dict[str, str], tmp_path: Path
) -> None:
    customers = [a_customer(app, actor, at=TWO_YEARS_AGO) for _ in range(12)]
    notices = [queue_by(app, actor, c, Channel.EMAIL, f"user{n}@example.com") for n, c in enumerate(customers)]
    command = [str(Path(sys.executable).with_name("cpniguard")), "worker", "--concurrency", "2", "--json"]
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _until(lambda: len(_delivery_processes(process.pid)) == 2, process)
        first = _delivery_processes(process.pid)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)  # as the kernel's OOM killer would
        _until(lambda: len(_delivery_processes(process.pid) - {victim}) == 2, process)
        assert victim not in _delivery_processes(process.pid)
        _until(lambda: all(status(app, c) == "delivered" for c in customers), process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert json.loads(out)["outcomes"].get("delivered", 0) <= len(notices)
    written = sorted(p.name for p in (tmp_path / "outbox" / "email").iterdir())
    assert written == sorted(f"{n.id}.0.txt" for n in notices)


def test_worker_concurrency_with_once_stops_when_nothing_is_due_and_adds_up_the_processes(
    app: App, actor: Actor, env: dict[str, str]
) -> None:
    customers = [a_customer(app, actor, at=TWO_YEARS_AGO) for _ in range(6)]
    for n, c in enumerate(customers):
        queue_by(app, actor, c, Channel.SMS, f"+1202555{n:04d}")
    command = [str(Path(sys.executable).with_name("cpniguard")), "worker", "--concurrency", "2", "--once", "--json"]
    done = subprocess.run(command, check=False, env={**os.environ, **env}, capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"claimed": 6, "outcomes": {"delivered": 6}}
    assert all(status(app, c) == "delivered" for c in customers)
