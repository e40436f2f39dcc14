"""Request validation with jsonschema: compiled once per operation.

Path, query and header values arrive as strings; each location is coerced to
the types its parameter schemas declare and validated as one object, so a
request with three bad parameters gets three field errors in one response.

A schema is inlined and checked at load (`compile_validator`: what can be wrong
with it is reported then), but its jsonschema validator is built on first use
(`CompiledSchema`): valid input is answered by jsonschema-rs (fastvalidation),
so jsonschema, a sixth of start-up to import, is loaded only when something is
refused (or a schema needs jsonschema's own check).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._errors import FieldError
from .._suggest import did_you_mean
from .fastvalidation import BodyValidator
from .formats import format_checker
from .schema_check import is_trusted, schema_problem, surely_valid_schema
from .schematools import validator_root

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


class InvalidSchema(ValueError):
    """A schema the 2020-12 meta-schema refuses; `message` is jsonschema's wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CompiledSchema:
    """A checked, self-contained schema whose jsonschema validator is built on first use.

    It answers as the validator does (`iter_errors`, `is_valid`). Building it cannot
    fail once the schema passed its check, so nothing a load must report is deferred."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.schema = root
        self._validator: Draft202012Validator | None = None

    @property
    def validator(self) -> Draft202012Validator:
        """The Draft 2020-12 validator (OpenAPI 3.1's dialect) with our format checks and RE2 patterns."""
        if self._validator is None:
            from .patterns import VALIDATOR, no_retrieval

            # Patterns run in RE2 (patterns.py); a reference is never fetched (no_retrieval).
            self._validator = VALIDATOR(self.schema, format_checker=format_checker(), registry=no_retrieval())
        return self._validator

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        return self.validator.iter_errors(instance)

    def is_valid(self, instance: Any) -> bool:
        return self.validator.is_valid(instance)


def warm_up() -> None:
    """Import what wording a refusal needs (jsonschema) and build the format checker now: the
    server runs it in the background shortly after it listens, so a refused request does not
    pay the import (about 30 ms) while a start's first 200 does not wait for it either."""
    from . import patterns  # noqa: F401  # imports jsonschema

    format_checker()


def compile_validator(schema: Any, document: dict[str, Any]) -> CompiledSchema:
    """`schema` inlined and checked now (InvalidSchema if the meta-schema refuses it); its
    validator is built when first asked."""
    root = validator_root(schema, document)
    # A document whose every schema passed needs no check per use; else jsonschema-rs may vouch for it.
    if not is_trusted(document) and not surely_valid_schema(root):
        message = schema_problem(root)  # jsonschema's own check, and its wording
        if message is not None:
            raise InvalidSchema(message)
    return CompiledSchema(root)


@dataclass(frozen=True)
class Parameter:
    """One declared parameter and how to read it from the request."""

    name: str
    location: str  # path, query, header, cookie
    required: bool
    schema: dict[str, Any]
    is_array: bool
    item_type: str | None
    default: Any

    @property
    def lookup_name(self) -> str:
        return self.name.lower() if self.location == "header" else self.name


def _schema_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if kinds else None
    if isinstance(kind, str):
        return kind
    for key in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(key, ()):
            found = _schema_type(branch) if isinstance(branch, dict) else None
            if found:
                return found
    return None


def make_parameter(raw: dict[str, Any], schema: dict[str, Any]) -> Parameter:
    """A Parameter from an OpenAPI parameter object whose schema is already inlined."""
    kind = _schema_type(schema)
    items = schema.get("items") if kind == "array" else None
    return Parameter(
        name=raw["name"],
        location=raw["in"],
        required=bool(raw.get("required")) or raw["in"] == "path",
        schema=schema,
        is_array=kind == "array",
        item_type=_schema_type(items) if isinstance(items, dict) else None,
        default=schema.get("default"),
    )


_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


_INTEGER = re.compile(r"-?[0-9]{1,64}")
_NUMBER = re.compile(r"-?[0-9]{1,64}(\.[0-9]{1,64})?([eE][+-]?[0-9]{1,4})?")


def coerce(value: str, kind: str | None) -> Any:
    """A path or query value as the declared type; left a string when it is not plainly one,
    so the validator reports the type error with the value the client sent. Python's int()
    also takes " 1", "+1", "1_0" and non-ASCII digits; an HTTP API does not."""
    if kind == "integer":
        return int(value) if _INTEGER.fullmatch(value) else value
    if kind == "number":
        if not _NUMBER.fullmatch(value):
            return value
        number = float(value)
        return number if abs(number) != float("inf") else value
    if kind == "boolean":
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


class ParameterSet:
    """All parameters of one location, validated together as an object."""

    def __init__(self, location: str, params: list[Parameter], document: dict[str, Any]) -> None:
        self.location = location
        self.params = params
        schema = {
            "type": "object",
            "properties": {p.name: p.schema for p in params},
            "required": [p.name for p in params if p.required],
        }
        self.validator = BodyValidator(compile_validator(schema, document)) if params else None
        self.has_arrays = any(p.is_array for p in params)

    def read(self, source: Mapping[str, str], multi: Mapping[str, list[str]] | None) -> dict[str, Any]:
        """Coerced values of the declared parameters present in `source`."""
        values: dict[str, Any] = {}
        for p in self.params:
            if p.is_array and multi is not None:
                raw_list = multi.get(p.lookup_name)
                if raw_list:
                    if len(raw_list) == 1 and "," in raw_list[0]:
                        raw_list = raw_list[0].split(",")
                    values[p.name] = [coerce(v, p.item_type) for v in raw_list]
                continue
            raw = source.get(p.lookup_name)
            if raw is not None:
                values[p.name] = coerce(raw, _schema_type(p.schema))
        return values

    def errors(self, values: dict[str, Any], messages: Mapping[str, str]) -> list[FieldError]:
        if self.validator is None:
            return []
        return [field_error(e, messages) for e in self.validator.iter_errors(values)]

    def with_defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        for p in self.params:
            if p.name not in values and p.default is not None:
                values[p.name] = p.default
        return values


def format_path(path: Iterable[str | int]) -> str:
    """``["config", "items", 0, "id"]`` as ``config.items[0].id``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _discriminated(error: ValidationError) -> list[ValidationError] | None:
    """For a failed oneOf with a discriminator, the errors of the branch the data chose."""
    discriminator = error.schema.get("discriminator") if isinstance(error.schema, dict) else None
    if not isinstance(discriminator, dict) or not isinstance(error.instance, dict):
        return None
    prop = discriminator.get("propertyName")
    if prop not in error.instance:
        return None
    by_branch: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    chosen = [
        errs
        for errs in by_branch.values()
        if not any(e.relative_path and e.relative_path[0] == prop for e in errs)
        and not any(e.validator == "const" for e in errs)
    ]
    return chosen[0] if len(chosen) == 1 else None


def field_error(error: ValidationError, messages: Mapping[str, str]) -> FieldError:
    """One jsonschema error as a FieldError, worded by the family's `messages`."""
    path = list(error.absolute_path)
    if error.validator == "oneOf":
        branch = _discriminated(error)
        if branch:
            return field_error(min(branch, key=lambda e: len(list(e.absolute_path))), messages)
        discriminator = error.schema.get("discriminator") if isinstance(error.schema, dict) else None
        if isinstance(discriminator, dict) and isinstance(error.instance, dict):
            prop = discriminator.get("propertyName", "")
            mapping = discriminator.get("mapping") or {}
            choices = ", ".join(mapping)
            value = error.instance.get(prop)
            if value is None:
                return FieldError(format_path([*path, prop]), messages.get("required", f"{prop} is required"))
            return FieldError(
                format_path([*path, prop]),
                messages.get("enum", "{value!r} is not one of: {choices}").format(value=value, choices=choices),
            )
    template = messages.get(str(error.validator))
    detail: dict[str, Any] = {"value": error.instance}
    if error.validator == "required":
        missing = _missing_property(error)
        if missing is not None:
            path.append(missing)
            detail["value"] = missing
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema or {}).get("properties", {})) if isinstance(error.schema, dict) else set()
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            path.append(extra[0])
            detail["value"] = extra[0]
    elif error.validator == "type":
        detail["expected"] = error.validator_value
        detail["actual"] = type(error.instance).__name__
    if template:
        try:
            message = template.format(**detail)
        except (KeyError, IndexError, ValueError):
            message = template
    else:
        message = _default_message(error)
    return FieldError(format_path(path), message)


