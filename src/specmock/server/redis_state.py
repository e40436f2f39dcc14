"""Shared state on Redis: what several workers or replicas of one mock must agree on.

`SharedState.attach(mock)` moves a freshly built MockApp onto Redis: its items,
indexes and id sequences (RedisStore), the mock clock (SharedClock), the scenario
rule counters (SharedRuleCounter) and the journal (SharedJournal). Nothing else in
the mock changes: without `--state redis://...` none of this is imported.

Invariants:
- Every check-and-change is one server-side script (a commit, a counter, a clock
  step), so it is atomic across processes.
- The first process to reach an empty namespace writes the fixtures; every later one
  (another worker, a restarted one, another replica) takes the state as it finds it.
- Redis unreachable: operations raise StateUnavailable (503 with Retry-After); the
  client library reconnects on the next call, so service resumes by itself.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..clock import MockClock, to_datetime
from ..errors import LoadError
from ..runtime.journal import Entry, Journal
from ..runtime.persistence import StateUnavailable
from ..runtime.redis_store import UNREACHABLE, RedisStore
from ..scenario.loader import Rule, Scenario
from .admin import PREFIX as ADMIN_PREFIX

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope, Send

    from .app import MockApp

log = logging.getLogger("specmock")

DEFAULT_NAMESPACE = "specmock"
SCENARIO_PATH = f"{ADMIN_PREFIX}/scenario"
#: How long a starting process waits for Redis (and for another process's first load).
STARTUP_WAIT = 10.0

_CLOCK = """
local h = KEYS[1]
local scenario = redis.call('HGET', KEYS[2], 'v') or '0'
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
return {string.format('%.6f', offset), frozen and string.format('%.6f', frozen) or '', scenario}
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

_PUBLISH = """
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 'change', ARGV[1])
return v
"""

