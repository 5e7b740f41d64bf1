"""The check endpoint's group commit (api/gate_queue.py): concurrent checks share transactions,
each caller gets its own answer only after its ledger entry is committed (SAFE-1), and a
failed transaction answers nobody with an allow."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from sqlalchemy import text

from cpniguard.actors import Actor
from cpniguard.api.gate_queue import GateQueue
from cpniguard.audit.service import verify
from cpniguard.bootstrap import App
from cpniguard.decisions import service
from cpniguard.decisions.model import Purpose, Request
from cpniguard.decisions.service import Check
from cpniguard.errors import NotFound, StorageUnavailable
from cpniguard.ids import CustomerId
from tests.conftest import a_customer


def _gate_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cpniguard-gate"]


@pytest.mark.parametrize("lanes", [1, 2])
def test_concurrent_checks_share_transactions_and_each_is_in_the_ledger_safe_1(
    app: App, actor: Actor, monkeypatch: pytest.MonkeyPatch, lanes: int
) -> None:
    customers = [a_customer(app, actor, name=f"Customer {i}").id for i in range(5)]
    groups: list[int] = []
    real = service.check_many

    def counting(uow, clock, checks):  # type: ignore[no-untyped-def]
        groups.append(len(checks))
        return real(uow, clock, checks)

    monkeypatch.setattr("cpniguard.api.gate_queue.check_many", counting)
    queue = GateQueue(app, lanes=lanes)  # two lanes: two transactions in flight, one chain
    purposes = [Purpose.BILLING, Purpose.MARKETING_THIRD_PARTY]
    checks = [Check(actor, customers[i % 5], Request(purposes[i % 2])) for i in range(200)]

    async def run() -> list[tuple[object, object]]:
        return await asyncio.gather(*(queue.check(c) for c in checks))

    answers = asyncio.run(run())
    assert [d.allowed for _, d in answers] == [i % 2 == 0 for i in range(200)]  # type: ignore[attr-defined]
    assert sum(groups) == 200 and len(groups) < 200  # grouped, and nobody decided twice
    with app.uow() as uow:
        assert len(uow.audit.find(None, "decisions:", 1000)) == 200
    assert verify(app.uow(), app.verifier).ok


def test_an_unknown_customer_fails_only_its_own_check(app: App, actor: Actor) -> None:
    known = a_customer(app, actor).id
    queue = GateQueue(app)

    async def run() -> list[object]:
        unknown = Check(actor, CustomerId(uuid.uuid4()), Request(Purpose.BILLING))
        good = Check(actor, known, Request(Purpose.BILLING))
        return await asyncio.gather(queue.check(good), queue.check(unknown), queue.check(good), return_exceptions=True)

    first, second, third = asyncio.run(run())
    assert isinstance(second, NotFound)
    assert first[1].allowed and third[1].allowed  # type: ignore[index]


def test_a_failed_transaction_answers_every_caller_with_the_error_never_allow(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor).id
    queue = GateQueue(app)
    with app.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_head RENAME TO audit_head_gone"))
    try:

        async def run() -> list[object]:
            check = Check(actor, customer, Request(Purpose.BILLING))
            return await asyncio.gather(*(queue.check(check) for _ in range(10)), return_exceptions=True)

        answers = asyncio.run(run())
    finally:
        with app.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_head_gone RENAME TO audit_head"))
    assert all(isinstance(a, StorageUnavailable) for a in answers), answers
    with app.uow() as uow:
        assert uow.audit.find(customer, "decisions:", 10) == []


def test_the_writer_thread_ends_when_idle_and_the_next_check_starts_another(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor).id
    queue = GateQueue(app, idle_seconds=0.05)

    async def one() -> bool:
        _, decision = await queue.check(Check(actor, customer, Request(Purpose.BILLING)))
        return decision.allowed

    assert asyncio.run(one())
    for thread in _gate_threads():
        thread.join(timeout=5)
    assert _gate_threads() == []
    assert asyncio.run(one())
