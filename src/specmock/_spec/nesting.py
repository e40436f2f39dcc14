"""How deeply a JSON-like value nests, measured without recursion.

Validators, encoders and copy.deepcopy recurse; a value nested thousands of
levels deep would raise RecursionError (a 500) in any of them. Whatever comes
from outside is measured here first, iteratively, and refused when too deep.
"""

from __future__ import annotations

from typing import Any


def nested_deeper(data: Any, limit: int) -> bool:
    """Whether `data` has containers nested more than `limit` levels deep."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return False
