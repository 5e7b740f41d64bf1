"""Properties of the gate over any sequence of consent events (issue 2, "done when"):
no sequence lets marketing-third-party through without an active opt-in, and no marketing
purpose passes while the customer's objection is active. The expectations come from a small
independent model: the latest relevant event decides."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cpniguard.consent.model import Channel, ConsentEvent, ConsentEventKind, fold
from cpniguard.customers.model import ServiceCategory
from cpniguard.decisions.model import MARKETING_PURPOSES, CustomerFacts, Purpose, Request, decide
from cpniguard.ids import CustomerId

K = ConsentEventKind
CID = CustomerId(uuid.UUID(int=1))
START = datetime(2024, 1, 1, tzinfo=UTC)
FACTS = CustomerFacts(listing_published=True, subscribed=frozenset({ServiceCategory.LOCAL}))

events_strategy = st.lists(
    st.tuples(st.sampled_from(list(K)), st.sampled_from([Channel.EMAIL, Channel.MAIL]), st.integers(0, 1500)),
    max_size=12,
)


def build(raw: list[tuple[ConsentEventKind, Channel, int]]) -> list[ConsentEvent]:
    made = []
    for seq, (kind, channel, day) in enumerate(raw, start=1):
        at = START + timedelta(days=day, hours=seq % 24)
        made.append(ConsentEvent(uuid.UUID(int=seq + 10), CID, kind, channel, at, at, "test", "", seq))
    return made


def latest_is(
    events: list[ConsentEvent], at: datetime, relevant: set[ConsentEventKind], wanted: ConsentEventKind
) -> bool:
    last = None
    for e in sorted(events, key=lambda e: (e.at, e.seq)):
        if e.at <= at and e.kind in relevant:
            last = e.kind
    return last is wanted


def model_objection(events: list[ConsentEvent], at: datetime) -> bool:
    return latest_is(events, at, {K.OPT_OUT, K.OPT_OUT_WITHDRAWN, K.OPT_IN}, K.OPT_OUT)


def model_opt_in(events: list[ConsentEvent], at: datetime) -> bool:
    return latest_is(events, at, {K.OPT_IN, K.OPT_IN_REVOKED, K.OPT_OUT}, K.OPT_IN)


@settings(max_examples=400, deadline=None)
@given(events_strategy, st.integers(0, 1600))
def test_third_party_marketing_never_passes_without_an_active_opt_in(raw: list, day: int) -> None:  # type: ignore[type-arg]
    events = build(raw)
    at = START + timedelta(days=day, hours=12)
    decision = decide(Request(Purpose.MARKETING_THIRD_PARTY), FACTS, fold(CID, events, at), at)
    assert decision.allowed == model_opt_in(events, at) and not (decision.allowed and model_objection(events, at))


@settings(max_examples=400, deadline=None)
@given(events_strategy, st.integers(0, 1600))
def test_no_marketing_purpose_passes_while_an_objection_is_active(raw: list, day: int) -> None:  # type: ignore[type-arg]
    events = build(raw)
    at = START + timedelta(days=day, hours=12)
    state = fold(CID, events, at)
    objected = model_objection(events, at)
    assert state.objection_active(at) == objected
    for purpose in MARKETING_PURPOSES:
        request = Request(purpose, reference="call session 1 (one-time approval)", offer_category=ServiceCategory.LOCAL)
        decision = decide(request, FACTS, state, at)
        if objected:
            assert not decision.allowed


@settings(max_examples=200, deadline=None)
@given(events_strategy)
def test_folding_all_events_equals_folding_up_to_the_last_one(raw: list) -> None:  # type: ignore[type-arg]
    events = build(raw)
    if events:
        last = max(e.at for e in events)
        assert fold(CID, events) == fold(CID, events, last)
