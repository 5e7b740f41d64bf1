"""Who acts: every service function is told, because the ledger must name it (rule 5)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "staff", "system", "customer", "api-key"
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    @classmethod
    def system(cls, name: str = "cpniguard") -> Actor:
        return cls("system", name)

    @classmethod
    def cli(cls, user: str) -> Actor:
        return cls("staff", user, frozenset({"admin"}))
