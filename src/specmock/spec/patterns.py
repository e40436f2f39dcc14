"""Schema `pattern`s run by a linear-time engine (RE2), never by a backtracking one.

A document's pattern is matched against what clients send: with Python's `re`
(what jsonschema uses) `^(a+)+$` on 29 characters blocks the server for
seconds. RE2 matches in time linear in the input, and refuses the constructs
that need backtracking (lookaround, backreferences); the load drops such a
pattern with a warning (repairs.py), so every pattern a validator sees compiles
here. jsonschema-rs, the fast path, matches with the regex crate (linear as
well, for every pattern RE2 takes). RE2's `\\d`, `\\w` and `$` are ECMA-262's
(ASCII classes, `$` only at the very end), as JSON Schema asks, where Python's
`re` differs.
Invariant: `VALIDATOR` never calls `re` on an instance.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import re2
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from referencing import Registry

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported once, as a load warning, not on stderr


@lru_cache(maxsize=4096)
def compiled(pattern: str) -> Any:
    """`pattern` compiled by RE2, or None when RE2 cannot take it (it would need backtracking)."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except (re2.error, TypeError, ValueError):
        return None


def problem(pattern: str) -> str | None:
    """Why `pattern` cannot be matched in linear time, or None when it can."""
    if compiled(pattern) is not None:
        return None
    try:
        re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"not a linear-time regular expression ({detail})"
    except (TypeError, ValueError) as exc:
        return f"not a regular expression ({exc})"
    return "not a regular expression"


def _search(pattern: str, value: str) -> bool:
    regex = compiled(pattern)
    return regex is None or regex.search(value) is not None  # an uncompilable pattern was dropped at load


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, properties: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """jsonschema's own, with the patternProperties test through RE2."""
    if not validator.is_type(instance, "object"):
        return
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        key
        for key in instance
        if key not in schema.get("properties", {}) and not any(_search(p, key) for p in patterns)
    ]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(each) for each in sorted(extras))
            listed = ", ".join(repr(each) for each in sorted(patterns))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {listed}")
        else:
            names = ", ".join(repr(extra) for extra in sorted(extras, key=str))
            were = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({names} {were} unexpected)")


#: Draft 2020-12 with `pattern`, `patternProperties` and `additionalProperties` matched by RE2.
VALIDATOR: type[Draft202012Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)


def _re2_regex(value: object) -> bool:
    return not isinstance(value, str) or compiled(value) is not None


#: The meta-schema's format checks, with `regex` meaning "RE2 compiles it" (not Python's `re`).
_META_FORMATS = FormatChecker()
_META_FORMATS.checkers.pop("regex", None)
_META_FORMATS.checks("regex")(_re2_regex)


def check_schema(schema: Any) -> None:
    """jsonschema's `check_schema` for 2020-12, with patterns checked by RE2; raises SchemaError."""
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=_META_FORMATS)
    error = best_match(meta.iter_errors(schema))
    if error is not None:
        raise SchemaError.create_from(error)


def no_retrieval() -> Registry[Any]:
    """A reference registry that never retrieves: `$ref`s resolve within the schema or not at all."""
    return Registry()
