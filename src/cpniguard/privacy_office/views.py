"""The privacy office's records as plain dicts: what `cpniguard ... --json` prints and the API answers."""

from __future__ import annotations

from typing import Any

from cpniguard.privacy_office.model import BrokerAction, Complaint, ComplaintCounts, TrainingDue, TrainingRecord
from cpniguard.privacy_office.policies import PolicyVersion


def policy_view(v: PolicyVersion, with_text: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(v.id),
        "version": v.version,
        "language": v.language.value,
        "effective_on": v.effective_on.isoformat(),
        "summary": v.summary,
        "material": v.material,
        "published_by": v.published_by,
        "published_at": v.published_at.isoformat(),
    }
    return {**view, "text": v.text} if with_text else view


def notice_view(v: PolicyVersion | None) -> dict[str, Any] | None:
    """The portal's home-page notice of a material change, or None."""
    if v is None:
        return None
    return {"version": v.version, "effective_on": v.effective_on.isoformat(), "summary": v.summary}


def complaint_view(c: Complaint) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "received_at": c.received_at.isoformat(),
        "category": c.category.value,
        "channel": c.channel.value,
        "customer": str(c.customer_id) if c.customer_id else None,
        "summary": c.summary,
        "status": c.status,
        "resolution": c.resolution,
        "closed_at": c.closed_at.isoformat() if c.closed_at else None,
        "recorded_by": c.recorded_by,
    }


def counts_view(counts: ComplaintCounts) -> dict[str, Any]:
    by_month = {f"{counts.year}-{month:02d}": row for month, row in counts.by_month.items()}
    return {"year": counts.year, "total": counts.total, "by_category": counts.by_category, "by_month": by_month}


def broker_action_view(a: BrokerAction) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "taken_on": a.taken_on.isoformat(),
        "forum": a.forum.value,
        "broker": a.broker,
        "description": a.description,
        "recorded_by": a.recorded_by,
    }


def training_view(r: TrainingRecord) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "staff": r.staff_name,
        "course": r.course,
        "completed_on": r.completed_on.isoformat(),
        "expires_on": r.expires_on.isoformat(),
        "recorded_by": r.recorded_by,
    }


def training_list_view(records: list[TrainingRecord], discipline_policy_id: str) -> dict[str, Any]:
    """SAFE-2: the training on record, with the disciplinary policy that backs it."""
    policy = discipline_policy_id or None
    return {"discipline_policy_id": policy, "records": [training_view(r) for r in records]}


def due_view(d: TrainingDue) -> dict[str, Any]:
    expires = d.expires_on.isoformat() if d.expires_on else None
    return {"staff": d.staff_name, "roles": sorted(d.roles), "expires_on": expires, "status": d.status}
