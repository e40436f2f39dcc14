"""The compiled form of a spec: what the request path reads, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from .auth import Authenticator
from .diagnostics import LeftOut
from .error_bodies import ErrorBodies
from .error_styles import ErrorStyle
from .fastvalidation import BodyValidator
from .lifecycle import Lifecycle, override_lifecycle
from .readonly import Filler
from .schematools import FlagPath, Stripper
from .validation import CompiledSchema, ParameterSet
from .variants import pick_variant


class Action(StrEnum):
    """What an operation does to its collection: the generic handlers every spec maps onto."""

    LIST = "list"
    CREATE = "create"
    GET = "get"
    REPLACE = "replace"
    UPDATE = "update"
    DELETE = "delete"
    SET = "set"  # change one field of an item (Versori's publish/unpublish)
    EXAMPLE = "example"  # fits no collection: answer the documented example (as Prism does)

    @property
    def needs_id(self) -> bool:
        """Whether the path names one item."""
        return self not in (Action.LIST, Action.CREATE, Action.EXAMPLE)

    @property
    def writes(self) -> bool:
        """Whether it changes state when it succeeds (reads may too, as lifecycles advance)."""
        return self not in (Action.LIST, Action.GET, Action.EXAMPLE)


@dataclass(frozen=True)
class UniqueRule:
    """Items of a collection (in one scope) may not share these field values."""

    fields: tuple[str, ...]
    when: dict[str, list[Any]]
    message: str


@dataclass(frozen=True)
class Reference:
    """A field that must name an item of another collection."""

    field: str
    collection: str
    status: int
    message: str
    expand: str | None


@dataclass
class Collection:
    """A kind of resource and the rules its items follow."""

    name: str
    label: str
    id_style: str
    family: str = ""
    id_prefix: str = ""
    id_width: int = 0
    id_field: str = "id"
    key_field: str = "id"
    #: For id style `pattern`: the regular expression new ids are drawn to match.
    id_pattern: str = ""
    #: Whether a create may name the id in its body (`username` for `/user/{username}`).
    client_chosen_id: bool = False
    schema: dict[str, Any] = field(default_factory=dict)
    #: The shapes an item may take (spec/variants.py): one, or one per oneOf branch of `schema`.
    variants: tuple[dict[str, Any], ...] = ()
    scope: dict[str, str] = field(default_factory=dict)  # item field -> path parameter
    parent: str | None = None
    created_field: str | None = None
    updated_field: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    unique: list[UniqueRule] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    embed: dict[str, str] = field(default_factory=dict)  # item field -> child collection
    children: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)
    touch_parent: bool = False
    fixtures: list[dict[str, Any]] = field(default_factory=list)
    #: The write-only fields' paths: kept across an update that does not resend them.
    write_only: frozenset[FlagPath] = frozenset()
    #: Removes the write-only fields from an item; None when there are none.
    strip_write_only: Stripper | None = None
    #: Adds the server-generated fields (readOnly with a default) an item lacks; None when there are none.
    fill_generated: Filler | None = None
    child_names: list[str] = field(default_factory=list)
    #: Fields an answer about the items requires beyond their own schema (a list's summaries
    #: require `EngineType`), with the schema a value must fit: filled when an item is stored.
    answered_fields: dict[str, Any] = field(default_factory=dict)
    #: The lifecycle as the spec declares it. A scenario's override lives beside it, per app (Engine.lifecycles).
    lifecycle: Lifecycle | None = None

    def shape_of(self, item: dict[str, Any]) -> dict[str, Any]:
        """The object schema `item` follows: the collection's, or the oneOf branch it is."""
        return pick_variant(self.variants, item) if self.variants else self.schema

    def overridden_lifecycle(self, override: dict[str, Any]) -> Lifecycle:
        """This collection's lifecycle with `override` laid over it.

        ValueError when the collection has none; InvalidOverride (a ValueError) when the result is invalid.
        """
        if self.lifecycle is None:
            raise ValueError(f"{self.family}.{self.name} has no lifecycle to override")
        enum = (self.schema.get("properties", {}).get(override.get("field", self.lifecycle.field)) or {}).get("enum")
        return override_lifecycle(self.lifecycle, override, enum)

    @property
    def key(self) -> str:
        """The store's name for this collection: two families may both have `connectors`."""
        return f"{self.family}.{self.name}"


