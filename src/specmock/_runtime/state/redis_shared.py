"""The parts of a Redis state besides its items: the clock, the rule counts and the journal.

Invariants:
- Every check-and-change is one server-side script (a clock step, a rule count), so
  it is atomic across processes.
- The journal is a record, not state: entries are sent in batches off the request
  path, and a batch Redis cannot take is dropped with a warning.
- Redis unreachable: operations raise StateUnavailable (503 with Retry-After); the
  client library reconnects on the next call, so service resumes by itself.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..._clock import MockClock, to_datetime
from ..journal import Entry, Journal
from .protocol import StateUnavailable
from .redis_store import UNREACHABLE

log = logging.getLogger("specmock")

_CLOCK = """
local h = KEYS[1]
local scenario = redis.call('HGET', KEYS[2], 'v') or '0'
local ready = redis.call('EXISTS', KEYS[3])
local op, wall, arg = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local offset = tonumber(redis.call('HGET', h, 'offset') or '0')
local frozen = redis.call('HGET', h, 'frozen')
if frozen then frozen = tonumber(frozen) end
if op == 'freeze' then
  if not frozen then frozen = wall + offset end
elseif op == 'unfreeze' then
  if frozen then offset = frozen - wall; frozen = false end
elseif op == 'advance' then
  if frozen then frozen = frozen + arg else offset = offset + arg end
elseif op == 'set' then
  if frozen then frozen = arg else offset = arg - wall end
elseif op == 'reset' then
  offset = 0; frozen = false
end
if op ~= 'read' then
  redis.call('HSET', h, 'offset', string.format('%.6f', offset))
  if frozen then redis.call('HSET', h, 'frozen', string.format('%.6f', frozen)) else redis.call('HDEL', h, 'frozen') end
end
return {string.format('%.6f', offset), frozen and string.format('%.6f', frozen) or '', scenario, ready}
"""

_RULE = """
local h, f = KEYS[1], ARGV[1]
local after, every, times, lucky = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local n = redis.call('HINCRBY', h, f .. ':m', 1)
local fired = tonumber(redis.call('HGET', h, f .. ':f') or '0')
if (after > 0 and n < after) or (every > 0 and n % every ~= 0) or (times >= 0 and fired >= times) or lucky == '0' then
  return {n, fired, 0}
end
return {n, redis.call('HINCRBY', h, f .. ':f', 1), 1}
"""

_JOURNAL = """
local n = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], n .. '|' .. ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
return n
"""

# What a follower reads in one round: the newest number and the entries after `heard`,
# in one step. Two steps (GET, then LRANGE of the tail) let another process push in
# between: the tail then starts later than `heard` and the entries in the gap are
# never heard (and the pushed ones are heard twice). Inside one script no push can land.
_FOLLOW = """
local heard, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local newest = tonumber(redis.call('GET', KEYS[2]) or '0')
if heard < 0 or newest <= heard then return {newest} end
local rows = redis.call('LRANGE', KEYS[1], -math.min(newest - heard, limit), -1)
table.insert(rows, 1, newest)
return rows
"""


def connect(url: str) -> redis.Redis:
    """A client for `url` that fails fast (no silent retries: a lost answer is a 503)."""
    return redis.Redis.from_url(
        url,
        socket_timeout=2.0,
        socket_connect_timeout=1.0,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


class SharedClock(MockClock):
    """The mock clock kept in Redis: an advance on one process moves every process's time.

    `now()` reads the copy fetched at the start of the request (`refresh`), so one
    request sees one time; every change is a script on the shared copy.
    """

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        super().__init__()
        self._keys = [f"{namespace}:clock", f"{namespace}:scenario", f"{namespace}:ready"]
        self._script = client.register_script(_CLOCK)
        #: The version of the shared active scenario, read with the time (one round trip).
        self.scenario_version = 0
        #: Whether the namespace holds a state (False: Redis lost it, or it was flushed).
        self.ready = True

    def _apply(self, op: str, arg: float = 0.0) -> None:
        try:
            offset, frozen, scenario, ready = self._script(keys=self._keys, args=[op, repr(time.time()), repr(arg)])
        except UNREACHABLE as exc:
            raise StateUnavailable(f"redis unreachable: {exc}", retry_after=1) from None
        self.scenario_version = int(scenario)
        self.ready = bool(ready)
        self._offset = timedelta(seconds=float(offset))
        self._frozen_at = datetime.fromtimestamp(float(frozen), UTC) if frozen else None

    def refresh(self) -> None:
        self._apply("read")

    def freeze(self) -> None:
        self._apply("freeze")

    def unfreeze(self) -> None:
        self._apply("unfreeze")

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self._apply("advance", seconds)
        return self.now()

    def set(self, moment: datetime | str | float) -> None:
        self._apply("set", to_datetime(moment).timestamp())

    def reset(self) -> None:
        self._apply("reset")


class SharedRuleCounter:
    """Scenario rule counters in Redis: "the third call fails" counts calls to every process."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._key = f"{namespace}:rules"
        self._script = client.register_script(_RULE)

    def count(self, name: str, after: int, every: int, times: int, lucky: bool) -> tuple[int, int, bool]:
        """Count a match of rule `name`; its counts, and whether it fires (after/every/times
        allow it, and `lucky`). `times` -1: no limit."""
        args: list[str | int] = [name, after, every, times, int(lucky)]
        try:
            matched, fired, fires = self._script(keys=[self._key], args=args)
        except UNREACHABLE as exc:
            raise StateUnavailable(f"redis unreachable: {exc}", retry_after=1) from None
        return int(matched), int(fired), bool(fires)


