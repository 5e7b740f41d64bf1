"""decision.in_process.*: cpniguard's pure gate against Rego, pycasbin and Cedar, in process.

Every engine gets the same random facts (``policies.make_inputs``). For cpniguard each fact
dict becomes what the gate sees once a customer's consent state is loaded: a ``ConsentState``
whose objection, opt-in and presumed-approval times give those booleans at ``AT``,
``CustomerFacts`` (listing, subscribed categories) and the request's reference and offer.
The ``Request`` is built beforehand too (an unknown purpose has none: ``parse_purpose``
refuses it before the gate), so the timed call is ``decide(...).allowed``; the peers' timed
calls are their ``decide(facts)`` from ``policies.py``, which turn the dict into their own
input (JSON text for regorus, a subject string for casbin, a request dict for Cedar).
Answers are checked against ``reference_decide`` first: an engine with mismatches is void.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import Options, Result, interleaved, noise, ratio, rounded, say
from benchmarks.peers import policies
from cpniguard.consent.model import ConsentState
from cpniguard.customers.model import ServiceCategory
from cpniguard.decisions.model import CustomerFacts, Purpose, Request, decide
from cpniguard.ids import CustomerId

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SEED = 20240601
PURPOSE_BY_TEXT: dict[str, Purpose] = {p.value: p for p in Purpose}
SUBSCRIBED = frozenset({ServiceCategory.LOCAL})
Prepared = tuple[Request | None, CustomerFacts, ConsentState]


def consent_state(facts: policies.Facts, overdue: bool) -> ConsentState:
    """A consent state that answers the three consent flags of ``facts`` at ``AT``."""
    day = timedelta(days=1)
    objection = facts["objection_active"]
    opt_in = facts["opt_in_active"]
    presumed = facts["opt_out_presumed"]
    if presumed:
        presumed_from, due = AT - 40 * day, AT + 690 * day
    elif overdue:  # a lapsed notice run: the other way of "not presumed"
        presumed_from, due = AT - 800 * day, AT - 70 * day
    else:
        presumed_from, due = None, None
    return ConsentState(
        CustomerId(uuid.uuid4()),
        objection_event=uuid.uuid4() if objection else None,
        objection_since=AT - 5 * day if objection else None,
        opt_in_event=uuid.uuid4() if opt_in else None,
        opt_in_since=AT - 9 * day if opt_in else None,
        notice_event=uuid.uuid4() if presumed_from else None,
        presumed_from=presumed_from,
        renotice_due=due,
        last_event_at=AT - 2 * day,
        events_applied=3,
    )


def prepare(facts: policies.Facts, index: int) -> Prepared:
    """cpniguard's inputs for one fact dict (half of the not-presumed states are overdue ones)."""
    customer = CustomerFacts(listing_published=bool(facts["listing_published"]), subscribed=SUBSCRIBED)
    reference = "subpoena 2026-117" if facts["has_reference"] else None
    offer = ServiceCategory.LOCAL if facts["offer_within_subscribed"] else ServiceCategory.WIRELESS
    purpose = PURPOSE_BY_TEXT.get(facts["purpose"])
    request = Request(purpose, reference, offer) if purpose is not None else None
    return request, customer, consent_state(facts, overdue=index % 2 == 0)


def cpniguard_decide(item: Prepared) -> bool:
    request, customer, state = item
    # No request: the purpose is unknown, so parse_purpose refused it and nothing is used.
    return request is not None and decide(request, customer, state, AT).allowed


@dataclass(frozen=True)
class Peer:
    """A peer's timed call and the input it takes, made from a fact dict before timing."""

    label: str
    decide: Callable[[Any], bool]
    prepare: Callable[[policies.Facts], Any] = lambda facts: facts


