"""Loading scenario files: fixtures, tokens and scopes, forced responses, chaos, lifecycles.

A scenario is YAML (or JSON, or a Python dict) checked in full when it loads:
unknown keys, rules that match no operation, statuses an operation does not
document, custom bodies that break the spec, broken lifecycles and fixtures
that cannot be stored all fail with the file, line and reason. A broken
scenario never half-applies. What a loaded scenario holds is model.py.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._clock import MockClock
from .._errors import LoadError, Problem
from .._runtime.engine import Engine
from .._runtime.state.store import Store
from .._spec.catalog import Catalog, split_reference
from .._spec.fastvalidation import BodyValidator
from .._spec.lifecycle import InvalidOverride, parse_duration
from .._spec.model import Family, Operation
from .._spec.schematools import inline_refs
from .._spec.validation import CompiledSchema, compile_validator, format_path, locate
from .._spec.yaml_lines import Document, JsonPath, load_yaml, parse_yaml
from .._suggest import did_you_mean
from .model import AuthPolicy, Chaos, Forced, Rule, Scenario, TokenSpec
from .schema import SCENARIO_SCHEMA

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

#: The scenario format: jsonschema-rs accepts a well-formed scenario, jsonschema words what is wrong.
_SCHEMA_VALIDATOR = BodyValidator(CompiledSchema(SCENARIO_SCHEMA))


@dataclass(frozen=True)
class ScenarioText:
    """Scenario YAML or JSON given as text (an HTTP body), never taken for a file name."""

    text: str
    name: str = "scenario"


def load_scenario(
    source: Path | str | dict[str, Any] | ScenarioText, catalog: Catalog, *, name: str | None = None, seed: int = 0
) -> Scenario:
    """Load and check a scenario against the loaded specs: a file (Path, or a str naming one),
    YAML/JSON text (ScenarioText, or a str with a newline), or a dict. `seed`: the one its
    fixtures would be stored with."""
    if isinstance(source, ScenarioText):
        doc = parse_yaml(source.text, f"<{source.name}>")
    elif isinstance(source, dict):
        doc = Document(path=Path(f"<{name or 'scenario'}>"), data=copy.deepcopy(source), lines={})
    elif isinstance(source, Path) or "\n" not in source:
        doc = load_yaml(source)
    else:
        doc = parse_yaml(source, f"<{name or 'scenario'}>")
    return compile_scenario(doc, catalog, seed=seed)


def compile_scenario(doc: Document, catalog: Catalog, *, seed: int = 0) -> Scenario:
    """Check every part of the scenario and report every problem at once (file:line each);
    only a scenario with none is returned."""
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "a scenario must be a mapping")
    problems: list[LoadError] = [
        doc.error(at, _NOT_JSON_NUMBER.format(where=format_path(at))) for at in _non_finite(data, ())
    ]
    misshapen: set[JsonPath] = set()  # entries that broke the format: not checked any further
    for error in _useful_errors(data):
        path, message = locate(error)
        problems.append(doc.error(tuple(path), f"{format_path(path) or 'the scenario'}: {message}"))
        misshapen.add(tuple(error.absolute_path)[:2])

    def checkable(at: JsonPath) -> bool:
        return not any(bad and at[: len(bad)] == bad for bad in misshapen)

    families = {f.name: f for f in catalog.families}
    scenario = Scenario(
        name=data.get("name") or doc.path.stem.strip("<>"),
        description=data.get("description", ""),
        source=str(doc.path),
        seed=data.get("seed") if checkable(("seed",)) else None,
    )
    for section in ("fixtures", "auth", "rules", "lifecycles"):
        value = data.get(section) if checkable((section,)) else None
        entries = enumerate(value) if isinstance(value, list) else (value or {}).items()
        for key, raw in entries:
            at: JsonPath = (section, key)
            if not checkable(at):
                continue
            try:
                if section == "fixtures":
                    _fixtures(doc, families, scenario, at, raw)
                elif section == "auth":
                    scenario.auth[str(key)] = _auth(doc, _family(doc, families, at), raw)
                elif section == "rules":
                    scenario.rules.append(_rule(doc, catalog, raw, at))
                else:
                    _lifecycles(doc, families, scenario, at, raw)
            except LoadError as exc:
                problems.append(exc)
    if not problems:
        problems += _try_fixtures(doc, catalog, scenario, seed)
    if problems:
        raise LoadError.of(sorted(problems, key=lambda e: e.line or 0))
    return scenario


_NOT_JSON_NUMBER = "{where}: .nan and .inf are not JSON numbers: no client could read a body that holds one"


def _non_finite(value: Any, at: JsonPath) -> list[JsonPath]:
    """Where the scenario holds a NaN or an infinity (YAML's `.nan`, `.inf`): bodies and fixtures
    are sent as JSON, which has neither, and no setting of a scenario takes one."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [at]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _non_finite(item, (*at, key))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _non_finite(item, (*at, index))]
    return []


def _useful_errors(data: dict[str, Any]) -> list[ValidationError]:
    """The schema's errors, the useful ones only: an anyOf/oneOf error at an entry that also
    has an error inside it (an unknown key, say) is the inner one's echo, and is dropped."""
    errors = sorted(_SCHEMA_VALIDATOR.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    paths = [tuple(e.absolute_path) for e in errors]

    def echoed(error: ValidationError) -> bool:
        at = tuple(error.absolute_path)
        return error.validator in ("anyOf", "oneOf") and any(
            other is not error and other.validator not in ("anyOf", "oneOf") and path[: len(at)] == at
            for other, path in zip(errors, paths, strict=True)
        )

    return [e for e in errors if not echoed(e)]


def _fixtures(doc: Document, families: dict[str, Family], scenario: Scenario, at: JsonPath, raw: Any) -> None:
    family = _family(doc, families, at)
    for coll_name, items in raw.items():
        if coll_name not in family.collections:
            known = ", ".join(family.collections)
            hint = did_you_mean(coll_name, family.collections)
            raise doc.error((*at, coll_name), f"{family.name} has no collection {coll_name!r}{hint} (has: {known})")
        for i, item in enumerate(items):
            scenario.fixtures.append((family.name, coll_name, item, (*at, coll_name, i)))


def _lifecycles(doc: Document, families: dict[str, Family], scenario: Scenario, at: JsonPath, raw: Any) -> None:
    family = _family(doc, families, at)
    for coll_name, override in raw.items():
        where = (*at, coll_name)
        coll = family.collections.get(coll_name)
        if coll is None or coll.lifecycle is None:
            raise doc.error(where, f"{family.name}.{coll_name} has no lifecycle to override")
        try:
            coll.overridden_lifecycle(override)
        except InvalidOverride as exc:
            raise doc.error((*where, *exc.path), f"invalid lifecycle override: {exc.reason}") from None
        scenario.lifecycles[(family.name, coll_name)] = override


def _family(doc: Document, families: dict[str, Family], at: JsonPath) -> Family:
    """The family a section entry names (its key, `at[1]`)."""
    name = str(at[1])
    if name not in families:
        raise doc.error(
            at, f"unknown API family {name!r}{did_you_mean(name, families)} (loaded: {', '.join(families)})"
        )
    return families[name]


def _auth(doc: Document, family: Family, raw: dict[str, Any]) -> AuthPolicy:
    tokens = {}
    for t in raw.get("tokens", []):
        expires = datetime.fromisoformat(t["expiresAt"].replace("Z", "+00:00")) if "expiresAt" in t else None
        scopes = frozenset(t["scopes"]) if "scopes" in t else None
        tokens[t["token"]] = TokenSpec(t["token"], scopes, t.get("revoked", False), expires, t.get("subject"))
    known = {op.operation_id for op in family.operations}
    for op_id in raw.get("requires", {}):
        if op_id not in known:
            raise doc.error(
                ("auth", family.name, "requires", op_id),
                f"{family.name} has no operation {op_id!r}{did_you_mean(op_id, known)}",
            )
    return AuthPolicy(
        tokens=tokens,
        requires={k: tuple(v) for k, v in raw.get("requires", {}).items()},
        allow_unknown=raw.get("allowUnknown", not tokens),
    )


def _candidates(doc: Document, catalog: Catalog, match: dict[str, Any], at: JsonPath) -> list[Operation]:
    ops = list(catalog.operations)
    if "operationId" in match:
        wanted = match["operationId"] if isinstance(match["operationId"], list) else [match["operationId"]]
        for index, reference in enumerate(wanted):
            if not catalog.named(reference):
                where = (*at, "operationId", index) if isinstance(match["operationId"], list) else (*at, "operationId")
                raise doc.error(
                    where,
                    f"this rule matches no operation: no loaded spec has an operationId {reference!r}"
                    f"{_near_operation(catalog, reference)}",
                )
        ops = [op for reference in wanted for op in catalog.named(reference)]
    if "family" in match:
        ops = [op for op in ops if op.family.name == match["family"]]
    if "method" in match:
        ops = [op for op in ops if op.method == match["method"].upper()]
    if "path" in match:
        path = match["path"].rstrip("/") or "/"
        ops = [op for op in ops if path in (op.path.rstrip("/"), op.path[len(op.family.prefix) :].rstrip("/"))]
    if not ops:
        raise doc.error(at, f"this rule matches no operation of any loaded spec: {match}")
    for name in match.get("pathParams", {}):
        ops_with = [op for op in ops if any(p.name == name for p in op.path_params.params)]
        if not ops_with:
            raise doc.error((*at, "pathParams", name), f"no matched operation has a path parameter {name!r}")
    return ops


def _near_operation(catalog: Catalog, reference: str) -> str:
    """(did you mean 'TriggerScan'?) for an operationId (or family:operationId) almost right."""
    family, operation_id = split_reference(reference)
    known = [op.operation_id for op in catalog.operations if not family or op.family.name == family]
    hint = did_you_mean(operation_id, known)
    if hint and family:
        hint = hint.replace("'", f"'{family}:", 1)
    return hint


def _rule(doc: Document, catalog: Catalog, raw: dict[str, Any], at: JsonPath) -> Rule:
    match = raw.get("match") or {}
    ops = _candidates(doc, catalog, match, (*at, "match"))
    forced = None
    if "respond" in raw:
        forced = _forced(doc, ops, raw["respond"], (*at, "respond"))
    chaos = _chaos(doc, raw["chaos"], (*at, "chaos")) if "chaos" in raw else None
    label = raw.get("name") or f"{doc.path.name}#rules[{at[-1]}]"
    return Rule(
        label=label,
        operations=frozenset(id(op) for op in ops),
        path_params={k: str(v) for k, v in match.get("pathParams", {}).items()},
        query={k: _text(v) for k, v in match.get("query", {}).items()},
        headers={k.lower(): _text(v) for k, v in match.get("headers", {}).items()},
        body=match.get("body"),
        forced=forced,
        chaos=chaos,
        times=raw.get("times"),
        after=raw.get("after"),
        every=raw.get("every"),
        probability=raw.get("probability"),
    )


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _forced(doc: Document, ops: list[Operation], raw: dict[str, Any], at: JsonPath) -> Forced:
    status = raw["status"]
    for op in ops:
        documented = op.responses.get(str(status)) or op.responses.get(f"{str(status)[0]}XX")
        if documented is None and status >= 500:
            documented = op.responses.get("default")  # a server error can always happen
        if documented is None and not raw.get("allowUndocumented"):
            raise doc.error(
                (*at, "status"),
                f"{op.qualified_id} does not document status {status} (set allowUndocumented: true to force it anyway)",
            )
        if "body" in raw:
            response = inline_refs(documented or op.responses.get("default") or {}, op.family.document)
            schema = (response.get("content") or {}).get("application/json", {}).get("schema")
            if schema is not None:
                for error in compile_validator(schema, op.family.document).iter_errors(raw["body"]):
                    where = format_path(error.absolute_path) or "the body"
                    raise doc.error(
                        (*at, "body", *error.absolute_path),
                        f"this body breaks {op.qualified_id}'s {status} schema at {where}: {error.message}",
                    )
        elif status < 400 and (documented or {}).get("content") and status != op.success_status:
            raise doc.error(at, f"forcing {status} on {op.qualified_id} needs a body")
    headers = {k: _text(v) for k, v in (raw.get("headers") or {}).items()}
    if "retryAfter" in raw:
        headers["Retry-After"] = str(raw["retryAfter"])
    return Forced(status=status, body=raw.get("body"), message=raw.get("message"), headers=headers)


def _chaos(doc: Document, raw: dict[str, Any], at: JsonPath) -> Chaos:
    latency = None
    if "latency" in raw:
        value = raw["latency"]
        low, high = (value["min"], value["max"]) if isinstance(value, dict) else (value, value)
        latency = (parse_duration(low), parse_duration(high))
        if latency[0] > latency[1]:
            raise doc.error((*at, "latency"), "latency min is above max")
    trickle = None
    if "trickle" in raw:
        trickle = (int(raw["trickle"].get("chunk", 16)), parse_duration(raw["trickle"]["interval"]))
    return Chaos(
        latency=latency,
        reset=raw.get("reset", False),
        truncate=raw.get("truncate", False),
        malformed=raw.get("malformed", False),
        trickle=trickle,
    )


def _try_fixtures(doc: Document, catalog: Catalog, scenario: Scenario, seed: int) -> list[LoadError]:
    """Store the fixtures in a scratch store, so a bad one fails now, at its line."""
    scratch = Engine(list(catalog.families), Store(), MockClock(frozen=True), seed)
    scratch.reset()
    problems = []
    for fam_name, coll_name, item, at in scenario.fixtures:
        family = catalog.family(fam_name)
        try:
            scratch.add_fixture(family, family.collections[coll_name], item)
        except (Problem, ValueError, KeyError, TypeError) as exc:
            problems.append(doc.error(at, f"fixture for {fam_name}.{coll_name} cannot be stored: {exc}"))
    return problems
