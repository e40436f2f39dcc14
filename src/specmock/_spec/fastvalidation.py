"""Request bodies checked by a compiled validator first; jsonschema only words the refusal.

jsonschema walks a schema in Python for every body: on a create it was the largest
single cost of the request (see the README's performance section). jsonschema-rs
compiles the same schema once and answers "valid or not" in native code.

Invariants:
- jsonschema stays the authority. The compiled check may only say "valid": any
  other answer (invalid, or an exception such as an integer too big for it) hands
  the body to jsonschema, whose errors are the response, and whose silence accepts.
  So a difference between the two can only matter where the compiled check accepts
  what jsonschema refuses; the formats are made to agree (ours are checked by the
  same functions, the others by neither), and `SPECMOCK_CROSS_CHECK=1` (set by the
  test suite, schemathesis' servers included) runs jsonschema on every accepted
  body too and fails loudly on any such difference.
- One exception, at load only: `fits` takes a refusal as final too, to choose which
  error body fits a response's schema without importing jsonschema (a sixth of
  start-up); only when nothing fits does jsonschema decide (and word the warning).
  Under CROSS_CHECK jsonschema must agree with each of its answers, both ways.
- Without jsonschema-rs (a platform without its wheel), every body goes to jsonschema.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from .formats import FORMATS

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

#: Run jsonschema on every body the compiled check accepts, and fail on a disagreement (tests).
CROSS_CHECK = os.environ.get("SPECMOCK_CROSS_CHECK") == "1"

FastCheck = Callable[[Any], bool]


class SchemaValidator(Protocol):
    """What BodyValidator asks of the validator that words refusals: a jsonschema validator,
    or a validation.CompiledSchema, which builds one on first use."""

    @property
    def schema(self) -> Any: ...

    def iter_errors(self, instance: Any) -> Iterable[ValidationError]: ...


class FastPathDisagrees(AssertionError):
    """The compiled check accepted a body jsonschema refuses (only raised under CROSS_CHECK)."""


def _formats_in(schema: Any, found: set[str]) -> set[str]:
    if isinstance(schema, dict):
        fmt = schema.get("format")
        if isinstance(fmt, str):
            found.add(fmt)
        for value in schema.values():
            _formats_in(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _formats_in(value, found)
    return found


def _accept(value: str) -> bool:
    return True


def compile_fast(schema: dict[str, Any]) -> FastCheck | None:
    """jsonschema-rs's `is_valid` for `schema`, checking formats exactly as our jsonschema
    checker does (ours through the same functions; any other format not at all), or None."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    used = _formats_in(schema, set())
    formats: dict[str, Callable[[str], bool]] = dict.fromkeys(used, _accept)
    formats.update(FORMATS)
    try:
        compiled = jsonschema_rs.Draft202012Validator(schema, formats=formats, validate_formats=True, offline=True)
    except Exception:  # a schema it cannot compile: jsonschema alone, as before
        return None
    is_valid: FastCheck = compiled.is_valid
    # jsonschema-rs hands only strings to format functions: the integer formats are not
    # checked by it, so a value with any integer beyond their range goes to jsonschema.
    bound = 2**31 if "int32" in used else 2**63 if "int64" in used else None
    if bound is None:
        return is_valid
    return lambda instance: is_valid(instance) and _ints_within(instance, bound)


def _ints_within(data: Any, bound: int) -> bool:
    """Whether every integer in `data` is in [-bound, bound)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, int) and not isinstance(node, bool):
            if not -bound <= node < bound:
                return False
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


class BodyValidator:
    """A validator with jsonschema's `iter_errors`, answering valid input from the compiled check.

    Request bodies and the path, query and header parameters of every operation go through
    one. The compiled check is built on first use: start-up compiles hundreds of schemas,
    most of which a run never sees."""

    def __init__(self, validator: SchemaValidator) -> None:
        self.validator = validator
        self.schema = validator.schema
        self._compiled = False
        self._fast: FastCheck | None = None

    def _fast_check(self) -> FastCheck | None:
        if not self._compiled:
            self._fast = compile_fast(self.schema) if isinstance(self.schema, dict) else None
            self._compiled = True
        return self._fast

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        """jsonschema's errors for `instance`; none, without running it, when the compiled check accepts."""
        if self._fast_check() is not None and self._accepts(instance):
            if CROSS_CHECK:
                refused = [e.message for e in self.validator.iter_errors(instance)]
                if refused:
                    raise FastPathDisagrees(f"jsonschema-rs accepted what jsonschema refuses: {refused}: {instance!r}")
            return iter(())
        return iter(self.validator.iter_errors(instance))

    def is_valid(self, instance: Any) -> bool:
        """Whether `instance` is valid, asked of the compiled check first (jsonschema's answer).
        An acceptance is final here without the generator `iter_errors` builds (outside
        CROSS_CHECK, which must ask jsonschema too); a refusal is jsonschema's to confirm."""
        fast = self._fast if self._compiled else self._fast_check()
        if fast is not None and not CROSS_CHECK and self._accepts(instance):
            return True
        return next(iter(self.iter_errors(instance)), None) is None

    def fits(self, instance: Any) -> bool:
        """Whether `instance` is valid, the compiled check's refusal taken as final too: for a
        choice made at load (which error body fits), where no refusal is worded, so jsonschema
        is not imported for it. Where the compiled check cannot tell (no jsonschema-rs, a value
        it cannot take, an integer beyond 32 bits that its integer formats leave to jsonschema),
        jsonschema answers. Under CROSS_CHECK, jsonschema must agree either way."""
        fast = self._fast_check()
        if fast is None or not _ints_within(instance, 2**31):
            return self.is_valid(instance)
        try:
            verdict = fast(instance)
        except Exception:  # a value it cannot take: jsonschema decides
            return self.is_valid(instance)
        if CROSS_CHECK and verdict != (next(iter(self.validator.iter_errors(instance)), None) is None):
            raise FastPathDisagrees(f"jsonschema-rs and jsonschema disagree on {instance!r} (rs: {verdict})")
        return verdict

    def _accepts(self, instance: Any) -> bool:
        assert self._fast is not None
        try:
            return self._fast(instance)
        except Exception:  # a value it cannot take (an int beyond 64 bits): jsonschema decides
            return False
