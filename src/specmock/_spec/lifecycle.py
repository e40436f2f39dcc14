"""Declarative lifecycles: states, timed or read-counted transitions, weighted outcomes.

A collection declares its lifecycle in data (`x-specmock.collections.X.lifecycle`,
overridable by scenarios); nothing here knows what a scan is. Transitions are
evaluated lazily whenever an item is read, listed or checked, against the
clock, so state is always consistent with time and no background task runs.

Every random draw for an item's step n comes from a source seeded with
(seed, collection, key, n): outcomes and timings repeat with the seed, however
often and whenever a client polls.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .templates import render, template_errors

if TYPE_CHECKING:
    from faker import Faker

#: Where an item keeps its lifecycle bookkeeping; never shown to clients.
META = "__specmock__"

#: A duration string. Linear by construction: no two neighbouring repeats can match the same
#: character (the classic `\s*(unit)?\s*$` is quadratic on "1" + spaces + "x"), so a failed
#: match backtracks each character at most once. The scenario schema uses the same pattern.
DURATION_PATTERN = r"^\s*(\d+(?:\.\d+)?)\s*(?:(ms|s|m|h)\s*)?$"
_DURATION = re.compile(DURATION_PATTERN)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """``1.5``, ``"500ms"``, ``"2s"``, ``"1m"``: seconds, or ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"a duration cannot be negative: {value!r}")
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return float(m.group(1)) * _UNITS[m.group(2)]
    raise ValueError(f"not a duration: {value!r} (use seconds, or a string such as '500ms', '2s', '1m')")


@dataclass(frozen=True)
class State:
    """A state, what entering it sets, and how it is left (None when terminal)."""

    name: str
    on_enter: dict[str, Any]
    after: float | None = None
    jitter: float = 0.0
    after_reads: int | None = None
    outcomes: tuple[tuple[str, float], ...] = ()

    @property
    def terminal(self) -> bool:
        return not self.outcomes


@dataclass(frozen=True)
class Lifecycle:
    """A collection's states and the field that holds the current one."""

    field: str
    initial: str
    states: dict[str, State]
    raw: dict[str, Any]

    def start(
        self,
        item: dict[str, Any],
        now: datetime,
        rng_for: Callable[[int], random.Random],
        faker: Faker,
        state: str | None = None,
        given: frozenset[str] = frozenset(),
    ) -> None:
        """Put a new item in its initial state, or in `state` (a fixture's), passing through the
        states on the way there so their fields are set too (a completed scan has started)."""
        path = self.path_to(state) if state is not None else [self.initial]
        for step, name in enumerate(path):
            self._enter(item, name, now, step, rng_for, faker, keep=given)

    def path_to(self, target: str) -> list[str]:
        """The shortest chain of states from the initial one to `target`."""
        previous: dict[str, str | None] = {self.initial: None}
        todo = [self.initial]
        while todo:
            current = todo.pop(0)
            if current == target:
                break
            for nxt, _ in self.states[current].outcomes:
                if nxt not in previous:
                    previous[nxt] = current
                    todo.append(nxt)
        if target not in previous:
            return [target]
        chain: list[str] = []
        node: str | None = target
        while node is not None:
            chain.append(node)
            node = previous[node]
        return chain[::-1]

    def advance(
        self, item: dict[str, Any], now: datetime, read: bool, rng_for: Callable[[int], random.Random], faker: Faker
    ) -> bool:
        """Apply every transition due by `now`; True when the item changed."""
        meta = item.get(META)
        if meta is None:
            return False
        changed = False
        if read and meta.get("reads") is not None:
            meta["reads"] += 1
            changed = True
        now_ts = now.timestamp()
        for _ in range(len(self.states) * 4):  # a bound; cycles with zero delays cannot spin forever
            state = self.states.get(item.get(self.field, ""))
            if state is None or state.terminal:
                break
            due = meta.get("due")
            by_time = due is not None and now_ts >= due
            by_reads = state.after_reads is not None and meta.get("reads", 0) > state.after_reads
            if not (by_time or by_reads):
                break
            at = datetime.fromtimestamp(due, UTC) if by_time and due is not None else now
            self._enter(item, meta["next"], at, meta["step"] + 1, rng_for, faker, keep=frozenset())
            meta = item[META]
            if read and meta["reads"] is not None:
                meta["reads"] = 1  # this read shows the new state: it counts as its first
            changed = True
        return changed

    def _enter(
        self,
        item: dict[str, Any],
        name: str,
        at: datetime,
        step: int,
        rng_for: Callable[[int], random.Random],
        faker: Faker,
        keep: frozenset[str],
    ) -> None:
        state = self.states[name]
        rng = rng_for(step)
        item[self.field] = name
        for key, value in render(state.on_enter, at, rng, faker).items():
            if key not in keep:
                item[key] = value
        meta: dict[str, Any] = {"step": step, "reads": None, "due": None, "next": None}
        if not state.terminal:
            names = [n for n, _ in state.outcomes]
            meta["next"] = rng.choices(names, weights=[w for _, w in state.outcomes])[0]
            if state.after is not None:
                delay = max(0.0, state.after + rng.uniform(-state.jitter, state.jitter))
                meta["due"] = (at + timedelta(seconds=delay)).timestamp()
            if state.after_reads is not None:
                meta["reads"] = 0
        item[META] = meta


