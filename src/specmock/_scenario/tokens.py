"""A scenario's token policy: unknown, revoked and expired tokens, and scopes."""

from __future__ import annotations

from datetime import datetime

from .._errors import Problem
from .._spec.auth import Credential
from .._spec.model import Operation
from .model import AuthPolicy


def check_token(policy: AuthPolicy, op: Operation, credential: Credential, now: datetime) -> None:
    """Raise 401 for a token the policy does not accept, 403 for one that lacks a scope."""
    errors = op.family.errors
    spec = policy.tokens.get(credential.token)
    challenge = op.authenticator.alternatives[0][0].challenge if op.authenticator.alternatives else None
    headers = {"WWW-Authenticate": challenge} if challenge else {}
    if spec is None:
        if policy.allow_unknown:
            return
        raise Problem(401, errors.message("invalid_credentials"), kind="invalid_credentials", headers=headers)
    if spec.revoked:
        message = errors.messages.get("revoked_credentials") or errors.message("invalid_credentials")
        raise Problem(401, message, kind="revoked_credentials", headers=headers)
    if spec.expires_at is not None and spec.expires_at <= now:
        message = errors.messages.get("expired_credentials") or errors.message("invalid_credentials")
        raise Problem(401, message, kind="expired_credentials", headers=headers)
    needed = policy.required_scopes(op)
    if spec.scopes is not None and not set(needed) <= spec.scopes:
        raise Problem(403, errors.message("forbidden"), kind="forbidden")
