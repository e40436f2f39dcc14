"""`specmock verify`: the spec as stateful contract tests against a live provider.

Per family, collections parents first: create (a body from the spec's examples,
the fixtures, or the schema), read it back, list, update; a collection with a
lifecycle is polled until its item reaches a final state (within --poll-timeout,
on the provider's clock). Then, children first: delete, and read the deleted item
(which must be gone). Read-only operations that fit no collection (GETs answering
an example) are called once when their path can be filled; other such operations are
not, as their effect is unknown. Every answer is checked as `proxy` checks it (contract.check);
a step that did not do what it asked (no success, a deleted item still there) is a
finding of kind `expectation`. A step whose path needs a value nothing provided is
skipped, with the reason. Exit 0: every step passed; 1: any finding; 2: usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .._errors import LoadError
from .._spec.model import Action, Collection, Family, Operation
from .check import AnswerChecker, Finding, Kind
from .report import CheckResult, print_table, write_outputs
from .samples import parameter_examples, request_body, update_body
from .upstream import Answer, Upstream, UpstreamFailure
from .usage import UsageError

_PARAM = re.compile(r"\{([^{}]+)\}")
POLL_INTERVAL = 0.25


class Session:
    """Sends the steps, checks the answers, keeps the results and the ids the provider gave."""

    def __init__(self, upstream: Upstream, checker: AnswerChecker, headers: list[tuple[str, str]]) -> None:
        self.upstream = upstream
        self.checker = checker
        self.headers = headers
        #: Path parameter values: a parent's key (by the child's scope parameter), or a fixture's.
        self.ids: dict[str, str] = {}
        #: The key of the item created in each collection (by Collection.key).
        self.keys: dict[str, str] = {}
        self.results: list[CheckResult] = []

    def values(self, op: Operation) -> dict[str, str]:
        """The value of each of the operation's path parameters that has one: its own item's key
        for its id parameter (two collections may both call theirs `id`), else the shared ones."""
        found = {}
        for name in _PARAM.findall(op.path):
            if name == op.id_param and op.collection.key in self.keys:
                found[name] = self.keys[op.collection.key]
            elif name in self.ids:
                found[name] = self.ids[name]
        for name, value in parameter_examples(op).items():
            if name != op.id_param:
                found.setdefault(name, value)
        return found

    def path(self, op: Operation) -> str | None:
        """The operation's path with every parameter filled, or None when one has no value."""
        values = self.values(op)
        if any(name not in values for name in _PARAM.findall(op.path)):
            return None
        return _PARAM.sub(lambda m: quote(values[m.group(1)], safe=""), op.path)

    async def step(self, op: Operation, name: str, body: Any = None, expect: str = "2xx") -> Answer | None:
        """One request; its result is kept. `expect`: "2xx", or "gone" (404 or 410)."""
        path = self.path(op)
        label = f"{name} {op.method} {op.path}"
        if path is None:
            missing = [p for p in _PARAM.findall(op.path) if p not in self.values(op)]
            self.results.append(CheckResult(label, op.family.name, skipped=f"no value for {', '.join(missing)}"))
            return None
        headers = list(self.headers)
        raw = None
        if body is not None:
            raw = json.dumps(body).encode()
            headers.append(("content-type", "application/json"))
        started = time.perf_counter()
        result = CheckResult(label, op.family.name)
        self.results.append(result)
        try:
            answer = await self.upstream.send(op.method, path, headers, raw)
        except UpstreamFailure as failure:
            result.findings.append(
                Finding(op.operation_id, op.method, op.path, None, Kind.UPSTREAM, "", failure.reason)
            )
            result.seconds = time.perf_counter() - started
            return None
        result.seconds = time.perf_counter() - started
        findings, _ = self.checker.check_raw(op, op.method, path, answer.status, answer.header_map(), answer.body)
        result.findings += findings
        ok = 200 <= answer.status < 300 if expect == "2xx" else answer.status in (404, 410)
        if not ok:
            wanted = "a success (2xx)" if expect == "2xx" else "404 or 410 (the item was deleted)"
            detail = f"expected {wanted}, got {answer.status}"
            result.findings.append(
                Finding(op.operation_id, op.method, op.path, answer.status, Kind.EXPECTATION, "", detail)
            )
        result.status = answer.status
        return answer if ok else None


def _data(answer: Answer | None) -> Any:
    if answer is None or not answer.body:
        return None
    try:
        return json.loads(answer.body)
    except ValueError:
        return None


def _item(op: Operation, data: Any) -> dict[str, Any] | None:
    if op.wrap and isinstance(data, dict) and isinstance(data.get(op.wrap), dict):
        data = data[op.wrap]
    return data if isinstance(data, dict) else None


def unique(coll: Collection, body: Any) -> Any:
    """`body` with the string values of the collection's unique fields made its own, so an example
    or a fixture does not collide with the item it came from."""
    if not isinstance(body, dict):
        return body
    props = coll.schema.get("properties") or {}
    references = {r.field for r in coll.references}
    fields = {
        f
        for rule in coll.unique
        for f in rule.fields
        if f not in references and not ({"enum", "format", "pattern", "const"} & set(props.get(f) or {}))
    }
    return {k: f"{v} (verify)" if k in fields and isinstance(v, str) else v for k, v in body.items()}


def _by_action(family: Family, coll: Collection) -> dict[Action, Operation]:
    found: dict[Action, Operation] = {}
    for op in family.operations:
        if op.collection is coll and op.action not in found:
            found[op.action] = op
    return found