#: Problems found in a declaration: (path inside it, reason).
_Errors = list[tuple[tuple[Any, ...], str]]


def compile_lifecycle(
    raw: Any, field_enum: list[Any] | None = None, *, allow_unreachable: bool = False
) -> tuple[Lifecycle | None, list[tuple[tuple[Any, ...], str]]]:
    """A Lifecycle from its declaration, or the errors as (path inside `raw`, reason).

    A spec must reach every state it declares; an override (a scenario forcing
    every scan to fail) may leave some unreachable, but must still settle.
    """
    errors: list[tuple[tuple[Any, ...], str]] = []
    if not isinstance(raw, dict):
        return None, [((), "a lifecycle must be a mapping")]
    unknown = set(raw) - {"field", "initial", "states"}
    if unknown:
        errors.append(((sorted(unknown)[0],), f"unknown key {sorted(unknown)[0]!r} (known: field, initial, states)"))
    field = raw.get("field")
    initial = raw.get("initial")
    raw_states = raw.get("states")
    if not isinstance(field, str) or not field:
        errors.append((("field",), "'field' must name the item field that holds the state"))
    if not isinstance(raw_states, dict) or not raw_states:
        return None, [*errors, (("states",), "'states' must map each state to its declaration")]
    if initial not in raw_states:
        errors.append((("initial",), f"initial state {initial!r} is not one of the states"))
    states: dict[str, State] = {}
    for name, decl in raw_states.items():
        state = _state(name, decl or {}, raw_states, field_enum, errors)
        if state is not None:
            states[name] = state
    if errors:
        return None, errors
    assert isinstance(field, str) and isinstance(initial, str)
    errors = _settling_errors(states, initial, allow_unreachable)
    if errors:
        return None, errors
    return Lifecycle(field=field, initial=initial, states=states, raw=raw), []


def _state(
    name: str, decl: Any, raw_states: dict[str, Any], field_enum: list[Any] | None, errors: _Errors
) -> State | None:
    """State `name` from its declaration, its problems appended to `errors` (None: not a mapping)."""
    at = ("states", name)
    if not isinstance(decl, dict):
        errors.append((at, "a state must be a mapping"))
        return None
    if field_enum is not None and name not in field_enum:
        errors.append((at, f"unknown state {name!r}: the schema allows {field_enum}"))
    bad = set(decl) - {"after", "jitter", "afterReads", "next", "onEnter"}
    if bad:
        errors.append(((*at, sorted(bad)[0]), f"unknown key {sorted(bad)[0]!r} in state {name!r}"))
    on_enter = decl.get("onEnter") or {}
    if not isinstance(on_enter, dict):
        errors.append(((*at, "onEnter"), "onEnter must map fields to values"))
        on_enter = {}
    errors += [((*at, "onEnter"), e) for e in template_errors(on_enter)]
    after, jitter = _durations(name, decl, errors)
    reads = _after_reads(name, decl, errors)
    outcomes = _outcomes(decl.get("next"), raw_states, (*at, "next"), name, errors)
    if outcomes and after is None and reads is None:
        errors.append((at, f"state {name!r} has a next state but no 'after' or 'afterReads' to reach it"))
    if not outcomes and (after is not None or reads is not None):
        errors.append((at, f"state {name!r} has 'after' but no 'next' state"))
    return State(name, on_enter, after, jitter or 0.0, reads, outcomes)


