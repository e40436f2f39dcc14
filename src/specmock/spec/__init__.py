"""The spec layer: OpenAPI documents with `x-specmock`, compiled into a frozen model.

Loading (YAML with line numbers), the extension's schema, compiling operations,
request validation, authentication schemes, each family's error style and the
lifecycles a spec declares. Nothing here holds state or knows about HTTP serving;
every other layer builds on this one.
"""
