"""The AUTH-1 lockout as a state machine (issue 7, hostile input): right and wrong PINs, time
passing and resets through the allowed path (AMB-5: a reset code to a contact of record, then a
new PIN), on SQLite and PostgreSQL, checked after every step against a small model written here.

The model: `max_failures` failures within `window` (both ends included) lock the channel for
`lock_for` from the failure that completes them; a success clears the count; while locked every
try is refused unchecked, neither counted nor extending the lock, and is answered alike whether
the PIN was right or wrong. A reset changes the PIN and leaves a lock in force (it proves a
contact of record, not the caller on the line).
"""

from __future__ import annotations

import itertools
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from cpniguard.actors import Actor
from cpniguard.auth.codes import CodePurpose
from cpniguard.auth.lockout import LockoutPolicy, locked_until
from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.auth.service import Verification, confirm_code, send_code, set_credential, verify_credential
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.errors import Conflict
from cpniguard.notifications.model import NoticeEvent
from cpniguard.notifications.service import list_notices
from tests.conftest import T0, a_customer
from tests.integration.auth_support import audit_actions, cheap_argon2_app, pins_for

PIN = CredentialKind.PIN
TWO_YEARS_AGO = T0 - timedelta(days=730)
CODE_IN_BODY = re.compile(r"\b([0-9]{6})\b")
NUMBERS = itertools.count(2000)
ANSWERS = ("auth:pin:verified", "auth:pin:failed", "auth:pin:refused-locked")
STEPS = st.one_of(
    st.integers(0, 90).map(lambda s: timedelta(seconds=s)),
    st.integers(1, 16).map(lambda m: timedelta(minutes=m)),
    st.integers(14, 46).map(lambda m: timedelta(minutes=m, seconds=m)),
)


@dataclass
class Model:
    policy: LockoutPolicy  # the configured thresholds (AUTH-1: five in 15 minutes, by default)
    failures: list[datetime] = field(default_factory=list)  # counted, since the last success or lock
    lock_ends: datetime | None = None
    answers: list[str] = field(default_factory=list)
    locks: int = 0
    counted: int = 0
    codes_sent: list[datetime] = field(default_factory=list)

    def locked(self, now: datetime) -> bool:
        return self.lock_ends is not None and now < self.lock_ends

    def attempt(self, now: datetime, right: bool) -> Verification:
        if self.locked(now):
            self.answers.append("auth:pin:refused-locked")
            return Verification(False, True, self.lock_ends)
        self.counted += 1
        if right:
            self.failures, self.lock_ends = [], None
            self.answers.append("auth:pin:verified")
            return Verification(True, False, None)
        self.answers.append("auth:pin:failed")
        self.failures = [f for f in self.failures if f >= now - self.policy.window] + [now]
        if len(self.failures) < self.policy.max_failures:
            return Verification(False, False, None)
        self.failures, self.lock_ends, self.locks = [], now + self.policy.lock_for, self.locks + 1
        return Verification(False, True, self.lock_ends)

    def may_send_code(self, now: datetime) -> bool:
        return sum(now - timedelta(hours=1) < sent <= now for sent in self.codes_sent) < 3


