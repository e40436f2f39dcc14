"""The generic handlers: what create, list, get, replace, update, delete and set do.

No handler knows an API. Each reads the operation's compiled declaration
(collection, scope, keep, match, set, ...) and the collection's rules (ids,
defaults, uniqueness, references, children) and applies them to the store.
Every check runs before the first write, so a refused request changes nothing.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .._clock import Clock, isoformat
from .._encoding import encode, encode_list, encode_with_list
from .._errors import FieldError, Problem
from .._spec.lifecycle import META, Lifecycle
from .._spec.model import Action, Collection, Family, Operation
from .._spec.regex_sample import sample_pattern
from .._spec.templates import render
from .._spec.validation import field_error
from .fakedata import FakeData
from .ids import sequential, ulid, uuid4
from .listing import apply_filters, apply_sort, cursor_page, numbered_page, offset_page
from .secrets import keep_write_only
from .state.protocol import Item, Scope, StoreFull, StoreOps
from .state.store import UniqueIndex, get_field

if TYPE_CHECKING:
    from starlette.requests import Request


@dataclass
class Call:
    """One validated request, as the engine sees it."""

    operation: Operation
    path: dict[str, Any]
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    request: Request | None = None  # for what only some operations need (page links)
    caller: str | None = None  # the subject of the request's token, where a scenario names one

    @property
    def url(self) -> str:
        """The request URL without its query (page links are built on it)."""
        return str(self.request.url.replace(query="")) if self.request is not None else ""

    @property
    def raw_query(self) -> dict[str, str]:
        return dict(self.request.query_params) if self.request is not None else {}


@dataclass
class Result:
    """What to send back: a status and a JSON-ready body (None for no body), or the body's bytes."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    encoded: bytes | None = None


#: Default of `--max-items`: far beyond any test, well below what exhausts a machine's memory.
DEFAULT_MAX_ITEMS = 100_000


