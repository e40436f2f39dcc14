"""Values nobody supplied, generated from a schema with Faker and the run's seed.

A property may name a Faker provider with ``x-faker: catch_phrase``; otherwise
the value follows the schema (enum, format, bounds), so the generated item
validates against the spec it came from.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from faker import Faker

from ..clock import isoformat

_STRING_BY_NAME = {
    "name": "catch_phrase",
    "description": "sentence",
    "email": "email",
    "url": "url",
    "title": "sentence",
}


class FakeData:
    """A seeded Faker with one job: fill a schema."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        self.rng = rng
        self.faker = Faker()
        self.faker.seed_instance(seed)

    def reseed(self, seed: int) -> None:
        self.faker.seed_instance(seed)

    def value(self, schema: dict[str, Any], name: str, now: datetime, depth: int = 0) -> Any:
        """A value valid for `schema`; `name` is the property it is for."""
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.rng.choice(schema["enum"])
        provider = schema.get("x-faker")
        if isinstance(provider, str) and hasattr(self.faker, provider):
            return getattr(self.faker, provider)()
        for key in ("allOf", "oneOf", "anyOf"):
            branches = [b for b in schema.get(key, ()) if isinstance(b, dict) and b.get("type") != "null"]
            if branches:
                merged: dict[str, Any] = {}
                for branch in branches if key == "allOf" else branches[:1]:
                    merged = _merge(merged, branch)
                return self.value(merged, name, now, depth + 1)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "null":
            return None
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind in ("integer", "number"):
            low = int(schema.get("minimum", 0))
            high = int(schema.get("maximum", max(low, 0) + 100))
            number = self.rng.randint(low, high)
            return number if kind == "integer" else float(number)
        if kind == "array":
            return []
        if kind == "object":
            if depth > 8:
                return {}
            props = schema.get("properties", {})
            return {prop: self.value(props.get(prop, {}), prop, now, depth + 1) for prop in schema.get("required", [])}
        return self._string(schema, name, now)

    def _string(self, schema: dict[str, Any], name: str, now: datetime) -> str:
        fmt = schema.get("format")
        if fmt == "date-time":
            return isoformat(now)
        if fmt in ("uri", "url"):
            return str(self.faker.url())
        if fmt == "email":
            return str(self.faker.email())
        if fmt == "uuid":
            return str(self.faker.uuid4())
        provider = _STRING_BY_NAME.get(name)
        text = str(getattr(self.faker, provider)()) if provider else str(self.faker.word())
        return text[: int(schema.get("maxLength", len(text)))]


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = {**a, **{k: v for k, v in b.items() if k not in ("properties", "required")}}
    out["properties"] = {**a.get("properties", {}), **b.get("properties", {})}
    out["required"] = [*a.get("required", []), *b.get("required", [])]
    if "type" not in out and out["properties"]:
        out["type"] = "object"
    return out
