"""Which scenario rules fire for a request, and what they do to it.

Every rule that matches is counted (for `after`, `every`, `times`); every rule
that fires applies: the first forced response wins, chaos effects add up.
Probabilities and random latencies come from the mock's chaos source, seeded
from the run's seed, so the same requests replay the same decisions.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._runtime.state.protocol import RuleCounts
from .._spec.model import Operation
from .model import Chaos, Forced, Rule, Scenario


@dataclass
class Decision:
    """The combined effect of the rules that fired."""

    rules: list[Rule] = field(default_factory=list)
    forced: Forced | None = None
    delay: float = 0.0
    reset: bool = False
    truncate: bool = False
    malformed: bool = False
    trickle: tuple[int, float] | None = None

    @property
    def label(self) -> str | None:
        return ", ".join(r.label for r in self.rules) or None

    @property
    def reshapes_delivery(self) -> bool:
        return self.delay > 0 or self.reset or self.truncate or self.malformed or self.trickle is not None

    def add_chaos(self, chaos: Chaos, rng: random.Random) -> None:
        if chaos.latency is not None:
            low, high = chaos.latency
            self.delay += low if low == high else rng.uniform(low, high)
        self.reset |= chaos.reset
        self.truncate |= chaos.truncate
        self.malformed |= chaos.malformed
        self.trickle = chaos.trickle or self.trickle


def subset(wanted: Any, actual: Any) -> bool:
    """`wanted` is contained in `actual`: every key of a mapping, recursively; other values equal."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(k in actual and subset(v, actual[k]) for k, v in wanted.items())
    return bool(wanted == actual)


def decide(
    scenario: Scenario,
    op: Operation,
    path_values: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: Any,
    rng: random.Random,
    counter: RuleCounts | None = None,
) -> Decision | None:
    """Count the matching rules and combine those that fire; None when none fires.
    `counter`: where the counts live when several processes share them (default: the rules)."""
    decision: Decision | None = None
    for index, rule in enumerate(scenario.rules):
        if id(op) not in rule.operations or not rule.enabled:
            continue
        if any(path_values.get(k) != v for k, v in rule.path_params.items()):
            continue
        if any(query.get(k) != v for k, v in rule.query.items()):
            continue
        if any(headers.get(k) != v for k, v in rule.headers.items()):
            continue
        if rule.body is not None and not subset(rule.body, body):
            continue
        if counter is not None:
            lucky = rule.probability is None or rng.random() < rule.probability
            name = f"{scenario.source}#{scenario.name}#{index}#{rule.label}"
            times = -1 if rule.times is None else rule.times
            rule.matched, rule.fired, fires = counter.count(name, rule.after or 0, rule.every or 0, times, lucky)
            if not fires:
                continue
        else:
            rule.matched += 1
            n = rule.matched
            if rule.after is not None and n < rule.after:
                continue
            if rule.every is not None and n % rule.every != 0:
                continue
            if rule.times is not None and rule.fired >= rule.times:
                continue
            if rule.probability is not None and rng.random() >= rule.probability:
                continue
            rule.fired += 1
        decision = decision or Decision()
        decision.rules.append(rule)
        if rule.forced is not None and decision.forced is None:
            decision.forced = rule.forced
        if rule.chaos is not None:
            decision.add_chaos(rule.chaos, rng)
    return decision


def needs_body(scenario: Scenario, op: Operation) -> bool:
    """Whether any rule for `op` matches on the request body (so it must be read first)."""
    return any(rule.body is not None and id(op) in rule.operations for rule in scenario.rules)
