"""The journal as Server-Sent Events (`GET /__specmock/events`), for the dashboard's live list.

Invariants: each client gets a bounded queue, filled from any thread; one that falls
behind is disconnected rather than buffered for, and its EventSource reconnects with
Last-Event-ID and catches up from the journal. A stream never sends an entry twice
(the backlog and the live queue may overlap). An event carries an entry's summary
only; bodies are fetched when an entry is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .._encoding import encode
from .._runtime.journal import Entry
from .admin import AdminError

if TYPE_CHECKING:
    from .._runtime.journal import Journal

#: Events a client may have queued before it counts as too slow and is disconnected.
FEED_QUEUE = 512
#: Journal entries replayed to a client that connects (or reconnects) at most.
BACKLOG = 500
#: Seconds between keep-alive comments on an idle stream (proxies close silent connections).
KEEPALIVE = 15.0


def summary(entry: Entry) -> dict[str, Any]:
    """What the live traffic list shows of an entry (bodies are fetched when opened)."""
    data: dict[str, Any] = {
        "seq": entry.seq,
        "time": entry.time,
        "timestamp": entry.timestamp,
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "family": entry.family,
        "operationId": entry.operation_id,
        "status": entry.status,
        "durationMs": round(entry.duration_ms, 3),
        "rule": entry.rule,
        "outcome": entry.outcome,
    }
    if entry.outcome in ("invalid", "unmatched", "refused", "error"):
        data["problem"] = entry.response_body  # the family's error document: small, and the point of the row
    return data


class Feed:
    """One event-stream client: a bounded queue filled from any thread, drained by its stream."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int = FEED_QUEUE) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Entry | None] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def __call__(self, entry: Entry | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the stream is gone anyway
            self.loop.call_soon_threadsafe(self._put, entry)

    def _put(self, entry: Entry | None) -> None:
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.overflowed = True  # the stream ends; the client reconnects and catches up from the journal
            if entry is None:
                self.queue.get_nowait()
                self.queue.put_nowait(None)


def _sse(entry: Entry) -> bytes:
    return b"id: %d\nevent: request\ndata: %s\n\n" % (entry.seq, encode(summary(entry)))


def journal_events(journal: Journal, request: Request) -> Response:
    """`GET /__specmock/events`: the entries after `Last-Event-ID` (or `?since=`), at most BACKLOG of
    them, then each new one as it is journaled, until the client is too slow or the server stops."""
    last = request.headers.get("last-event-id") or request.query_params.get("since") or "0"
    try:
        after = int(last)
    except ValueError:
        raise AdminError("Last-Event-ID must be a journal sequence number") from None
    feed = Feed(asyncio.get_running_loop())
    unsubscribe = journal.subscribe(feed)
    backlog = [e for e in journal.entries() if e.seq > after][-BACKLOG:]

    async def stream() -> AsyncIterator[bytes]:
        sent = after
        try:
            yield b"retry: 1000\n\n"
            for entry in backlog:
                sent = entry.seq
                yield _sse(entry)
            while not feed.overflowed:
                try:
                    fresh: Entry | None = await asyncio.wait_for(feed.queue.get(), KEEPALIVE)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if fresh is None:  # the server is stopping
                    yield b"event: bye\ndata: {}\n\n"
                    return
                if fresh.seq > sent:  # the backlog may have held it already
                    sent = fresh.seq
                    yield _sse(fresh)
        finally:
            unsubscribe()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