def _rego_prebuilt_json() -> Peer:
    """Rego given its input as ready JSON text, as cpniguard is given ready objects."""
    peer = policies.RegoPeer(compiled=True)
    vm = peer._vm  # the compiled program; RegoPeer.decide does exactly this after json.dumps

    def decide_json(text: str) -> bool:
        vm.set_input_json(text)
        return vm.execute() == "true"  # type: ignore[no-any-return]

    return Peer("regorus RVM, input JSON prebuilt", decide_json, json.dumps)


def _cedar() -> Peer:
    from benchmarks.peers.cedar_peer import CedarPeer

    return Peer("cedarpy", CedarPeer().decide)


BUILDERS: dict[str, Callable[[], Peer]] = {
    "rego": lambda: Peer("regorus RVM", policies.RegoPeer(compiled=True).decide),
    "casbin_fast": lambda: Peer("casbin FastEnforcer", policies.CasbinPeer(fast=True).decide),
    "casbin_enforcer": lambda: Peer("casbin Enforcer", policies.CasbinPeer(fast=False).decide),
    "cedar": _cedar,
    "rego_prebuilt_json": _rego_prebuilt_json,
}
TARGETS: dict[str, tuple[str, float | None]] = {
    # peer -> (target text, minimum ratio; None when informational)
    "rego": (">= 10x", 10.0),
    "casbin_fast": (">= 50x", 50.0),
    "casbin_enforcer": ("informational", None),
    "cedar": ("informational", None),
    "rego_prebuilt_json": ("informational", None),
}


def _peers(options: Options) -> dict[str, Peer]:
    """Every peer that can be built here; the others are noted and skipped."""
    built: dict[str, Peer] = {}
    for name, build in BUILDERS.items():
        try:
            built[name] = build()
        except ImportError as exc:
            options.note(f"peer {name} not installed, skipped: {exc}")
    return built


def _loop(decide_one: Callable[[Any], bool], items: Sequence[Any]) -> Callable[[], None]:
    def run() -> None:
        for item in items:
            decide_one(item)

    return run


def run(options: Options) -> list[Result]:
    n_inputs = options.size(2000, 400)
    repeats = options.size(7, 2)
    passes = options.size(5, 1)  # each timed pass decides every input this many times
    inputs = policies.make_inputs(n_inputs, SEED)
    peers = _peers(options)
    items: dict[str, list[Any]] = {"cpniguard": [prepare(facts, i) for i, facts in enumerate(inputs)]}
    deciders: dict[str, Callable[[Any], bool]] = {"cpniguard": cpniguard_decide}
    for name, peer in peers.items():
        items[name] = [peer.prepare(facts) for facts in inputs]
        deciders[name] = peer.decide
    expected = [policies.reference_decide(facts) for facts in inputs]
    bad = {
        name: sum(1 for item, want in zip(items[name], expected, strict=True) if bool(deciders[name](item)) != want)
        for name in items
    }
    say(f"in-process: {n_inputs} inputs; mismatches " + ", ".join(f"{k}={v}" for k, v in bad.items()))

    contenders = {name: _loop(deciders[name], items[name] * passes) for name in items}
    times = interleaved(contenders, repeats)
    per_decision = n_inputs * passes
    us = {name: [t / per_decision * 1e6 for t in samples] for name, samples in times.items()}
    best = {name: min(samples) for name, samples in us.items()}
    for name, samples in us.items():
        say(f"  {name:20} {best[name]:8.2f} us/decision  ({noise(samples)})")

    results = []
    for name, peer in peers.items():
        target, minimum = TARGETS[name]
        r = ratio(True, best["cpniguard"], best[name])
        void = bad["cpniguard"] + bad[name]
        baseline = f"{peer.label} {best[name]:.3g} us/decision"
        if void:
            baseline += f"; VOID: {bad['cpniguard']} cpniguard and {bad[name]} peer mismatches of {n_inputs}"
        met = void == 0 and (minimum is None or r >= minimum)
        name_out = f"decision.in_process.vs_{name}"
        results.append(Result(name_out, rounded(best["cpniguard"]), "us/decision", baseline, rounded(r), target, met))
    return results