class Engine:
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

    def lifecycle_of(self, coll: Collection) -> Lifecycle | None:
        """The lifecycle in force for `coll`: a scenario's override, else the spec's."""
        return self.lifecycles.get(coll.key, coll.lifecycle)

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

    # -- actions --------------------------------------------------------------

    def _create(self, call: Call, coll: Collection, family: Family, named: Any = None) -> Result:
        """A new item; `named` is the id an upsert's path gives it (answered with the created status)."""
        op = call.operation
        scope = self._scope(call)
        self._require_parent(family, coll, scope)
        now = self.clock.now()
        fields = _writable(op, call.body)
        left_out = {name: value for name, value in op.fill_fields.items() if name not in fields}
        fields = {**self._resolve(left_out, now, call.caller), **fields, **self._resolve(op.set_fields, now)}
        for name, value in op.branch_consts.items():
            fields.setdefault(name, value)
        if named is not None:
            fields[coll.id_field] = named
        if self.max_items is not None and self.store.size(coll.key) >= self.max_items:
            message = family.errors.message("insufficient_storage", label=coll.label, limit=self.max_items)
            raise Problem(507, message, kind="insufficient_storage")
        item = self._new_item(family, coll, scope, fields, now, keep_id=named is not None)
        self._conform(op, item, now)
        self._insert(family, coll, scope, item)
        status = op.created_status if named is not None else op.success_status
        return Result(status, self._wrapped(op, self._present(family, coll, scope, item, op)))

    def _list(self, call: Call, coll: Collection, family: Family) -> Result:
        op = call.operation
        scope = self._scope(call)
        self._require_parent(family, coll, scope)
        items: list[Any]
        by_key = _by_key(coll, op, call.query)
        if by_key:  # nothing looks into the items: page their keys, decode none
            items = self.store.keys(coll.key, scope)
        else:
            items = self._advanced(coll, scope, self.store.items(coll.key, scope), read=True)
            items = apply_filters(items, op.filters, call.query)
            items = apply_sort(items, call.query.get("sort"))
        envelope = op.envelope or "items"
        body: Any
        if op.paging == "cursor":
            body = cursor_page(items, coll.key_field, envelope, call.query)
        elif op.paging == "page":
            body = numbered_page(items, envelope, call.query, call.url, call.raw_query)
        elif op.paging == "offset":
            page_items = offset_page(items, call.query)
            body = {envelope: page_items} if op.envelope else page_items
        else:
            body = {envelope: items} if op.envelope else items
        if op.counts and isinstance(body, dict):
            body = {**dict.fromkeys(op.counts, len(items)), **body}
        if op.envelope_fill and isinstance(body, dict):
            body = {**self._envelope_fields(op), **body}
        page: list[Any] = body[envelope] if isinstance(body, dict) else body
        if _cacheable(coll):
            keys = page if by_key else [item[coll.key_field] for item in page]
            parts = [self._encoded(coll, scope, key) for key in keys]
            if isinstance(body, dict):
                return Result(op.success_status, encoded=encode_with_list(body, envelope, parts))
            return Result(op.success_status, encoded=encode_list(parts))
        shown = [self._present(family, coll, scope, item, op) for item in page]
        if isinstance(body, dict):
            return Result(op.success_status, {**body, envelope: shown})
        return Result(op.success_status, shown)

    def _get(self, call: Call, coll: Collection, family: Family) -> Result:
        op = call.operation
        if _cacheable(coll) and not op.wrap:  # the answer is the item's public JSON: no decode
            scope = self._scope(call)
            self._require_parent(family, coll, scope)
            key = self._named_key(call, coll)
            if self.store.encoded(coll.key, scope, key) is not None:
                return Result(op.success_status, encoded=self._encoded(coll, scope, key))
        scope, item = self._existing(call, coll, family)  # an alias, or a 404
        if op.wrap:
            return Result(op.success_status, self._wrapped(op, self._present(family, coll, scope, item, op)))
        if _cacheable(coll):
            return Result(op.success_status, encoded=self._encoded(coll, scope, item[coll.key_field]))
        return Result(op.success_status, self._present(family, coll, scope, item, op))

    def _replace(self, call: Call, coll: Collection, family: Family) -> Result:
        op = call.operation
        if op.upsert:
            scope = self._scope(call)
            self._require_parent(family, coll, scope)
            key = self._named_key(call, coll)
            if self.store.get(coll.key, scope, key) is None:
                return self._create(call, coll, family, named=key)
        scope, old = self._existing(call, coll, family)
        body = _writable(op, call.body)
        self._check_match(call, body)
        new = _fresh(coll.defaults)
        new.update({f: old[f] for f in op.keep if f in old})
        new.update(body)
        keep_write_only(coll.write_only, old, body, new)
        return self._save_change(call, coll, family, scope, old, new)

    def _update(self, call: Call, coll: Collection, family: Family) -> Result:
        op = call.operation
        scope, old = self._existing(call, coll, family)
        body = _writable(op, call.body)
        self._check_match(call, body)
        new = {**old, **body}
        keep_write_only(coll.write_only, old, body, new)
        _check_merged(op, new)
        return self._save_change(call, coll, family, scope, old, new)

    def _set(self, call: Call, coll: Collection, family: Family) -> Result:
        op = call.operation
        scope, old = self._existing(call, coll, family)
        return self._save_change(
            call, coll, family, scope, old, {**old, **self._resolve(op.set_fields, self.clock.now())}
        )

    def _delete(self, call: Call, coll: Collection, family: Family) -> Result:
        scope, item = self._existing(call, coll, family)
        key = item[coll.key_field]
        self.store.remove(coll.key, scope, key)
        self._drop_children(family, coll, (*scope, key))
        self._touch_parent(family, coll, scope, self.clock.now())
        answer = call.operation.example
        if answer is not None and (answer.has_body or answer.raw is not None):
            return self._canned(call)  # the success the document declares a body for
        return Result(call.operation.success_status)

    def _example(self, call: Call, coll: Collection, family: Family) -> Result:
        """An operation that fits no collection: the documented example, else data generated
        from the schema, the same for the same request (seeded by the seed, method and path)."""
        if call.operation.id_param is not None:  # under an item: only while it exists
            self._existing(call, coll, family)
        return self._canned(call)

    def _canned(self, call: Call) -> Result:
        """The operation's documented example for its success, else data from its schema."""
        answer = call.operation.example
        assert answer is not None  # compiled for every action that answers one
        if answer.raw is not None:  # a non-JSON media type: its documented text, sent as is
            return Result(answer.status, encoded=answer.raw)
        if not answer.has_body:
            return Result(answer.status)
        if answer.fixed:
            return Result(answer.status, answer.example)
        where = call.request.url.path if call.request is not None else call.operation.path
        self._example_fake.reseed_for(f"{self.seed}:{call.operation.method}:{where}")
        return Result(answer.status, self._example_fake.value(answer.schema, "", self._example_moment))

    # -- building and checking items ------------------------------------------

    def _new_item(
        self,
        family: Family,
        coll: Collection,
        scope: Scope,
        fields: dict[str, Any],
        now: datetime,
        given_id_ok: bool = False,
        keep_id: bool = False,
    ) -> Item:
        """A complete, checked item; ids come from the client only where the style says so
        (`given`, `clientChosen`), or from the path (`keep_id`: an upsert)."""
        item = _fresh(coll.defaults)
        item.update(fields)
        for index, item_field in enumerate(coll.scope):
            item[item_field] = scope[index]
        kept = given_id_ok or keep_id or coll.id_style == "given" or coll.client_chosen_id
        if not (coll.id_field in item and kept):
            item[coll.id_field] = self._new_id(coll, scope, now)
        stamp = isoformat(now)
        if coll.created_field:
            item.setdefault(coll.created_field, stamp)
        if coll.updated_field:
            item.setdefault(coll.updated_field, item.get(coll.created_field or "", stamp))
        self._check_references(family, coll, scope, item)
        key = item.get(coll.key_field)
        lifecycle = self.lifecycle_of(coll)
        if lifecycle is not None:
            given = item.get(lifecycle.field) if given_id_ok else None
            if given is not None and given not in lifecycle.states:
                raise ValueError(f"{given!r} is not a state of the {coll.label} lifecycle")
            lifecycle.start(item, now, self._rng_for(coll, key), self.fake.faker, state=given, given=frozenset(fields))
        self._check_unique(family, coll, scope, item, exclude=None)  # first: its message is the API's
        if self.store.get(coll.key, scope, key) is not None:
            raise Problem(409, family.errors.message("conflict"), kind="conflict")
        self._fill_required(coll, item, now)
        if coll.fill_generated is not None:
            item = coll.fill_generated(item)
        return _shaped(coll, item)

    def _save_change(self, call: Call, coll: Collection, family: Family, scope: Scope, old: Item, new: Item) -> Result:
        op = call.operation
        for protected in {coll.id_field, coll.key_field, coll.created_field, META, *coll.scope}:
            if protected and protected in old:
                new[protected] = old[protected]
        if op.reorder and op.reorder["by"] in new:
            new[op.reorder["field"]] = self._reordered(op, old, new.pop(op.reorder["by"]))
        now = self.clock.now()
        if coll.updated_field:
            new[coll.updated_field] = isoformat(now)
        self._check_references(family, coll, scope, new)
        key = old[coll.key_field]
        self._check_unique(family, coll, scope, new, exclude=key)
        self._fill_required(coll, new, now)
        if coll.fill_generated is not None:
            new = coll.fill_generated(new)
        new = _shaped(coll, new)
        self._conform(op, new, now)
        siblings = self._exclusive_changes(op, coll, scope, key, new, now)
        self.store.put(coll.key, scope, key, new)
        for sibling_key, sibling in siblings:
            self.store.put(coll.key, scope, sibling_key, sibling)
        self._touch_parent(family, coll, scope, now)
        body = self._present(family, coll, scope, new, op)
        return Result(op.success_status, self._wrapped(op, body))

    def _exclusive_changes(
        self, op: Operation, coll: Collection, scope: Scope, key: Any, new: Item, now: datetime
    ) -> list[tuple[Any, Item]]:
        changed = []
        for flag in op.exclusive:
            if new.get(flag) is not True:
                continue
            for other in self.store.items(coll.key, scope):
                other_key = other[coll.key_field]
                if other_key != key and other.get(flag) is True:
                    updated = {**other, flag: False}
                    if coll.updated_field:
                        updated[coll.updated_field] = isoformat(now)
                    changed.append((other_key, updated))
        return changed

    def _reordered(self, op: Operation, old: Item, order: Any) -> list[Any]:
        assert op.reorder is not None
        current = old.get(op.reorder["field"]) or []
        by_key = {entry.get(op.reorder["key"]): entry for entry in current if isinstance(entry, dict)}
        wanted = list(order) if isinstance(order, list) else []
        if sorted(map(str, wanted)) != sorted(map(str, by_key)):
            raise Problem(
                400,
                op.family.errors.message("validation"),
                kind="validation",
                fields=[
                    FieldError(op.reorder["by"], f"must list exactly the ids of the existing {op.reorder['field']}")
                ],
            )
        return [by_key[k] for k in wanted]

    def _check_match(self, call: Call, body: dict[str, Any]) -> None:
        errors = [
            FieldError(name, f"must equal the {param} of the path ({call.path[param]})")
            for name, param in call.operation.match.items()
            if name in body and str(body[name]) != str(call.path[param])
        ]
        if errors:
            family = call.operation.family
            raise Problem(400, family.errors.message("validation"), kind="validation", fields=errors)

    def _check_references(self, family: Family, coll: Collection, scope: Scope, item: Item) -> None:
        for ref in coll.references:
            value = get_field(item, ref.field)
            if value is None:
                continue
            target_coll = family.collections[ref.collection]
            target = self.store.get(target_coll.key, (), value)
            if target is None:
                message = ref.message.format(value=value, label=target_coll.label)
                fields = [FieldError(ref.expand or ref.field, message)] if ref.status == 400 else []
                raise Problem(ref.status, message, kind="reference", fields=fields)
            if ref.expand:
                item[ref.expand] = copy.deepcopy(target)

    def _check_unique(self, family: Family, coll: Collection, scope: Scope, item: Item, exclude: Any) -> None:
        for rule, index in zip(coll.unique, self._indexes[coll.key], strict=True):
            value = index.value(item)
            if value is None:
                continue
            owner = self.store.owner(index, scope, value)
            if owner is not None and owner != exclude and self.lifecycle_of(coll) is not None:
                # The owner may have moved on (a scan finished): bring it up to date, then look again.
                current = self.store.get(coll.key, scope, owner)
                if current is not None:
                    self._advanced(coll, scope, [current], read=False)
                owner = self.store.owner(index, scope, value)
            if owner is not None and owner != exclude:
                raise Problem(409, rule.message, kind="conflict")

    def _fill_required(self, coll: Collection, item: Item, now: datetime) -> None:
        shape = coll.shape_of(item)
        props = shape.get("properties", {})
        for name in shape.get("required", []):
            if name not in item and name not in coll.embed:
                item[name] = self.fake.value(props.get(name, {}), name, now)
        if coll.variants:  # the branch's discriminator (its consts), so the item says which branch it is
            item.update((n, p["const"]) for n, p in props.items() if n not in item and "const" in p)

    def _new_id(self, coll: Collection, scope: Scope, now: datetime) -> Any:
        """A fresh id. A random id is drawn again if taken: a run restored from a state file
        restarts its random source from the seed, which would repeat the ids it gave before."""
        new = self._draw_id(coll, now)
        for _ in range(100):
            if coll.id_field != coll.key_field or self.store.get(coll.key, scope, new) is None:
                break
            new = self._draw_id(coll, now)
        return new

    def _draw_id(self, coll: Collection, now: datetime) -> Any:
        if coll.id_style == "ulid":
            return ulid(now, self.rng)
        if coll.id_style == "uuid":
            return uuid4(self.rng)
        if coll.id_style == "pattern":
            return sample_pattern(coll.id_pattern, self.rng)
        if coll.id_style == "integer":
            return self.store.peek_number(coll.key)
        if coll.id_style == "sequential":
            return sequential(coll.id_prefix, coll.id_width, self.store.peek_number(coll.key))
        raise Problem(
            400,
            f"a {coll.label} needs its {coll.id_field}",
            kind="validation",
            fields=[FieldError(coll.id_field, "is required")],
        )

    def _note_given_id(self, coll: Collection, value: Any) -> None:
        if isinstance(value, int):
            self.store.note_number(coll.key, value)
        elif isinstance(value, str) and value.startswith(coll.id_prefix):
            digits = value[len(coll.id_prefix) :]
            if digits.isdigit():
                self.store.note_number(coll.key, int(digits))

    # -- store helpers ----------------------------------------------------------

    def _insert(self, family: Family, coll: Collection, scope: Scope, item: Item) -> None:
        key = item[coll.key_field]
        children = []
        now = self.clock.now()
        for child_name, template in coll.children:
            child = family.collections[child_name]
            child_scope = (*scope, key)
            children.append(
                (child, child_scope, self._new_item(family, child, child_scope, copy.deepcopy(template), now))
            )
        self.store.put(coll.key, scope, key, item)
        self._note_given_id(coll, item[coll.id_field])
        for child, child_scope, child_item in children:
            self.store.put(child.key, child_scope, child_item[child.key_field], child_item)
            self._note_given_id(child, child_item[child.id_field])
        self._touch_parent(family, coll, scope, now)

    def _drop_children(self, family: Family, coll: Collection, scope: Scope) -> None:
        for child_name in coll.child_names:
            child = family.collections[child_name]
            for item in self.store.remove_scope(child.key, scope):
                self._drop_children(family, child, (*scope, item[child.key_field]))

    def _touch_parent(self, family: Family, coll: Collection, scope: Scope, now: datetime) -> None:
        if not (coll.touch_parent and coll.parent):
            return
        parent = family.collections[coll.parent]
        item = self.store.get(parent.key, scope[:-1], scope[-1])
        if item is not None and parent.updated_field:
            self.store.put(parent.key, scope[:-1], scope[-1], {**item, parent.updated_field: isoformat(now)})

    def _scope(self, call: Call) -> Scope:
        return tuple(call.path[p] for p in call.operation.scope_params)

    def _require_parent(self, family: Family, coll: Collection, scope: Scope) -> None:
        if coll.parent is None:
            return
        parent = family.collections[coll.parent]
        self._require_parent(family, parent, scope[:-1])
        if self.store.get(parent.key, scope[:-1], scope[-1]) is None:
            raise Problem(404, family.errors.message("not_found", label=parent.label), kind="not_found")

    def _existing(self, call: Call, coll: Collection, family: Family) -> tuple[Scope, Item]:
        scope = self._scope(call)
        self._require_parent(family, coll, scope)
        key = self._named_key(call, coll)
        item = self.store.get(coll.key, scope, key)
        if item is None and key in coll.aliases:
            wanted = coll.aliases[key]
            item = next(
                (i for i in self.store.items(coll.key, scope) if all(i.get(f) == v for f, v in wanted.items())),
                None,
            )
        if item is None:
            raise Problem(404, family.errors.message("not_found", label=coll.label), kind="not_found")
        return scope, self._advanced(coll, scope, [item], read=True)[0]

    def _conform(self, op: Operation, item: Item, now: datetime) -> None:
        """Draw again, from the item's schema, a field the body sent under another schema that
        the item's rejects (checks are done: what is refused was refused before this)."""
        for name, (check, schema) in op.reshaped.items():
            if name in item and not check.is_valid(item[name]):
                item[name] = self.fake.value(schema, name, now)

    def _wrapped(self, op: Operation, body: Any) -> Any:
        """The answer holding the item under `op.wrap` (with the wrapper's other fields), else the item."""
        if not op.wrap:
            return body
        return {**self._envelope_fields(op), op.wrap: body} if op.envelope_fill else {op.wrap: body}

    def _envelope_fields(self, op: Operation) -> dict[str, Any]:
        """A list envelope's other required fields: documented examples, else values drawn from
        a source fixed by the operation (the same in every answer)."""
        self._example_fake.reseed_for(f"{self.seed}:{op.qualified_id}:envelope")
        fields = {}
        for name, schema in op.envelope_fill.items():
            status_like = name.lower().replace("_", "") in _STATUS_FIELDS and schema.get("type") == "integer"
            fields[name] = op.success_status if status_like and "example" not in schema else None
            if fields[name] is None:
                fields[name] = _documented(schema, name, self._example_fake, self._example_moment)
        return fields

    def _named_key(self, call: Call, coll: Collection) -> Any:
        """The key of the item a call names: a path value, or the body's id field (`PUT /pet`)."""
        op = call.operation
        if not op.id_in_body:
            assert op.id_param is not None
            return call.path[op.id_param]
        key = call.body.get(coll.id_field) if isinstance(call.body, dict) else None
        if key is None:
            message = op.family.errors.message("validation")
            raise Problem(400, message, kind="validation", fields=[FieldError(coll.id_field, "is required")])
        return key

    def _present(self, family: Family, coll: Collection, scope: Scope, item: Item, op: Operation | None) -> Item:
        """The item as clients see it: bookkeeping and write-only secrets removed, children embedded.
        Copies only when something changes: the result is encoded at once and never mutated."""
        if _cacheable(coll):
            return self._view(coll, item)
        shown = item
        if META in shown or coll.embed:
            shown = {k: v for k, v in item.items() if k != META}
            for name, child_name in coll.embed.items():
                child = family.collections[child_name]
                child_scope = (*scope, item[coll.key_field])
                shown[name] = [
                    self._present(family, child, child_scope, c, None) for c in self.store.items(child.key, child_scope)
                ]
        return coll.strip_write_only(shown) if coll.strip_write_only is not None else shown

    def _view(self, coll: Collection, item: Item) -> Item:
        """The public view of an item whose view depends on it alone: write-only fields removed."""
        return coll.strip_write_only(item) if coll.strip_write_only is not None else item

    def _encoded(self, coll: Collection, scope: Scope, key: Any) -> bytes:
        """The public view's JSON of the stored item at `key` (of a cacheable collection): the
        stored bytes themselves when the view is the item, else the view's, cached by the store
        until the item changes (a read, not a create, fills the cache)."""
        if coll.strip_write_only is None:
            stored = self.store.encoded(coll.key, scope, key)
            if stored is not None:
                return stored
        cached: bytes | None = self.store.derived(coll.key, scope, key)
        if cached is not None:
            return cached
        item = self.store.get(coll.key, scope, key)
        assert item is not None  # listed or found in this transaction
        encoded = encode(self._view(coll, item))
        self.store.set_derived(coll.key, scope, key, encoded)
        return encoded

    def _advanced(self, coll: Collection, scope: Scope, items: list[Item], read: bool) -> list[Item]:
        """`items` with every lifecycle transition due by now applied (and stored)."""
        lifecycle = self.lifecycle_of(coll)
        if lifecycle is None:
            return items
        now = self.clock.now()
        for item in items:
            key = item[coll.key_field]
            if lifecycle.advance(item, now, read, self._rng_for(coll, key), self.fake.faker):
                self.store.put(coll.key, scope, key, item)
        return items

    def _rng_for(self, coll: Collection, key: Any) -> Any:
        base = f"{self.seed}/{coll.key}/{key}"
        return lambda step: random.Random(f"{base}/{step}")

    def _resolve(self, template: dict[str, Any], now: datetime, caller: str | None = None) -> dict[str, Any]:
        if not template:
            return {}
        resolved: dict[str, Any] = render(template, now, self.rng, self.fake.faker, caller)
        return resolved


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


