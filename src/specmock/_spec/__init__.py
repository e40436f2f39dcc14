"""The spec layer: OpenAPI documents with `x-specmock`, compiled into a frozen model.

Loading (YAML with line numbers, JSON fast, external local `$ref`s bundled),
OpenAPI 3.0 schemas converted to 3.1's meaning, `x-specmock` inferred for
documents without it and overlays applied, the extension's schema, compiling
operations, request validation, authentication schemes, each family's error
style, the lifecycles a spec declares, and the segment trie routes are matched
with. Nothing here holds state or knows about HTTP serving; every other layer
builds on this one.
"""