def _missing_property(error: ValidationError) -> str | None:
    """The property this `required` error is about: jsonschema raises one error per missing
    property, each with the whole `required` list, and names the property in its message."""
    instance = error.instance if isinstance(error.instance, dict) else {}
    names = error.validator_value if isinstance(error.validator_value, list) else []
    missing = [str(n) for n in names if n not in instance]
    for name in missing:
        if error.message.startswith(repr(name)):
            return name
    return missing[0] if missing else None


def _default_message(error: ValidationError) -> str:
    if error.validator == "required":
        return "is required"
    if error.validator == "additionalProperties":
        return "is not an allowed field"
    message = error.message
    return message if len(message) <= 300 else message[:297] + "..."


def locate(error: ValidationError) -> tuple[list[str | int], str]:
    """Where a schema error in a hand-written document points, and a message for a person.

    An unknown key is reported at the key itself (its own line), not at the mapping.
    """
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = sorted(schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in known)
        if extra:
            hint = f" (known: {', '.join(known)})" if known else ""
            return [*path, extra[0]], f"unknown key {extra[0]!r}{did_you_mean(extra[0], known)}{hint}"
    if error.validator in ("anyOf", "oneOf") and error.context:
        needed = [_missing_property(e) for e in error.context if e.validator == "required"]
        if len(needed) == len(error.context) and all(needed):
            return path, f"needs one of: {', '.join(dict.fromkeys(n for n in needed if n))}"
    return path, error.message