_JOURNAL = """
local n = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], n .. '|' .. ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
return n
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
        self._keys = [f"{namespace}:clock", f"{namespace}:scenario"]
        self._script = client.register_script(_CLOCK)
        #: The version of the shared active scenario, read with the time (one round trip).
        self.scenario_version = 0

    def _apply(self, op: str, arg: float = 0.0) -> None:
        try:
            offset, frozen, scenario = self._script(keys=self._keys, args=[op, repr(time.time()), repr(arg)])
        except UNREACHABLE as exc:
            raise StateUnavailable(f"redis unreachable: {exc}", retry_after=1) from None
        self.scenario_version = int(scenario)
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

    def fires(self, scenario: Scenario, index: int, rule: Rule, lucky: bool) -> bool:
        """Count a match of `rule`; whether it fires (its after/every/times allow it, and `lucky`)."""
        name = f"{scenario.source}#{scenario.name}#{index}#{rule.label}"
        times = -1 if rule.times is None else rule.times
        args: list[str | int] = [name, rule.after or 0, rule.every or 0, times, int(lucky)]
        try:
            matched, fired, fires = self._script(keys=[self._key], args=args)
        except UNREACHABLE as exc:
            raise StateUnavailable(f"redis unreachable: {exc}", retry_after=1) from None
        rule.matched, rule.fired = int(matched), int(fired)
        return bool(fires)


class SharedJournal(Journal):
    """The journal as one bounded Redis list: every process's requests, in one order.

    Entries are sent in batches, off the request path (a background thread, every
    FLUSH_INTERVAL, and before this process reads the journal): recording costs a
    request no round trip. It is a record, not state: a batch that cannot be sent
    (Redis away, a worker killed) is dropped with a warning, the requests stay answered.
    """

    FLUSH_INTERVAL = 0.05

    def __init__(self, client: redis.Redis, namespace: str, size: int) -> None:
        super().__init__(size)
        self._client: Any = client
        self._list = f"{namespace}:journal"
        self._seq_key = f"{namespace}:journal:seq"
        self._script = client.register_script(_JOURNAL)
        self._limit = size
        self._pending: deque[str] = deque()
        self._flushing = threading.Lock()
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
        while True:
            time.sleep(self.FLUSH_INTERVAL)
            self.flush()

    def clear(self) -> None:
        self.flush()
        try:
            self._client.delete(self._list)
        except UNREACHABLE as exc:
            raise StateUnavailable(f"redis unreachable: {exc}", retry_after=1) from None

    def entries(self, operation_id: str | None = None) -> list[Entry]:
        self.flush()
        try:
            raw: list[bytes] = self._client.lrange(self._list, 0, -1)
        except UNREACHABLE as exc:
            raise StateUnavailable(f"redis unreachable: {exc}", retry_after=1) from None
        items = []
        for line in raw:
            seq, _, text = line.decode().partition("|")
            fields = json.loads(text)
            fields["response_raw"] = base64.b64decode(fields["response_raw"])
            items.append(Entry(seq=int(seq), **fields))
        if operation_id is None:
            return items
        family, _, plain = operation_id.rpartition(":")
        return [e for e in items if e.operation_id == plain and (not family or e.family == family)]

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


@dataclass
class SharedState:
    """A mock's state in Redis at `url`, under `namespace`."""

    url: str
    namespace: str = DEFAULT_NAMESPACE

    def __post_init__(self) -> None:
        self.client = connect(self.url)
        self.store = RedisStore(self.client, self.namespace)
        self.clock = SharedClock(self.client, self.namespace)
        self.rules = SharedRuleCounter(self.client, self.namespace)
        self._scenario_key = f"{self.namespace}:scenario"
        self._publish = self.client.register_script(_PUBLISH)
        self._scenario_version = 0

    def attach(self, mock: MockApp) -> None:
        """Move `mock` (just built, in memory) onto the shared state; the first process
        to arrive writes the fixtures it holds."""
        self._wait_for_redis()
        indexes = [index for coll_indexes in mock.engine._indexes.values() for index in coll_indexes]
        for index in indexes:
            self.store.add_index(index)
        fixtures = mock.store.export()
        ready, claim = f"{self.namespace}:ready", f"{self.namespace}:loading"
        deadline = time.monotonic() + STARTUP_WAIT
        while not self.client.exists(ready):
            if self.client.set(claim, str(os.getpid()), nx=True, px=int(STARTUP_WAIT * 1000)):
                self.client.delete(self._scenario_key)  # the command line's scenario is the active one
                self.store.load(fixtures)
                self.client.set(ready, "1")
                log.info("shared state initialised in %s (namespace %s)", _safe(self.url), self.namespace)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"another process is still initialising {self.namespace!r} in Redis")
            time.sleep(0.05)
        rng = WorkerRandom(mock.engine.seed)
        mock.engine.rng = mock.engine.fake.rng = rng
        mock.store = mock.engine.store = self.store  # type: ignore[assignment]
        mock.clock = mock.engine.clock = mock.dispatcher.clock = self.clock
        mock.journal = mock.dispatcher.journal = SharedJournal(self.client, self.namespace, mock.journal.size)
        mock.dispatcher.rule_counter = self.rules
        mock.shared_state = self
        self.clock.refresh()

    def _wait_for_redis(self) -> None:
        deadline = time.monotonic() + STARTUP_WAIT
        while (reason := self.store.ping()) is not None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"cannot reach the shared state at {_safe(self.url)}: {reason}")
            time.sleep(0.2)

    def status(self) -> dict[str, Any]:
        """For the health endpoint: where the state is and whether it answers."""
        reason = self.store.ping()
        body: dict[str, Any] = {
            "kind": "redis",
            "url": _safe(self.url),
            "namespace": self.namespace,
            "reachable": reason is None,
            "worker": os.getpid(),
        }
        if reason is not None:
            body["error"] = reason
        return body

    def refresh(self, mock: MockApp) -> None:
        """At the start of every request: the shared clock as it is now, and the active scenario
        if another process changed it (both kept if Redis is away: the request's own state
        access answers 503 then)."""
        with contextlib.suppress(StateUnavailable, *UNREACHABLE):
            self.clock.refresh()
            if self.clock.scenario_version != self._scenario_version:
                self._follow_scenario(mock)

    def publish_scenario(self, change: dict[str, Any]) -> None:
        """Tell every process that this one changed the active scenario (`change` says how)."""
        try:
            self._scenario_version = int(self._publish(keys=[self._scenario_key], args=[json.dumps(change)]))
        except UNREACHABLE:
            log.warning("scenario change not shared with other processes: redis unreachable")

    def _follow_scenario(self, mock: MockApp) -> None:
        from .admin import AdminError, scenario_sources

        version = self.clock.scenario_version
        raw = self.client.hget(self._scenario_key, "change")
        self._scenario_version = version
        if raw is None:
            return
        change = json.loads(raw)
        try:
            if change["op"] == "clear":
                mock.clear_scenario(reset=False)  # the state was reset by the process that changed it
            else:
                mock.load_scenario(*scenario_sources(change["raw"]), reset=False)
        except (AdminError, LoadError, ValueError) as exc:
            log.error("cannot follow the scenario another process loaded: %s", exc)


class SharedStateApp:
    """The ASGI app a worker serves: the mock, with the shared clock read per request."""

    def __init__(self, mock: MockApp, shared: SharedState) -> None:
        self.mock = mock
        self.shared = shared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.shared.refresh(self.mock)
            if scope["path"] == SCENARIO_PATH and scope["method"] in ("PUT", "DELETE"):
                await self._scenario_change(scope, receive, send)
                return
        await self.mock(scope, receive, send)

    async def _scenario_change(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a scenario change, and share it once it succeeded. The body is seen as the admin
        API reads it (after its Host and token gate, within its size limit), never read ahead of it:
        a refused caller's body is not read at all."""
        body = bytearray()

        async def tee() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.mock(scope, tee, watch)
        if 200 <= status < 300:
            op = "clear" if scope["method"] == "DELETE" else "put"
            self.shared.publish_scenario({"op": op, "raw": bytes(body).decode("utf-8", "replace")})


def _safe(url: str) -> str:
    """`url` without a password."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"
