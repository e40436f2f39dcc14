"""The journal as a Pact v4 file: what a consumer's run asked and was answered.

Each journal entry the spec knows (an operation was matched) becomes one
synchronous HTTP interaction, in journal order. Values the provider chooses
(readOnly fields, the collection's key and timestamps, `date-time`, `date` and
`uuid` formats) get a `type` matching rule, so the pact holds on a fresh provider
that picks other ids and clocks, not only on the run that made it.

Invariants: no header but Content-Type is written (credentials never are: the
verifier adds them, `pact verifier -H`), write-only fields are left out of request
bodies, and query credentials are redacted (redact.py). The first interaction of
each run carries the provider state `FRESH_STATE`, which `POST /__specmock/pact/state`
answers by resetting the mock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from .._encoding import encode
from .._runtime.journal import Entry
from .._server.router import Router
from .._spec.model import Operation
from .._spec.schematools import inline_refs
from .check import declared_response
from .redact import Redactor

FRESH_STATE = "the provider holds only its fixtures"
_CHOSEN_FORMATS = frozenset({"date-time", "date", "uuid", "time"})
_COMBINATORS = ("allOf", "oneOf", "anyOf")


def _json_path(parts: Sequence[str | int]) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "['" + part.replace("'", "\\'") + "']"
    return out


def properties_of(schema: Any) -> dict[str, Any]:
    """Every property a schema (and its allOf/oneOf/anyOf branches) names."""
    if not isinstance(schema, dict):
        return {}
    found = dict(schema.get("properties") or {})
    for key in _COMBINATORS:
        for branch in schema.get(key) or ():
            for name, sub in properties_of(branch).items():
                found.setdefault(name, sub)
    return found


def provider_chosen(schema: Any) -> bool:
    """Whether the provider picks this value: readOnly, or a date-time, date, time or uuid."""
    if not isinstance(schema, dict):
        return False
    if schema.get("readOnly") is True or schema.get("format") in _CHOSEN_FORMATS:
        return True
    return any(provider_chosen(b) for key in _COMBINATORS for b in schema.get(key) or ())


def chosen_paths(
    schema: Any, data: Any, names: frozenset[str], at: tuple[str | int, ...] = ()
) -> list[tuple[Any, ...]]:
    """Where in `data` the provider chose the value: by the schema, or by a field `names` holds."""
    found: list[tuple[Any, ...]] = []
    if isinstance(data, list):
        items = schema.get("items") if isinstance(schema, dict) else None
        for index, value in enumerate(data):
            found += chosen_paths(items, value, names, (*at, index))
    elif isinstance(data, dict):
        properties = properties_of(schema)
        for name, value in data.items():
            sub = properties.get(name)
            if (name in names or provider_chosen(sub)) and not isinstance(value, (dict, list)):
                found.append((*at, name))
                continue
            found += chosen_paths(sub, value, names, (*at, name))
    return found


class PactWriter:
    """Builds Pact v4 documents from journal entries of the specs a router serves."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.redactor = Redactor()

    def interaction(self, entry: Entry, op: Operation, first: bool) -> dict[str, Any]:
        family = op.family
        request: dict[str, Any] = {"method": entry.method, "path": entry.path}
        query = self.redactor.query(family, entry.query)
        if query:
            grouped: dict[str, list[str]] = {}
            for name, value in parse_qsl(query, keep_blank_values=True):
                grouped.setdefault(name, []).append(value)
            request["query"] = grouped
        body = self.redactor.body(op, entry.request_body)
        if body is not None:
            request["headers"] = {"Content-Type": ["application/json"]}
            request["body"] = {"contentType": "application/json", "encoded": False, "content": body}
        response: dict[str, Any] = {"status": entry.status}
        data = entry.response_body if entry.response_raw else None
        if data is not None:
            data = self.redactor.body(op, data)
            response["headers"] = {"Content-Type": ["application/json"]}
            response["body"] = {"contentType": "application/json", "encoded": False, "content": data}
            declared = declared_response(op, entry.status) or {}
            schema = ((declared.get("content") or {}).get("application/json") or {}).get("schema")
            schema = inline_refs(schema, family.document) if schema is not None else None
            coll = op.collection
            names = frozenset(n for n in (coll.key_field, coll.id_field, coll.created_field, coll.updated_field) if n)
            paths = chosen_paths(schema, data, names if coll.name != "_example" else frozenset())
            if paths:
                matchers = {_json_path(p): {"combine": "AND", "matchers": [{"match": "type"}]} for p in paths}
                response["matchingRules"] = {"body": matchers}
        description = f"{entry.seq}: {op.operation_id} {entry.method} {entry.path} -> {entry.status}"
        interaction: dict[str, Any] = {
            "type": "Synchronous/HTTP",
            "description": description,
            "request": request,
            "response": response,
            "pending": False,
        }
        if first:
            interaction["providerStates"] = [{"name": FRESH_STATE}]
        interaction["key"] = hashlib.sha256(encode(interaction)).hexdigest()[:16]
        return interaction

    def pact(self, consumer: str, provider: str, runs: Iterable[Sequence[Entry]]) -> dict[str, Any]:
        """A Pact v4 document of `runs` (each run starts from a fresh provider: a test, a session)."""
        interactions = []
        for run in runs:
            first = True
            for entry in run:
                op = self.router.match(entry.method, entry.path).operation
                if op is None or entry.outcome not in ("ok", "invalid"):
                    continue  # unmatched, forced by a rule, chaos, or refused for its credentials (the
                    # verifier sends its own): not what a provider can be held to
                interactions.append(self.interaction(entry, op, first))
                first = False
        return {
            "consumer": {"name": consumer},
            "provider": {"name": provider},
            "interactions": interactions,
            "metadata": {"pactSpecification": {"version": "4.0"}, "specmock": {"version": "0.1.0"}},
        }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
