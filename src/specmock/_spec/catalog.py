"""Every loaded family, and the one place that looks things up by name.

A `Catalog` is built once from compiled families and never changes. Scenarios,
the admin API and tests ask it for a family, a collection or the operations an
`operationId` (optionally `family:OperationId`) names, and get a KeyError that
says what does exist when there is nothing by that name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .._suggest import did_you_mean
from .model import Collection, Family, Operation


@dataclass(frozen=True)
class Catalog:
    """The loaded families, by name, with their operations in a stable order (family name, then spec order)."""

    families: tuple[Family, ...]
    operations: tuple[Operation, ...] = field(init=False)

    def __init__(self, families: Iterable[Family]) -> None:
        ordered = tuple(families)
        object.__setattr__(self, "families", ordered)
        by_name = sorted(ordered, key=lambda f: f.name)
        object.__setattr__(self, "operations", tuple(op for fam in by_name for op in fam.operations))

    def family(self, name: str) -> Family:
        """The family called `name`, or KeyError naming the loaded ones."""
        for family in self.families:
            if family.name == name:
                return family
        names = [f.name for f in self.families]
        raise KeyError(f"no family {name!r}{did_you_mean(name, names)} (loaded: {', '.join(names)})")

    def collection(self, family: str, name: str) -> Collection:
        """A collection by family and name, or KeyError naming what exists."""
        fam = self.family(family)
        if name not in fam.collections:
            hint = did_you_mean(name, fam.collections)
            raise KeyError(f"{family} has no collection {name!r}{hint} (has: {', '.join(fam.collections)})")
        return fam.collections[name]

    def collections(self) -> Iterable[tuple[Family, Collection]]:
        """Every collection of every family, with its family."""
        return ((fam, coll) for fam in self.families for coll in fam.collections.values())

    def named(self, reference: str) -> list[Operation]:
        """The operations an `operationId` or `family:operationId` names (several families may share an id)."""
        family, operation_id = split_reference(reference)
        return [
            op for op in self.operations if op.operation_id == operation_id and (not family or op.family.name == family)
        ]


def split_reference(reference: str) -> tuple[str, str]:
    """`family:OperationId` as (family, id); a plain id has the family "" (any family)."""
    family, _, operation_id = reference.rpartition(":")
    return family, operation_id
