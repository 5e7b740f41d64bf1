"""NOTICE-9: an opt-out the customer makes themselves (on the portal, say) is recorded and
acknowledged in one transaction: the acknowledgement goes to the contacts of record."""

from __future__ import annotations

from cpniguard.actors import Actor
from cpniguard.clock import Clock
from cpniguard.consent.model import Channel, ConsentEvent, ConsentEventKind
from cpniguard.consent.service import append_event
from cpniguard.errors import Conflict, NotFound
from cpniguard.ids import CustomerId, new_id
from cpniguard.notifications.model import NoticeEvent
from cpniguard.notifications.service import Letterhead, compose, queue_notice
from cpniguard.ports import UnitOfWork
from cpniguard.text import clean_text


def record_acknowledged_opt_out(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    letterhead: Letterhead,
    customer_id: CustomerId,
    channel: Channel,
    evidence: str = "",
) -> tuple[ConsentEvent, bool]:
    """The opt-out, and whether its acknowledgement was queued (False: no contact of record,
    so the customer has only the acknowledgement on the page)."""
    now = clock.now()
    event = ConsentEvent(
        new_id(),
        customer_id,
        ConsentEventKind.OPT_OUT,
        channel,
        now,
        now,
        actor.label,
        clean_text(evidence, "evidence", 0, 2000),
    )
    with uow:
        customer = uow.customers.get(customer_id)
        if customer is None:
            raise NotFound(f"unknown customer: {customer_id}")
        stored, _ = append_event(uow, actor, event, now)
        try:
            notice = compose(customer, NoticeEvent.OPT_OUT_RECORDED, now, letterhead)
        except Conflict:
            notice = None
        if notice is not None:
            queue_notice(uow, actor, now, notice)
        uow.commit()
    return stored, notice is not None