class Lockout(RuleBasedStateMachine):
    def __init__(self, app: App, clock: FixedClock, actor: Actor) -> None:
        super().__init__()
        self.app, self.clock, self.actor = app, clock, actor
        n = next(NUMBERS)
        clock.move_to(TWO_YEARS_AGO)
        self.customer = a_customer(app, actor, telephone_numbers=(f"+1202555{n:04d}",), emails=(f"l{n}@example.com",))
        self.pins = pins_for(self.customer.id, 3)
        self.pin = self.pins[0]
        clock.move_to(TWO_YEARS_AGO + timedelta(hours=1))
        set_credential(
            app.uow(), clock, actor, app.auth, self.customer.id, PIN, self.pin, VerifiedBy.SERVICE_INITIATION
        )
        clock.move_to(T0)
        self.model = Model(app.auth.lockout)
        self.seen: set[uuid.UUID] = set()

    def verify(self, pin: str) -> Verification:
        return verify_credential(self.app.uow, self.clock, self.actor, self.app.auth, self.customer.id, PIN, pin)

    @rule(step=STEPS)
    def time_passes(self, step: timedelta) -> None:
        self.clock.move_to(self.clock.now() + step)

    @rule(right=st.booleans(), which=st.integers(0, 1))
    def a_caller_gives_a_pin(self, right: bool, which: int) -> None:
        wrong = [p for p in self.pins if p != self.pin][which]
        answer = self.verify(self.pin if right else wrong)
        expected = self.model.attempt(self.clock.now(), right)
        # While locked the expectation does not depend on `right`: the answer cannot tell.
        assert answer == expected, (right, self.clock.now().isoformat())

    @precondition(lambda self: self.model.locked(self.clock.now()))
    @rule()
    def while_locked_the_right_and_a_wrong_pin_are_answered_alike(self) -> None:
        wrong = next(p for p in self.pins if p != self.pin)
        with_right, with_wrong = self.verify(self.pin), self.verify(wrong)
        now = self.clock.now()
        assert with_right == with_wrong == self.model.attempt(now, True) == self.model.attempt(now, False)
        assert not with_right.verified

    @rule(which=st.integers(0, 1))
    def the_customer_resets_the_pin_by_a_code_to_a_contact_of_record(self, which: int) -> None:
        now, new = self.clock.now(), [p for p in self.pins if p != self.pin][which]
        if not self.model.may_send_code(now):
            with pytest.raises(Conflict):
                send_code(self.app.uow(), self.clock, self.actor, self.app.auth, self.customer.id, "reset-credential")
            return
        send_code(self.app.uow(), self.clock, self.actor, self.app.auth, self.customer.id, CodePurpose.RESET_CREDENTIAL)
        self.model.codes_sent.append(now)
        assert confirm_code(self.app.uow(), self.clock, self.actor, self.customer.id, self.newest_code())
        set_credential(
            self.app.uow(), self.clock, self.actor, self.app.auth, self.customer.id, PIN, new, VerifiedBy.ONE_TIME_CODE
        )
        self.pin = new

    def newest_code(self) -> str:
        """The code as the customer reads it in the code message just sent (two resets in one
        instant have equal timestamps, so the message is the one not seen before)."""
        records = list_notices(self.app.uow(), self.customer.id)
        [new] = [r for r in records if r.notice.event is NoticeEvent.ONE_TIME_CODE and r.notice.id not in self.seen]
        self.seen.add(new.notice.id)
        found = CODE_IN_BODY.search(new.notice.body)
        assert found, "the code message carries the code"
        return found.group(1)

    @invariant()
    def locked_exactly_when_the_model_says(self) -> None:
        now = self.clock.now()
        with self.app.uow() as uow:
            attempts = uow.auth.attempts(self.customer.id, PIN.value, T0 - timedelta(days=1))
            alerts = uow.auth.alerts(self.customer.id, 1000)
        assert (locked_until(self.model.policy, attempts, now) is not None) == self.model.locked(now)
        assert len(attempts) == self.model.counted  # refused-unchecked tries are not counted
        assert len(alerts) == self.model.locks  # one pretexting alert per lock

    @invariant()
    def every_attempt_is_in_the_ledger(self) -> None:
        actions = audit_actions(self.app, self.customer, "auth:pin:")
        assert [a for a in actions if a in ANSWERS] == self.model.answers
        assert actions.count("auth:pin:locked") == self.model.locks


def lettered_id() -> uuid.UUID:
    """As the conftest's customer ids (no digit runs), but drawn from the system's randomness:
    hypothesis seeds `random` alike for every example, which would repeat the id."""
    letters = [secrets.choice("abcdef") for _ in range(32)]
    letters[12], letters[16] = "4", secrets.choice("89")
    return uuid.UUID("".join(letters))


def test_the_lockout_agrees_with_a_simple_model(
    database_url: str, clock: FixedClock, actor: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cpniguard.customers.service.new_id", lettered_id)
    app = cheap_argon2_app(database_url, clock, tmp_path)
    try:
        run_state_machine_as_test(
            lambda: Lockout(app, clock, actor),
            settings=settings(
                max_examples=15 if database_url.startswith("postgresql") else 25,
                stateful_step_count=20,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        app.close()
