"""Reading any OpenAPI document: versions, references, inference, overlays, routing.

The modules here turn a user's document (3.0 or 3.1, YAML or JSON, split into
files, with or without `x-specmock`) into the one form the compiler reads: a
3.1-style document carrying a complete `x-specmock` extension.
"""