class SharedJournal(Journal):
    """The journal as one bounded Redis list: every process's requests, in one order.

    Entries are sent in batches, off the request path (a background thread, every
    FLUSH_INTERVAL, and before this process reads the journal): recording costs a
    request no round trip. It is a record, not state: a batch that cannot be sent
    (Redis away, a worker killed) is dropped with a warning, the requests stay answered.
    Subscribers (the dashboard's live events and coverage) hear of every process's
    entries, in Redis's order: the same thread reads what was added since it last looked.
    Redis numbers an entry as it appends it (one script), so the list is in number order;
    a follower reads "the newest number and the entries after the last one heard" in one
    script too, so it hears each entry once, whatever other processes push meanwhile.
    """

    FLUSH_INTERVAL = 0.05

    def __init__(self, client: redis.Redis, namespace: str, size: int) -> None:
        super().__init__(size)
        self._client: Any = client
        self._list = f"{namespace}:journal"
        self._seq_key = f"{namespace}:journal:seq"
        self._script = client.register_script(_JOURNAL)
        self._follow = client.register_script(_FOLLOW)
        self._limit = size
        self._pending: deque[str] = deque()
        self._flushing = threading.Lock()
        self._stopped = threading.Event()
        self._heard = -1  # the last entry told to subscribers (-1: none yet, start from now)
        threading.Thread(target=self._flush_often, name="specmock-journal", daemon=True).start()

    def next_seq(self) -> int:
        return 0  # numbered by Redis when added

    def add(self, entry: Entry) -> None:
        fields = {**entry.__dict__, "response_raw": base64.b64encode(entry.response_raw).decode()}
        fields.pop("seq", None)
        fields.pop("time", None)
        self._pending.append(json.dumps(fields))  # deque.append is atomic: no lock on the request path

    def flush(self) -> None:
        """Send what was recorded so far."""
        with self._flushing:
            batch = []
            while self._pending:
                batch.append(self._pending.popleft())
            if not batch:
                return
            try:
                pipe = self._client.pipeline(transaction=False)
                for text in batch:
                    self._script(keys=[self._list, self._seq_key], args=[text, self._limit], client=pipe)
                pipe.execute()
            except UNREACHABLE:
                log.warning("%d journal entries not recorded: redis unreachable", len(batch))

    def _flush_often(self) -> None:
        while not self._stopped.wait(self.FLUSH_INTERVAL):
            self.flush()
            if self._subscribers:
                try:
                    self.catch_up()
                except (*UNREACHABLE, ValueError):
                    continue  # a record, not state: the next round catches up

    def catch_up(self) -> None:
        """Hand subscribers the entries every process added since the last round, each once,
        in number order (the background thread calls it; a test may too)."""
        newest, *rows = self._follow(keys=[self._list, self._seq_key], args=[self._heard, self._limit])
        newest = int(newest)
        if self._heard < 0 or newest <= self._heard:  # the first round, nothing new, or the numbers restarted
            self._heard = newest
            return
        fresh = [e for e in self._decode(rows) if self._heard < e.seq <= newest]
        self._heard = newest
        for entry in fresh:
            for subscriber in self._subscribers:
                subscriber(entry)

    def close(self) -> None:
        """Send what is pending and stop the background thread."""
        self._stopped.set()
        self.flush()

    def clear(self) -> None:
        self.flush()
        try:
            self._client.delete(self._list)
        except UNREACHABLE as exc:
            raise StateUnavailable(f"redis unreachable: {exc}", retry_after=1) from None

    @staticmethod
    def _decode(raw: list[bytes]) -> list[Entry]:
        items = []
        for line in raw:
            seq, _, text = line.decode().partition("|")
            fields = json.loads(text)
            fields["response_raw"] = base64.b64decode(fields["response_raw"])
            items.append(Entry(seq=int(seq), **fields))
        return items

    def entries(self, operation_id: str | None = None) -> list[Entry]:
        self.flush()
        try:
            raw: list[bytes] = self._client.lrange(self._list, 0, -1)
        except UNREACHABLE as exc:
            raise StateUnavailable(f"redis unreachable: {exc}", retry_after=1) from None
        items = self._decode(raw)
        if operation_id is None:
            return items
        family, _, plain = operation_id.rpartition(":")
        return [e for e in items if e.operation_id == plain and (not family or e.family == family)]

    def find(self, seq: int) -> Entry | None:
        """The entry numbered `seq`, whichever process recorded it, if the list still holds it."""
        return next((e for e in reversed(self.entries()) if e.seq == seq), None)

    def __len__(self) -> int:
        try:
            return int(self._client.llen(self._list))
        except UNREACHABLE:
            return 0


class WorkerRandom(random.Random):
    """A random source that differs per process even from one seed: two workers drawing
    the same random ids would only collide and draw again."""

    def seed(self, a: Any = None, version: int = 2) -> None:
        super().seed(f"{a}/{os.getpid()}", version)
