"""Values nobody supplied, generated from a schema with Faker and the run's seed.

A property may name a Faker provider with ``x-faker: catch_phrase``; otherwise
the value follows the schema (enum, format, bounds), so the generated item
validates against the spec it came from.

Faker is imported and built only when a value first needs it (importing it
scans every locale it ships: a large share of start-up), through `LazyFaker`.
Invariant: the values are the ones an eagerly built Faker gives for the same
seeds, because a Faker draws nothing until it is asked for a value, and its
`seed_instance` resets its source whole: building it late and seeding it
with the last seed given leaves it in the very state the eager one is in.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from .._clock import isoformat
from .._spec.regex_sample import pattern_text
from .ids import ulid

if TYPE_CHECKING:
    from faker import Faker

#: Faker providers for string fields by name (lowercase, without `_`/`-`): plausible values.
_STRING_BY_NAME = {
    "name": "catch_phrase",
    "description": "sentence",
    "summary": "sentence",
    "title": "sentence",
    "email": "email",
    "url": "url",
    "firstname": "first_name",
    "givenname": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "fullname": "name",
    "displayname": "name",
    "username": "user_name",
    "login": "user_name",
    "phone": "phone_number",
    "phonenumber": "phone_number",
    "city": "city",
    "country": "country",
    "street": "street_address",
    "address": "street_address",
    "zip": "postcode",
    "zipcode": "postcode",
    "postcode": "postcode",
    "postalcode": "postcode",
    "company": "company",
    "slug": "slug",
    "color": "color_name",
    "colour": "color_name",
}
#: By the end of the name, when the whole name says nothing (`baseUrl`, `contactEmail`).
_STRING_BY_SUFFIX = (("url", "url"), ("uri", "url"), ("href", "url"), ("email", "email"), ("phone", "phone_number"))


class LazyFaker:
    """Stands for a seeded Faker, importing and building it on the first use of a provider.

    `seed_instance` before then only records the seed; the Faker is built with
    the last seed given, so its values are those of an eagerly built one.
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._faker: Faker | None = None

    def seed_instance(self, seed: int) -> None:
        self._seed = seed
        if self._faker is not None:
            self._faker.seed_instance(seed)

    def real(self) -> Faker:
        """The Faker itself, built and seeded now if it was not yet."""
        if self._faker is None:
            from faker import Faker

            faker = Faker()
            faker.seed_instance(self._seed)
            self._faker = faker
        return self._faker

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # _seed/_faker before __init__ ran (copy, pickle): not Faker's
            raise AttributeError(name)
        return getattr(self.real(), name)


class FakeData:
    """A seeded Faker with one job: fill a schema."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        self.rng = rng
        # Typed as the Faker it stands for: callers use it exactly as one.
        self.faker = cast("Faker", LazyFaker(seed))

    def reseed(self, seed: int) -> None:
        self.faker.seed_instance(seed)

    def reseed_for(self, key: str) -> None:
        """Draw from a source fixed by `key` (the same key, the same values)."""
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
        self.rng.seed(number)
        self.faker.seed_instance(number)

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
            wanted = int(schema.get("minItems", 0))
            items: dict[str, Any] = schema["items"] if isinstance(schema.get("items"), dict) else {}
            return [self.value(items, name, now, depth + 1) for _ in range(min(wanted, 8))] if depth <= 8 else []
        if kind == "object":
            if depth > 8:
                return {}
            props = schema.get("properties", {})
            return {prop: self.value(props.get(prop, {}), prop, now, depth + 1) for prop in schema.get("required", [])}
        return self._string(schema, name, now)

    def _string(self, schema: dict[str, Any], name: str, now: datetime) -> str:
        if "pattern" in schema:  # the constraint a word breaks most: built to match, where it can be
            matching = pattern_text(schema, self.rng)
            if matching is not None:
                return matching
        fmt = schema.get("format")
        by_format = self._formatted(fmt, now) if isinstance(fmt, str) else None
        if by_format is not None:
            return by_format
        squashed = name.lower().replace("_", "").replace("-", "")
        provider = _STRING_BY_NAME.get(squashed) or next(
            (p for s, p in _STRING_BY_SUFFIX if squashed.endswith(s)), None
        )
        text = str(getattr(self.faker, provider)()) if provider else str(self.faker.word())
        text = text[: int(schema.get("maxLength", len(text)))]
        return text + "x" * max(0, int(schema.get("minLength", 0)) - len(text))

    def _formatted(self, fmt: str, now: datetime) -> str | None:
        """A value of a string `format`, or None for a format that says nothing about it."""
        if fmt == "date-time":
            return isoformat(now)
        if fmt == "date":
            return isoformat(now)[:10]
        if fmt in ("uri", "url", "uri-reference", "iri"):
            return str(self.faker.url())
        if fmt in ("email", "idn-email"):
            return str(self.faker.email())
        if fmt == "uuid":
            return str(self.faker.uuid4())
        if fmt == "ulid":
            return ulid(now, self.rng)
        if fmt in ("hostname", "idn-hostname"):
            return str(self.faker.domain_name())
        if fmt == "ipv4":
            return ".".join(str(self.rng.randint(1, 254)) for _ in range(4))
        if fmt == "ipv6":
            return ":".join(f"{self.rng.getrandbits(16):x}" for _ in range(8))
        return None


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = {**a, **{k: v for k, v in b.items() if k not in ("properties", "required")}}
    out["properties"] = {**a.get("properties", {}), **b.get("properties", {})}
    out["required"] = [*a.get("required", []), *b.get("required", [])]
    if "type" not in out and out["properties"]:
        out["type"] = "object"
    return out
