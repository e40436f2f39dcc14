"""One request to the provider, bounded in time and size.

Invariants: a call ends within `timeout` seconds whatever the provider does
(connect, headers and a slow-dripped body all count), reads at most `max_body`
bytes of an answer, and either returns the whole answer or raises
UpstreamFailure with the status the client should get (502: unreachable, too
large, broken; 504: too slow) and a reason that quotes nothing the provider sent.
Hop-by-hop headers are not forwarded, and bodies travel decoded (`identity`), so
what is checked is what is forwarded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from .limits import DEFAULT_MAX_UPSTREAM_BODY, DEFAULT_TIMEOUT

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
        "accept-encoding",
    }
)


class UpstreamFailure(Exception):
    """The provider gave no usable answer: `status` is what the client gets."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]  # as sent, hop-by-hop ones left out

    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def header_map(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers}


def forwardable(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


class Upstream:
    """The provider at `base_url` (its path, if any, prefixes every request path)."""

    def __init__(
        self,
        base_url: str,
        timeout: float = DEFAULT_TIMEOUT,
        max_body: int = DEFAULT_MAX_UPSTREAM_BODY,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`transport`: where requests go instead of the network (an in-process provider, in tests)."""
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"the provider's URL must be http(s)://HOST[:PORT][/PATH], not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_body = max_body
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self.client = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, trust_env=False, limits=limits, transport=transport
        )

    async def send(
        self, method: str, raw_target: str, headers: Iterable[tuple[str, str]], body: bytes | None = None
    ) -> Answer:
        """Forward one request (`raw_target`: path and query, still encoded); UpstreamFailure if it fails."""
        sent = [*forwardable(headers), ("accept-encoding", "identity")]
        try:
            async with asyncio.timeout(self.timeout):
                request = self.client.build_request(method, self.base_url + raw_target, headers=sent, content=body)
                response = await self.client.send(request, stream=True)
                try:
                    chunks = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_body:
                            raise UpstreamFailure(502, f"the provider's answer is larger than {self.max_body} bytes")
                        chunks.append(chunk)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise UpstreamFailure(504, f"the provider did not answer within {self.timeout:g} s") from None
        except httpx.TimeoutException:
            raise UpstreamFailure(504, f"the provider did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise UpstreamFailure(502, f"the provider cannot be reached ({type(exc).__name__})") from None
        return Answer(response.status_code, forwardable(response.headers.multi_items()), b"".join(chunks))

    async def aclose(self) -> None:
        await self.client.aclose()
