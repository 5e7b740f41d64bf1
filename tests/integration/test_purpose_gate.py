"""The gate on SQLite and PostgreSQL: the set-based batch agrees with one-by-one decisions,
every decision lands in the ledger, and the gate fails closed when consent cannot be read."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.consent.model import Channel, ConsentEventKind, fold
from cpniguard.consent.service import record_event
from cpniguard.customers.model import Customer, ListingStatus, ServiceCategory
from cpniguard.db.batch_scan import HalfScan
from cpniguard.decisions.model import Purpose, Request, decide
from cpniguard.decisions.service import Check, check, check_batch, check_many, facts_of
from cpniguard.errors import NotFound, StorageUnavailable
from cpniguard.ids import CustomerId, new_id
from tests.conftest import T0, a_customer

K = ConsentEventKind
REQUESTS = [
    Request(Purpose.MARKETING_COMMUNICATIONS),
    Request(Purpose.MARKETING_THIRD_PARTY),
    Request(Purpose.MARKETING_SUBSCRIBED),
    Request(Purpose.MARKETING_SUBSCRIBED, offer_category=ServiceCategory.WIRELESS),
    Request(Purpose.MARKETING_SUBSCRIBED, offer_category=ServiceCategory.UCAAS),
    Request(Purpose.DIRECTORY_PUBLISHING),
    Request(Purpose.LEGAL_PROCESS),
    Request(Purpose.LEGAL_PROCESS, reference="court order 7"),
    Request(Purpose.BILLING),
]


def random_carrier(app: App, actor: Actor, rng: random.Random, n: int) -> list[Customer]:
    categories = list(ServiceCategory)
    customers = []
    for i in range(n):
        customer = a_customer(
            app,
            actor,
            name=f"Customer {i}",
            telephone_numbers=(f"+1312555{2000 + i}",),
            services=tuple(rng.sample(categories, rng.randint(1, 3))),
            listing_status=rng.choice(list(ListingStatus)),
        )
        for _ in range(rng.randint(0, 5)):
            kind = rng.choice(
                [
                    K.OPT_OUT_NOTICE_SENT,
                    K.OPT_OUT_NOTICE_SENT,
                    K.OPT_OUT,
                    K.OPT_OUT_WITHDRAWN,
                    K.OPT_IN,
                    K.OPT_IN_REVOKED,
                    K.OPT_OUT_NOTICE_BOUNCED,
                ]
            )
            channel = Channel.EMAIL if kind is K.OPT_OUT_NOTICE_BOUNCED else rng.choice([Channel.EMAIL, Channel.MAIL])
            at = T0 + timedelta(days=rng.randint(-900, 400), hours=rng.randint(0, 23))
            record_event(app.uow(), app.clock, actor, customer.id, kind, channel, at=at)
        customers.append(customer)
    return customers


def one_by_one(app: App, customers: list[Customer], request: Request, at: object) -> tuple[set, Counter]:  # type: ignore[type-arg]
    allowed, denied = set(), Counter()
    with app.uow() as uow:
        for customer in customers:
            decision = decide(
                request, facts_of(customer, at), fold(customer.id, uow.consent.events(customer.id), at), at
            )  # type: ignore[arg-type]
            if decision.allowed:
                allowed.add(str(customer.id))
            else:
                denied[decision.reason] += 1
    return allowed, denied


def test_the_batch_gate_agrees_with_one_by_one_decisions_at_any_moment(app: App, actor: Actor) -> None:
    customers = random_carrier(app, actor, random.Random(7), 30)
    for days in (1, 45, 200, 800):  # later moments fall before some events: the replay path
        at = T0 + timedelta(days=days)
        for request in REQUESTS:
            outcome = check_batch(app.uow(), app.clock, actor, request, at=at)
            allowed, denied = one_by_one(app, customers, request, at)
            assert set(outcome.allowed) == allowed, (request, days)
            assert outcome.denied == dict(denied), (request, days)


def test_a_batch_over_chosen_customers_decides_only_for_them(app: App, actor: Actor) -> None:
    customers = random_carrier(app, actor, random.Random(3), 6)
    chosen = [c.id for c in customers[:3]]
    outcome = check_batch(app.uow(), app.clock, actor, Request(Purpose.BILLING), customers=chosen)
    assert sorted(outcome.allowed) == sorted(str(c) for c in chosen) and outcome.total == 3


def test_a_consent_read_that_fails_denies_and_never_allows(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor)
    record_event(app.uow(), app.clock, actor, customer.id, K.OPT_IN, Channel.WEB)
    with app.engine.begin() as conn:
        conn.execute(text("ALTER TABLE consent_state RENAME TO consent_state_gone"))
    try:
        if app.engine.dialect.name == "postgresql":
            # PostgreSQL aborts the transaction: the request fails as a whole, nothing is allowed.
            with pytest.raises(StorageUnavailable):
                check(app.uow(), app.clock, actor, customer.id, Request(Purpose.MARKETING_THIRD_PARTY))
        else:
            decision = check(app.uow(), app.clock, actor, customer.id, Request(Purpose.MARKETING_THIRD_PARTY))
            assert not decision.allowed
            assert decision.reason == "consent state unavailable"
    finally:
        with app.engine.begin() as conn:
            conn.execute(text("ALTER TABLE consent_state_gone RENAME TO consent_state"))


@pytest.mark.parametrize("purpose", [Purpose.MARKETING_COMMUNICATIONS, Purpose.PROVIDE_SERVICE])
def test_every_single_decision_is_written_before_the_answer(app: App, actor: Actor, purpose: Purpose) -> None:
    customer = a_customer(app, actor)
    decision = check(app.uow(), app.clock, actor, customer.id, Request(purpose))
    with app.uow() as uow:
        [entry] = uow.audit.find(customer.id, "decisions:", 10)
    assert entry.outcome == ("allowed" if decision.allowed else "denied") and entry.purpose == purpose.value
    assert entry.reason == decision.reason and entry.actor == actor.label


def test_checks_decided_together_answer_each_caller_and_audit_each_decision(app: App, actor: Actor) -> None:
    opted_in, plain = a_customer(app, actor), a_customer(app, actor, telephone_numbers=("+13125550199",))
    record_event(app.uow(), app.clock, actor, opted_in.id, K.OPT_IN, Channel.WEB)
    unknown = CustomerId(new_id())
    third_party = Request(Purpose.MARKETING_THIRD_PARTY)
    _, answers = check_many(
        app.uow(),
        app.clock,
        [
            Check(actor, opted_in.id, third_party),
            Check(actor, unknown, third_party),
            Check(actor, plain.id, third_party),
        ],
    )
    assert [getattr(a, "allowed", None) for a in answers] == [True, None, False]
    assert isinstance(answers[1], NotFound)
    with app.uow() as uow:
        decided = uow.audit.find(None, "decisions:cpni-use", 10)
    assert sorted(e.customer_id for e in decided) == sorted([str(opted_in.id), str(plain.id)])


@pytest.mark.parametrize("purpose", [Purpose.MARKETING_COMMUNICATIONS, Purpose.MARKETING_THIRD_PARTY])
def test_a_whole_table_batch_read_in_two_halves_answers_as_one_pass_does(
    app: App, actor: Actor, monkeypatch: pytest.MonkeyPatch, purpose: Purpose
) -> None:
    if app.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite files are read in two halves (a child process reads the upper one)")
    random_carrier(app, actor, random.Random(11), 30)
    whole = check_batch(app.uow(), app.clock, actor, Request(purpose))
    monkeypatch.setattr("cpniguard.db.batch.SPLIT_FROM", 2)
    started = []
    real_start = HalfScan.start

    def start(database: str, sql: str, params: list[object]) -> HalfScan | None:
        child = real_start(database, sql, params)
        started.append(child)
        return child

    monkeypatch.setattr(HalfScan, "start", staticmethod(start))
    halves = check_batch(app.uow(), app.clock, actor, Request(purpose))
    assert len(started) == 1 and started[0] is not None  # the upper half was read by a child
    assert sorted(halves.allowed) == sorted(whole.allowed) and halves.denied == whole.denied
    assert halves.total == whole.total == 30 and whole.allowed  # both answers are non-trivial
