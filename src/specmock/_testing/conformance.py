"""Check a response against its own spec: the contract the mock promises.

Used by specmock's tests on every response, and available to users who want
to check a recorded exchange. It words the findings of the one checker that
`specmock proxy`, `verify` and `replay` use (specmock._contract.check), so the
mock is held to exactly the rules it holds a provider to.
"""

from __future__ import annotations

from typing import Any

from .._contract.check import AnswerChecker
from .._server.router import Router


class ResponseChecker:
    """Validates (method, path, status, body) against the routed operation's responses."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._checker = AnswerChecker(router)

    def problems(self, method: str, raw_path: str, status: int, body: Any, content_type: str | None) -> list[str]:
        """Why this response breaks the spec; empty when it conforms."""
        op = self._checker.operation(method, raw_path)
        if op is None:
            return []  # unrouted answers (404/405) are checked against the family's error style elsewhere
        return [
            f"{f.operation_id} {status} at {f.pointer or '<root>'}: {f.kind}: {f.detail}"
            for f in self._checker.check(op, status, content_type, body)
        ]
