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
This module imports jsonschema: it is imported only where a validator is built
(validation.CompiledSchema, on first use) or a schema is checked by jsonschema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from referencing import Registry

from .linear_regex import compiled
from .linear_regex import problem as problem  # re-exported: where the RE2 checks were first


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


def _valid(errors: Iterator[ValidationError]) -> bool:
    return next(errors, None) is None


def _evaluated_keys(validator: Any, instance: dict[str, Any], schema: Any) -> set[str]:
    """jsonschema's keys evaluated by `schema` (for unevaluatedProperties), patterns through RE2."""
    if not isinstance(schema, dict):
        return set()
    keys: set[str] = set()
    for keyword in ("$ref", "$dynamicRef"):
        ref = schema.get(keyword)
        if ref is not None:
            resolved = validator._resolver.lookup(ref)
            evolved = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            keys |= _evaluated_keys(evolved, instance, resolved.contents)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        keys |= properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if (subschema := schema.get(keyword)) is not None:
            keys |= {k for k, v in instance.items() if _valid(validator.descend(v, subschema))}
    for pattern in schema.get("patternProperties", ()):
        keys |= {k for k in instance if _search(pattern, k)}
    for name, subschema in (schema.get("dependentSchemas") or {}).items():
        if name in instance:
            keys |= _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, ()):
            if _valid(validator.descend(instance, subschema)):
                keys |= _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            keys |= _evaluated_keys(validator, instance, schema.get("then"))
        else:
            keys |= _evaluated_keys(validator, instance, schema.get("else"))
    return keys


def _unevaluated_properties(
    validator: Any, unevaluated: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """jsonschema's own, with the evaluated keys found through RE2."""
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    bad = [
        key
        for key in instance
        if key not in evaluated and not _valid(validator.descend(instance[key], unevaluated, path=key))
    ]
    if bad:
        names = ", ".join(repr(key) for key in (sorted(bad, key=str) if unevaluated is False else bad))
        were = "was" if len(bad) == 1 else "were"
        if unevaluated is False:
            yield ValidationError(f"Unevaluated properties are not allowed ({names} {were} unexpected)")
        else:
            yield ValidationError(
                f"Unevaluated properties are not valid under the given schema ({names} {were} unevaluated and invalid)"
            )


#: Draft 2020-12 with every keyword that matches a regular expression (`pattern`,
#: `patternProperties`, `additionalProperties`, `unevaluatedProperties`) matching through RE2.
VALIDATOR: type[Draft202012Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "unevaluatedProperties": _unevaluated_properties,
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
