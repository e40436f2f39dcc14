"""JSON out: compact UTF-8, and lists spliced from items encoded once.

A list response is mostly its items; an item's public form is cached while it
is unchanged, so its bytes are too, and the list is a join of them.
"""

from __future__ import annotations

import json
from typing import Any


def encode(body: Any) -> bytes:
    """`body` as compact UTF-8 JSON."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_list(parts: list[bytes]) -> bytes:
    """A JSON array of already-encoded items."""
    return b"[" + b",".join(parts) + b"]"


def encode_with_list(envelope: dict[str, Any], key: str, parts: list[bytes]) -> bytes:
    """`envelope` with the already-encoded items as its `key` (the last member)."""
    head = encode({k: v for k, v in envelope.items() if k != key})
    member = encode(key) + b":" + encode_list(parts)
    return head[:-1] + (b"," if len(head) > 2 else b"") + member + b"}"
