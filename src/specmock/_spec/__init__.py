"""The spec layer: OpenAPI documents with `x-specmock`, compiled into a model.

Loading (YAML with line numbers, JSON fast, external local `$ref`s bundled),
OpenAPI 3.0 schemas converted to 3.1's meaning, `x-specmock` inferred for
documents without it and overlays applied, the extension's schema, compiling
operations, request validation, authentication schemes, each family's error
style, the lifecycles a spec declares, and the segment trie routes are matched
with. The model is read-only once `compile_family` returns: most of it is frozen
dataclasses; a `Collection` is filled in while its document's operations are
compiled (operations name collections declared later), and nothing changes it
after. Nothing here holds state or knows about HTTP serving; every other layer
builds on this one.
"""
