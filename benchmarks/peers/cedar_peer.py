"""The purpose gate in Cedar (``gate.cedar``), evaluated in process by cedarpy (PyPI ``cedarpy``).

Optional peer: :class:`CedarPeer` imports cedarpy when built, so a missing package fails alone.
The policy set and the (empty) entity set are parsed once; each decision is one
``cedarpy.is_authorized`` call with the purpose as the action and the facts as the context.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

CEDAR_POLICY = Path(__file__).resolve().parent / "gate.cedar"
FLAGS = (
    "objection_active",
    "opt_in_active",
    "opt_out_presumed",
    "listing_published",
    "has_reference",
    "offer_within_subscribed",
)


class CedarPeer:
    PRINCIPAL = 'Agent::"cpni-agent"'
    RESOURCE = 'Customer::"c0"'

    def __init__(self, policy_path: Path = CEDAR_POLICY) -> None:
        import cedarpy  # type: ignore[import-untyped,import-not-found,unused-ignore]

        self._is_authorized = cedarpy.is_authorized
        self._policies = cedarpy.PolicySet.from_str(policy_path.read_text(encoding="utf-8"))
        self._entities = cedarpy.Entities.from_json_str("[]")

    def decide(self, facts: Mapping[str, Any]) -> bool:
        request = {
            "principal": self.PRINCIPAL,
            "action": f'Action::"{facts["purpose"]}"',
            "resource": self.RESOURCE,
            "context": {flag: bool(facts[flag]) for flag in FLAGS},
        }
        return bool(self._is_authorized(request, self._policies, self._entities).allowed)