_SCALARS = (str, int, float, bool)
#: Integer envelope fields that hold the answer's HTTP status (`status_code: 200`).
_STATUS_FIELDS = ("status", "statuscode", "httpstatus", "httpcode", "code")


def _fresh(defaults: dict[str, Any]) -> Item:
    """A copy of a collection's defaults that an item may own (scalars are shared, the rest copied)."""
    return {k: v if v is None or isinstance(v, _SCALARS) else copy.deepcopy(v) for k, v in defaults.items()}


def _shaped(coll: Collection, item: Item) -> Item:
    """The item with its fields in the order the schema lists them, as the documents show, and
    without top-level fields its schema does not declare (unless it allows them): the real APIs
    ignore unknown input (`fromVersion`, a stray `colour`) rather than storing and echoing it."""
    shape = coll.shape_of(item)
    props = shape.get("properties")
    if not props:
        return item
    ordered = {name: item[name] for name in props if name in item}
    if len(ordered) == len(item):
        return ordered
    known_only = shape.get("additionalProperties") in (None, False)
    kept = (META, coll.key_field, coll.id_field)  # a key the schema does not name is still the item's
    ordered.update((k, v) for k, v in item.items() if k not in ordered and (k in kept or not known_only))
    return ordered


def _check_merged(op: Operation, item: Item) -> None:
    """Refuse an update whose result breaks the operation's `mergedSchema`, as a 400 naming
    each field, in the same words as the request validator."""
    if op.merged_validator is None:
        return
    messages = op.family.errors.field_messages
    errors = sorted((field_error(e, messages) for e in op.merged_validator.iter_errors(item)), key=lambda f: f.field)
    if errors:
        unique = list(dict.fromkeys(errors))
        raise Problem(400, op.family.errors.message("validation"), kind="validation", fields=unique)


