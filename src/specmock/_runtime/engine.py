"""The engine: runs an operation's generic action (list, create, get, replace, update, set,
delete, example) against a state's store, and resets the state to the fixtures.

No action knows an API. Each reads the operation's compiled declaration
(collection, scope, keep, match, set, ...) and the collection's rules (ids,
defaults, uniqueness, references, children) and applies them to the store.
Every check runs before the first write, so a refused request changes nothing.
The actions live by job in `item_writes` (create, replace, update, set, delete),
`item_views` (list, get, example, and how items are shown) and `item_building`
(building, checking and finding items); this module is the facade others use.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from .._clock import Clock
from .._errors import Problem
from .._spec.lifecycle import Lifecycle
from .._spec.model import Action, Collection, Family
from .calls import Call, Result
from .fakedata import FakeData
from .item_writes import ItemWrites
from .state.protocol import Item, Scope, StoreFull, StoreOps
from .state.store import UniqueIndex

__all__ = ["DEFAULT_MAX_ITEMS", "Call", "Engine", "Result"]

#: Default of `--max-items`: far beyond any test, well below what exhausts a machine's memory.
DEFAULT_MAX_ITEMS = 100_000


class Engine(ItemWrites):
    """Runs operations against a state's store, with its clock and random source."""

    def __init__(
        self,
        families: list[Family],
        store: StoreOps,
        clock: Clock,
        seed: int = 0,
        rng: random.Random | None = None,
        max_items: int | None = DEFAULT_MAX_ITEMS,
    ) -> None:
        """`rng`: the random source (a state's, seeded with `seed`); a fresh one from `seed` if None.
        `max_items`: the items one collection may hold (None: no limit)."""
        self.families = families
        self.store = store
        self.clock = clock
        self.rng = rng if rng is not None else random.Random(seed)
        self.fake = FakeData(self.rng, seed)
        self.seed = seed
        #: Generates `example` answers: reseeded per request, so a path answers the same every time.
        self._example_fake = FakeData(random.Random(seed), seed)
        self._example_moment = clock.now()
        #: Items one collection may hold; a create beyond is 507 (no client can take all memory).
        self.max_items = max_items
        #: The last answers of lists without parameters (see ItemViews._list), with the store version they saw.
        self._lists: dict[tuple[Any, ...], tuple[int, bytes]] = {}
        #: Lifecycle overrides in force (a scenario's), by collection key; the compiled specs stay untouched.
        self.lifecycles: dict[str, Lifecycle] = {}
        #: The generic handlers, by action: every operation of every spec runs one of these.
        self._actions: dict[Action, Callable[[Call, Collection, Family], Result]] = {
            Action.LIST: self._list,
            Action.CREATE: self._create,
            Action.GET: self._get,
            Action.REPLACE: self._replace,
            Action.UPDATE: self._update,
            Action.SET: self._set,
            Action.DELETE: self._delete,
            Action.EXAMPLE: self._example,
        }
        self._indexes: dict[str, list[UniqueIndex]] = {}
        for family in families:
            for coll in family.collections.values():
                self._indexes[coll.key] = []
                for rule in coll.unique:
                    index = UniqueIndex(coll.key, rule.fields, tuple((f, tuple(v)) for f, v in rule.when.items()))
                    store.add_index(index)
                    self._indexes[coll.key].append(index)

    # -- entry points ---------------------------------------------------------

    def handle(self, call: Call) -> Result:
        op = call.operation
        action = self._actions[op.action]
        try:
            result: Result = self.store.transaction(lambda: action(call, op.collection, op.family))
        except StoreFull as full:
            message = f"The mock's store holds its limit of {full.limit} bytes of items; delete some first."
            raise Problem(507, message, kind="insufficient_storage") from None
        return result

    def reseed(self, seed: int) -> None:
        """Draw from `seed` from now on, keeping the state."""
        self.seed = seed
        self.rng.seed(seed)
        self.fake.reseed(seed)

    def use_lifecycles(self, lifecycles: dict[str, Lifecycle]) -> None:
        """Lay these overrides (a scenario's, by collection key) over the specs' lifecycles."""
        self.lifecycles = dict(lifecycles)

    def override_lifecycle(self, key: str, lifecycle: Lifecycle | None) -> None:
        """Override one collection's lifecycle (None: back to the spec's)."""
        if lifecycle is None:
            self.lifecycles.pop(key, None)
        else:
            self.lifecycles[key] = lifecycle

    def reset(self, seed: int | None = None) -> None:
        """Forget all state and start again from the fixtures and the seed."""
        if seed is not None:
            self.seed = seed
        self.rng.seed(self.seed)
        self.fake.reseed(self.seed)
        with self.store.lock:
            self.store.clear()
            for family in self.families:
                for coll in _dependency_order(family):
                    for fixture in coll.fixtures:
                        self.add_fixture(family, coll, fixture)

    def add_fixture(self, family: Family, coll: Collection, fixture: dict[str, Any], scope: Scope = ()) -> Item:
        """Store `fixture` as an item of `coll`, filling what it leaves out."""
        fields = copy.deepcopy(fixture)
        if "_scope" in fields:  # a child's fixture names its parents' path values
            scope = _given_scope(coll, fields.pop("_scope"))
        if not scope and coll.scope:
            missing = [f for f in coll.scope if f not in fields]
            if missing:
                raise ValueError(f"a {coll.label} fixture needs {', '.join(missing)}")
            scope = tuple(fields[f] for f in coll.scope)
        item = self._new_item(family, coll, scope, fields, self.clock.now(), given_id_ok=True)
        self._insert(family, coll, scope, item)
        return item

    def settled_items(self, coll: Collection, scope: Scope) -> list[Item]:
        """The items of `coll` in `scope` with every transition due by now applied: what a
        person looking at the state (the dashboard) should see, without counting as a client's read."""
        with self.store.lock:
            return self._advanced(coll, scope, self.store.items(coll.key, scope), read=False)


def _dependency_order(family: Family) -> list[Collection]:
    """Collections after those they reference or live under, so fixtures resolve (linear: each
    collection is visited once, by name; a list membership test made it quadratic)."""
    ordered: list[Collection] = []
    visiting: set[str] = set()

    def visit(coll: Collection) -> None:
        if coll.name in visiting:
            return
        visiting.add(coll.name)
        for dep in [coll.parent, *(r.collection for r in coll.references)]:
            if dep is not None:
                visit(family.collections[dep])
        ordered.append(coll)

    for coll in family.collections.values():
        visit(coll)
    return ordered


def _given_scope(coll: Collection, given: Any) -> Scope:
    """A fixture's `_scope`: a list of one path value (a string or an integer) per level of the
    collection's nesting, or ValueError (a string is not spread into its letters)."""
    levels = len(coll.scope)
    fits = isinstance(given, list) and len(given) == levels
    if not fits or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in given):
        names = ", ".join(coll.scope) or "none: it is not nested"
        raise ValueError(
            f"_scope must be a list of {levels} path value(s) of a {coll.label}'s parents ({names}), not {given!r:.80}"
        )
    return tuple(given)