async def _poll(session: Session, op: Operation, coll: Collection, timeout: float) -> None:
    """Read the item until its lifecycle is in a final state, on the provider's clock."""
    lifecycle = coll.lifecycle
    if lifecycle is None:
        return
    deadline = time.monotonic() + timeout
    while True:
        data = _item(op, _data(await session.step(op, f"{op.operation_id} (until final)")))
        state = lifecycle.states.get(str(data.get(lifecycle.field))) if data else None
        if data is None or state is None or state.terminal:
            return
        session.results.pop()  # only the last read of a poll is reported
        if time.monotonic() > deadline:
            detail = f"still {data.get(lifecycle.field)!r} after {timeout:g} s"
            finding = Finding(op.operation_id, op.method, op.path, 200, Kind.EXPECTATION, f"/{lifecycle.field}", detail)
            session.results.append(CheckResult(f"{op.operation_id} (until final)", op.family.name, [finding]))
            return
        await asyncio.sleep(POLL_INTERVAL)


async def _family(session: Session, family: Family, fixtures: dict[str, list[dict[str, Any]]], poll: float) -> None:
    """Walk `family` against the provider: create an item of each collection (parents first),
    read and change it, call the GET examples, then delete what was created (children first)."""
    created: list[dict[Action, Operation]] = []
    for coll in _parents_first(family):
        ops = _by_action(family, coll)
        create = ops.get(Action.CREATE)
        if create is None:
            continue
        coll_fixtures = fixtures.get(coll.key, [])
        item = await _create(session, family, coll, create, coll_fixtures)
        if item is None:
            continue
        created.append(ops)
        await _exercise(session, family, coll, ops, item, coll_fixtures, poll)
    for op in family.operations:
        if op.action is Action.EXAMPLE and op.method == "GET":
            await session.step(op, op.operation_id)
    for ops in reversed(created):
        await _delete(session, ops)


def _parents_first(family: Family) -> list[Collection]:
    """The family's collections, each after the ones its paths go through."""

    def depth(coll: Collection) -> int:
        parent = family.collections.get(coll.parent or "")
        return len(coll.scope) + (1 + depth(parent) if parent is not None and parent is not coll else 0)

    return sorted((c for c in family.collections.values() if c.name != "_example"), key=depth)


async def _create(
    session: Session, family: Family, coll: Collection, create: Operation, coll_fixtures: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """Create an item of `coll` and note its key for the paths that name it (None: not created)."""
    for field, param in coll.scope.items():  # a parent no step created: a fixture's, if any
        known = [f[field] for f in coll_fixtures if f.get(field) is not None]
        if param not in session.ids and known:
            session.ids[param] = str(known[0])
    body = unique(coll, request_body(create, coll_fixtures))
    answer = await session.step(create, create.operation_id, body)
    item = _item(create, _data(answer))
    if item is None or item.get(coll.key_field) is None:
        return None
    session.keys[coll.key] = str(item[coll.key_field])
    for op in family.operations:  # children's paths name this item by its id parameter
        if op.collection is coll and op.id_param:
            session.ids[op.id_param] = str(item[coll.key_field])
    return item


async def _exercise(
    session: Session,
    family: Family,
    coll: Collection,
    ops: dict[Action, Operation],
    item: dict[str, Any],
    coll_fixtures: list[dict[str, Any]],
    poll: float,
) -> None:
    """Read the created item (until its lifecycle is final), list it, update, replace and set it."""
    if Action.GET in ops:
        await session.step(ops[Action.GET], ops[Action.GET].operation_id)
        await _poll(session, ops[Action.GET], coll, poll)
    if Action.LIST in ops:
        await session.step(ops[Action.LIST], ops[Action.LIST].operation_id)
    for action in (Action.UPDATE, Action.REPLACE):
        if action in ops:
            op = ops[action]
            await session.step(op, op.operation_id, update_body(op, item, coll_fixtures))
    for op in family.operations:
        if op.collection is coll and op.action is Action.SET:
            await session.step(op, op.operation_id, request_body(op, []))


async def _delete(session: Session, ops: dict[Action, Operation]) -> None:
    """Delete the created item, then check it is gone."""
    if Action.DELETE in ops:
        deleted = await session.step(ops[Action.DELETE], ops[Action.DELETE].operation_id)
        if deleted is not None and Action.GET in ops:
            get = ops[Action.GET]
            await session.step(get, f"{get.operation_id} (after delete)", expect="gone")


async def verify(args: argparse.Namespace, specs: list[Path] | None, headers: list[tuple[str, str]]) -> int:
    from .._server.app import MockApp

    try:
        mock = MockApp(specs, overlays=args.overlay or (), scenarios=args.scenario or [], ref_root=args.ref_root)
        upstream = Upstream(args.target, args.timeout)
    except (LoadError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    fixtures: dict[str, list[dict[str, Any]]] = {}
    for family in mock.families:
        for coll in family.collections.values():
            fixtures[coll.key] = list(coll.fixtures)
    if mock.scenario is not None:
        for fam, coll_name, item, _ in mock.scenario.fixtures:
            fixtures.setdefault(f"{fam}.{coll_name}", []).insert(0, item)
    session = Session(upstream, AnswerChecker(mock.router), headers)
    try:
        for family in mock.families:
            await _family(session, family, fixtures, args.poll_timeout)
    finally:
        await upstream.aclose()
    print_table(session.results)
    write_outputs(args, "specmock verify", session.results)
    return 1 if any(r.findings for r in session.results) else 0
