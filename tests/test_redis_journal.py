"""The shared journal's followers on a real Redis: every entry of every writer, heard once.

A worker follows the other workers' entries by reading what Redis added since it last
looked. Another worker's batch can land at any moment of that read; these tests put
one between every two commands the follower sends (no timing: the writes are made by a
hook on the follower's connection), over many interleavings of two writers.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from redis_server import RedisServer
from specmock._runtime.journal import Entry, Outcome
from specmock._runtime.state.redis_shared import SharedJournal

_namespaces = itertools.count()


class Idle(SharedJournal):
    """A shared journal whose background thread never runs a round: the test drives it."""

    FLUSH_INTERVAL = 3600.0


class Interleaving(redis.Redis):
    """A client that runs `before` ahead of every command it sends (scripts included)."""

    before: Callable[[], None] | None = None

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if self.before is not None:
            self.before()
        return super().execute_command(*args, **options)


def entry(path: str) -> Entry:
    return Entry(
        seq=0,
        timestamp=0.0,
        method="GET",
        path=path,
        query="",
        family="t",
        operation_id="Get",
        status=200,
        request_body=None,
        response_raw=b"",
        duration_ms=0.0,
        rule=None,
        outcome=Outcome.OK,
    )


@pytest.fixture
def journals(redis_server: RedisServer) -> Iterator[tuple[SharedJournal, SharedJournal, SharedJournal]]:
    """Two writers and one follower (its own connection) on one fresh namespace."""
    ns = f"j{os.getpid()}-{next(_namespaces)}"
    made = [
        Idle(redis.Redis.from_url(redis_server.url), ns, 1000),
        Idle(redis.Redis.from_url(redis_server.url), ns, 1000),
        Idle(Interleaving.from_url(redis_server.url), ns, 1000),
    ]
    try:
        yield made[0], made[1], made[2]
    finally:
        for journal in made:
            journal.close()


@pytest.mark.parametrize("seed", range(8))
def test_a_follower_hears_every_entry_of_two_writers_once_in_order(
    journals: tuple[SharedJournal, SharedJournal, SharedJournal], seed: int
) -> None:
    first, second, follower = journals
    client = follower._client
    assert isinstance(client, Interleaving)
    heard: list[Entry] = []
    follower.subscribe(lambda e: heard.append(e) if e is not None else None)
    follower.catch_up()  # the first round starts from now
    draw = random.Random(seed)
    written = itertools.count()

    def write(journal: SharedJournal, count: int) -> None:
        for _ in range(count):
            journal.add(entry(f"/live-{next(written)}"))
        journal.flush()

    def another_worker_writes() -> None:  # lands between two commands of the follower
        write(draw.choice((first, second)), draw.randint(0, 3))

    for _ in range(12):
        write(first, draw.randint(0, 3))
        write(second, draw.randint(0, 3))
        client.before = another_worker_writes
        follower.catch_up()
        client.before = None
    follower.catch_up()  # the last writes

    everything = [e for e in follower.entries() if e.path.startswith("/live-")]
    assert [e.seq for e in heard] == [e.seq for e in everything], "skipped, repeated or reordered"
    assert sorted(int(e.path.removeprefix("/live-")) for e in heard) == list(range(next(written)))


def test_a_follower_that_heard_everything_hears_nothing_again(
    journals: tuple[SharedJournal, SharedJournal, SharedJournal],
) -> None:
    first, _, follower = journals
    heard: list[Entry] = []
    follower.subscribe(lambda e: heard.append(e) if e is not None else None)
    follower.catch_up()
    first.add(entry("/once"))
    first.flush()
    for _ in range(3):
        follower.catch_up()
    assert [e.path for e in heard] == ["/once"]