def _durations(name: str, decl: dict[str, Any], errors: _Errors) -> tuple[float | None, float | None]:
    """A state's `after` and `jitter` in seconds (None where absent or unreadable)."""
    after = jitter = None
    for key in ("after", "jitter"):
        if key in decl:
            try:
                value = parse_duration(decl[key])
            except ValueError as exc:
                errors.append((("states", name, key), f"state {name!r}: {exc}"))
                continue
            after, jitter = (value, jitter) if key == "after" else (after, value)
    return after, jitter


def _after_reads(name: str, decl: dict[str, Any], errors: _Errors) -> int | None:
    """A state's `afterReads`, a whole number >= 0 (None where absent or invalid)."""
    reads = decl.get("afterReads")
    if reads is not None and (not isinstance(reads, int) or isinstance(reads, bool) or reads < 0):
        errors.append((("states", name, "afterReads"), f"state {name!r}: afterReads must be a whole number >= 0"))
        return None
    return reads


def _settling_errors(states: dict[str, State], initial: str, allow_unreachable: bool) -> _Errors:
    """Why items of these states might not settle: an unreachable state (unless allowed), or
    no terminal state reachable from `initial`."""
    errors: _Errors = []
    reachable = _reachable(states, initial)
    for name in states:
        if name not in reachable and not allow_unreachable:
            kind = "terminal state" if states[name].terminal else "state"
            errors.append((("states", name), f"{kind} {name!r} is unreachable from the initial state {initial!r}"))
    if not any(states[n].terminal for n in reachable):
        errors.append((("states",), f"no terminal state is reachable from {initial!r}: items would never settle"))
    return errors


def _outcomes(
    value: Any, states: dict[str, Any], at: tuple[Any, ...], name: str, errors: list[tuple[tuple[Any, ...], str]]
) -> tuple[tuple[str, float], ...]:
    if value is None:
        return ()
    pairs = [(value, 1.0)] if isinstance(value, str) else list(value.items()) if isinstance(value, dict) else None
    if pairs is None:
        errors.append((at, f"state {name!r}: next must be a state or a map of state to weight"))
        return ()
    out = []
    for target, weight in pairs:
        if target not in states:
            errors.append((at, f"state {name!r}: next names unknown state {target!r}"))
        elif isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
            errors.append((at, f"state {name!r}: the weight of {target!r} must be a positive number"))
        else:
            out.append((str(target), float(weight)))
    return tuple(out)


def _reachable(states: dict[str, State], initial: str) -> set[str]:
    seen = {initial}
    todo = [initial]
    while todo:
        for target, _ in states[todo.pop()].outcomes:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def merge_lifecycle(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A scenario's override laid over a spec's declaration, state by state."""
    merged = {**base, **{k: v for k, v in override.items() if k != "states"}}
    states = {name: dict(decl or {}) for name, decl in base.get("states", {}).items()}
    for name, decl in (override.get("states") or {}).items():
        # null unsets: `after: null` turns a timed state into a read-counted one.
        merged_state = {**states.get(name, {}), **(decl or {})}
        states[name] = {k: v for k, v in merged_state.items() if v is not None}
    merged["states"] = states
    return merged


class InvalidOverride(ValueError):
    """A lifecycle override that does not give a valid lifecycle; `path` is where inside the override."""

    def __init__(self, path: tuple[Any, ...], reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def override_lifecycle(base: Lifecycle, override: dict[str, Any], field_enum: list[Any] | None) -> Lifecycle:
    """`base` with a scenario's `override` laid over it, state by state; InvalidOverride if that is no lifecycle.

    The one place an override is compiled: scenarios check theirs with it at load,
    and apps apply them with it.
    """
    lifecycle, errors = compile_lifecycle(merge_lifecycle(base.raw, override), field_enum, allow_unreachable=True)
    if errors:
        path, reason = errors[0]
        raise InvalidOverride(path, reason)
    assert lifecycle is not None
    return lifecycle