@dataclass(frozen=True)
class Filter:
    """A query parameter that narrows a list."""

    param: str
    field: str
    match: str = "eq"


@dataclass
class Operation:
    """One method on one path, with everything needed to answer it."""

    family: Family
    operation_id: str
    method: str
    path: str  # the full path template, prefix included
    action: Action
    collection: Collection
    success_status: int
    authenticator: Authenticator
    path_params: ParameterSet
    query_params: ParameterSet
    header_params: ParameterSet
    body_validator: BodyValidator | None = None
    body_required: bool = False
    #: Removes what the server ignores from a request body: readOnly fields and, with
    #: `undeclaredFields: ignore`, properties the body's schema does not declare.
    strip_read_only: Stripper | None = None
    #: Checks the item an update would store (`x-specmock.mergedSchema`); None when undeclared.
    merged_validator: CompiledSchema | None = None
    id_param: str | None = None
    #: The item is named by the body's id field rather than by a path parameter (`PUT /pet`).
    id_in_body: bool = False
    #: replace: an absent item is created, answered with `created_status`.
    upsert: bool = False
    created_status: int = 201
    #: list: envelope fields that hold the number of items matched.
    counts: tuple[str, ...] = ()
    #: list (or an answer with `wrap`): the envelope's other required fields, with their schemas.
    envelope_fill: dict[str, Any] = field(default_factory=dict)
    #: create of a oneOf item: the consts of the branch it answers (its discriminator), set on the item.
    branch_consts: dict[str, Any] = field(default_factory=dict)
    #: Item fields the body schema leaves undeclared, with a check of the item's own schema for them:
    #: a body value that fails it is ignored rather than stored (the item would break its document).
    undeclared: dict[str, BodyValidator] = field(default_factory=dict)
    #: Item fields the body declares under another schema: a stored value that breaks the item's
    #: schema is completed from it (else drawn again), once every check has passed (the item must
    #: fit its document). The flag: the body's schema for it is proved to imply the item's, so a
    #: create storing the very value the validated body sent need not check it again.
    reshaped: dict[str, tuple[BodyValidator, dict[str, Any], bool]] = field(default_factory=dict)
    #: update: objects the body sends as parts (its schema leaves out fields the item's requires),
    #: merged into the stored ones rather than replacing them.
    partial_objects: frozenset[str] = frozenset()
    scope_params: tuple[str, ...] = ()
    set_fields: dict[str, Any] = field(default_factory=dict)
    #: Templates for the fields a create leaves out (`x-specmock.fill`).
    fill_fields: dict[str, Any] = field(default_factory=dict)
    keep: tuple[str, ...] = ()
    match: dict[str, str] = field(default_factory=dict)
    reorder: dict[str, str] | None = None
    exclusive: tuple[str, ...] = ()
    wrap: str | None = None
    envelope: str | None = None
    paging: str = "none"
    filters: tuple[Filter, ...] = ()
    responses: dict[str, Any] = field(default_factory=dict)  # status -> raw response object
    #: For `action: example`: what to answer (the documented example, else data from the schema).
    example: Any = None
    #: The Content-Type of a success answer: a media type the success response declares.
    media_type: str = "application/json"
    #: Its refusals' bodies, by status, in the shapes the document declares (spec/error_bodies.py).
    error_bodies: ErrorBodies | None = None

    @property
    def qualified_id(self) -> str:
        return f"{self.family.name}:{self.operation_id}"


@dataclass
class Family:
    """One API family: a spec, its prefix, errors, collections and operations."""

    name: str
    title: str
    source: Path
    prefix: str
    document: dict[str, Any]
    errors: ErrorStyle
    collections: dict[str, Collection] = field(default_factory=dict)
    operations: list[Operation] = field(default_factory=list)
    #: Operations the document declares that cannot be served (a lenient load), and why.
    left_out: list[LeftOut] = field(default_factory=list)
    #: The load's warning lines, `file:line: #/pointer: reason` (a lenient load).
    warnings: list[str] = field(default_factory=list)
    #: Bodies of refusals no operation shapes (unrouted requests, undocumented statuses).
    error_bodies: ErrorBodies | None = None


@dataclass(frozen=True)
class CompiledPath:
    """A path template (matched by routing_trie), with the operations of each method on it."""

    template: str
    param_names: tuple[str, ...]
    methods: dict[str, Operation]
    family: Family
