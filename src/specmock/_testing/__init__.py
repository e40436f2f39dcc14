"""The testing layer: using the mock from tests.

The pytest plugin and its `Handle`, in-process transports, and the response
conformance checker. This package imports nothing on import, so the plugin,
which pytest loads in every run, costs nothing until a test asks for the mock.
"""
