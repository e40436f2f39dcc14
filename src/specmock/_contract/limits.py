"""How long and how much the contract commands wait for and read from a provider (their defaults).

Kept apart from upstream.py so the command line can show them without importing httpx.
"""

DEFAULT_TIMEOUT = 10.0
#: Bytes of one answer the proxy reads at most; a larger one is a 502 and a finding.
DEFAULT_MAX_UPSTREAM_BODY = 8 * 1024 * 1024