def _documented(schema: dict[str, Any], name: str, fake: FakeData, now: datetime) -> Any:
    """The value a schema documents (`example`, `examples`, `default`), else one drawn for it."""
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return copy.deepcopy(schema["examples"][0])
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    return fake.value(schema, name, now)


def _writable(op: Operation, body: Any) -> dict[str, Any]:
    """The request body without readOnly fields (OpenAPI says a server ignores them), nor values
    of fields its schema leaves undeclared that would break the item's own schema."""
    fields = body if isinstance(body, dict) else {}
    if op.undeclared and any(name in op.undeclared for name in fields):
        fields = {k: v for k, v in fields.items() if k not in op.undeclared or op.undeclared[k].is_valid(v)}
    return op.strip_read_only(fields) if op.strip_read_only is not None else fields


def _cacheable(coll: Collection) -> bool:
    """Whether an item's public form depends on the item alone (no children, no lifecycle)."""
    return not coll.embed and coll.lifecycle is None


def _by_key(coll: Collection, op: Operation, query: dict[str, Any]) -> bool:
    """Whether a list can be paged on its keys alone: nothing filters, sorts or pages by a field
    (a cursor names an item by its key field), and the answer is each item's cached JSON."""
    return (
        _cacheable(coll)
        and op.paging != "cursor"
        and not query.get("sort")
        and not any(f.param in query for f in op.filters)
    )


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
