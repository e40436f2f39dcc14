"""Identifiers in each family's own style, from the seeded random source."""

from __future__ import annotations

import random
import uuid
from datetime import datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(moment: datetime, rng: random.Random) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, in Crockford base32."""
    value = (int(moment.timestamp() * 1000) << 80) | rng.getrandbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def sequential(prefix: str, width: int, number: int) -> str:
    """``conn-001`` for prefix ``conn-``, width 3, number 1."""
    return f"{prefix}{number:0{width}d}"


def uuid4(rng: random.Random) -> str:
    """A version 4 UUID drawn from `rng`, so it repeats with the seed."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
