"""The scenario model: what a loaded scenario holds, once checked.

Token policies, rules (which requests, a forced response or chaos, how often) and the
fixtures and lifecycles a scenario brings. loader.py builds these from a file and checks
everything first, so an object here is always whole and consistent with the specs it was
checked against. Frozen where nothing changes after loading; a `Rule` counts its matches
(reset by `Scenario.fresh`) and can be switched off from the dashboard.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._spec.lifecycle import merge_lifecycle
from .._spec.model import Operation
from .._spec.yaml_lines import JsonPath


@dataclass(frozen=True)
class TokenSpec:
    """A token a scenario declares."""

    token: str
    scopes: frozenset[str] | None  # None: every scope
    revoked: bool = False
    expires_at: datetime | None = None
    subject: str | None = None  # who the token stands for (`{$caller: ...}` in a spec)


@dataclass(frozen=True)
class AuthPolicy:
    """Which tokens a family accepts and which scopes its operations need."""

    tokens: dict[str, TokenSpec]
    requires: dict[str, tuple[str, ...]]
    allow_unknown: bool = False

    def required_scopes(self, op: Operation) -> tuple[str, ...]:
        if op.operation_id in self.requires:
            return self.requires[op.operation_id]
        return ("read",) if op.method in ("GET", "HEAD") else ("write",)

    def subject(self, token: str) -> str | None:
        """The subject the scenario gives `token`, if any."""
        spec = self.tokens.get(token)
        return spec.subject if spec is not None else None


@dataclass(frozen=True)
class Forced:
    """A response a rule sends instead of the real one."""

    status: int
    body: Any = None  # None: the family's error body for the status
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chaos:
    """What a rule does to the connection or the response."""

    latency: tuple[float, float] | None = None
    reset: bool = False
    truncate: bool = False
    malformed: bool = False
    trickle: tuple[int, float] | None = None  # chunk size, interval


@dataclass
class Rule:
    """One rule: which requests, what happens, how often. Counters live here."""

    label: str
    operations: frozenset[int]  # ids of the Operation objects it can match
    path_params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any] | None
    forced: Forced | None
    chaos: Chaos | None
    times: int | None = None
    after: int | None = None
    every: int | None = None
    probability: float | None = None
    matched: int = 0
    fired: int = 0
    #: Switched off (from the dashboard): the rule neither matches nor fires until switched back on.
    enabled: bool = True


@dataclass
class Scenario:
    """A compiled scenario (or several combined: later ones win)."""

    name: str
    description: str = ""
    source: str = "<python>"
    seed: int | None = None
    fixtures: list[tuple[str, str, dict[str, Any], JsonPath]] = field(default_factory=list)
    auth: dict[str, AuthPolicy] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    lifecycles: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def fresh(self) -> Scenario:
        """A copy with its rule counters at zero (rules are stateful)."""
        clone = copy.copy(self)
        clone.rules = [copy.copy(r) for r in self.rules]
        for rule in clone.rules:
            rule.matched = rule.fired = 0
        return clone

    @classmethod
    def combine(cls, scenarios: list[Scenario]) -> Scenario:
        """Several scenarios as one; where they disagree the later one wins."""
        if len(scenarios) == 1:
            return scenarios[0]
        out = cls(name="+".join(s.name for s in scenarios), source=", ".join(s.source for s in scenarios))
        for s in scenarios:
            out.description = s.description or out.description
            out.seed = s.seed if s.seed is not None else out.seed
            out.fixtures += s.fixtures
            out.auth.update(s.auth)
            out.rules = s.rules + out.rules  # later rules are tried first
            for key, override in s.lifecycles.items():
                base = out.lifecycles.get(key)
                out.lifecycles[key] = merge_lifecycle(base, override) if base else override
        return out
