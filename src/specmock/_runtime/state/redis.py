"""The state in Redis: one mock served by several workers or replicas, as one.

Items, indexes and id sequences (RedisStore), the mock clock (SharedClock), the
scenario rule counts (SharedRuleCounter) and the journal (SharedJournal) live
under one key namespace. Without a Redis state none of this is imported.

Invariants:
- A namespace belongs to one set of served documents: by default its name is
  derived from them (`specmock-<hash>`), and a namespace another mock's documents
  own (its `owner` key) is refused at start, so two mocks never read or reset each
  other's data. Every key this state writes is under the namespace.
- The first process to reach an empty namespace writes the fixtures; every later
  one (another worker, a restarted one, another replica) takes the state as it finds
  it. A namespace that lost its state while served (Redis restarted empty, flushed)
  gets its fixtures back from the first process that notices, at the start of its
  next request; until one does, health says degraded.
- A scenario switch is published under the namespace; every process follows it at
  the start of its next request (`refresh`), without resetting again.
- Redis unreachable: operations raise StateUnavailable (503 with Retry-After).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ..._encoding import encode
from .protocol import DEFAULT_MAX_STORE_BYTES, JournalLimits, NamespaceTaken, RuleCounts, StateOwner, StateUnavailable
from .redis_shared import SharedClock, SharedJournal, SharedRuleCounter, WorkerRandom, connect
from .redis_store import UNREACHABLE, RedisStore

log = logging.getLogger("specmock")

#: How long a starting process waits for Redis (and for another process's first load).
STARTUP_WAIT = 10.0

_PUBLISH = """
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 'change', ARGV[1])
return v
"""


def namespace_for(identity: str) -> str:
    """The default namespace of the mock serving the documents named by `identity`."""
    return f"specmock-{identity[:16]}"


class RedisState:
    """A mock's state in Redis at `url`, under `namespace` (None: derived from the documents).

    The URL may carry the namespace itself (`redis://HOST:PORT/DB?namespace=team-a`), so a
    user who names the state with one string (`MockApp(state=...)`, `--state`) can name
    its namespace too; it is taken off before the URL reaches the client library.
    """

    kind = "redis"
    durable = False
    shared = True

    def __init__(
        self,
        url: str,
        namespace: str | None = None,
        journal: JournalLimits | None = None,
        max_store_bytes: int | None = DEFAULT_MAX_STORE_BYTES,
    ) -> None:
        self.url, named = split_namespace(url)
        if namespace is not None and named is not None and namespace != named:
            raise ValueError(f"two namespaces for one Redis state: {named!r} in the URL and {namespace!r}")
        self.namespace = namespace or named
        self._journal_limits = journal or JournalLimits()
        self._max_bytes = max_store_bytes
        self.client: Any = connect(self.url)  # untyped: its answers are bytes here (no decode_responses)
        self._owner: StateOwner | None = None
        self._identity = ""
        self._scenario_version = 0

    # -- set-up --------------------------------------------------------------------------

    def connect(self, identity: Callable[[], str]) -> None:
        """Name the namespace (if not given) and build the parts that live in it."""
        self._identity = identity()
        ns = self.namespace = self.namespace or namespace_for(self._identity)
        self.store = RedisStore(self.client, ns, self._max_bytes)
        self.clock = SharedClock(self.client, ns)
        self.rules: RuleCounts | None = SharedRuleCounter(self.client, ns)
        self.journal = SharedJournal(self.client, ns, self._journal_limits.size)
        self._publish = self.client.register_script(_PUBLISH)

    def random(self, seed: int) -> random.Random:
        return WorkerRandom(seed)

    def initialise(self, owner: StateOwner) -> None:
        """Wait for Redis, claim or join the namespace; the first process writes the fixtures."""
        self._owner = owner
        self._wait_for_redis()
        self._claim_namespace()
        deadline = time.monotonic() + STARTUP_WAIT
        while not self.client.exists(self._key("ready")):
            if self._load_fixtures(owner, startup=True):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"another process is still initialising {self.namespace!r} in Redis")
            time.sleep(0.05)
        self.clock.refresh()
        self._scenario_version = 0  # follow a scenario another process switched to, if any

    def _key(self, name: str) -> str:
        return f"{self.namespace}:{name}"

    def _claim_namespace(self) -> None:
        owner_key = self._key("owner")
        self.client.set(owner_key, self._identity, nx=True)
        found = self.client.get(owner_key)
        if found is not None and found.decode() != self._identity:
            raise NamespaceTaken(
                f"the Redis namespace {self.namespace!r} holds the state of a mock of other documents; "
                "pick another --state-namespace (or leave it out: it is derived from the documents)"
            )

    def _load_fixtures(self, owner: StateOwner, startup: bool) -> bool:
        """Write the fixtures if no other process is doing it; whether this one did."""
        claim = self._key("loading")
        if not self.client.set(claim, str(os.getpid()), nx=True, px=int(STARTUP_WAIT * 1000)):
            return False
        try:
            if startup:
                self.client.delete(self._key("scenario"))  # the command line's scenario is the active one
            self.client.set(self._key("owner"), self._identity)
            owner.fresh_start()
            self.client.set(self._key("ready"), "1")
        finally:
            self.client.delete(claim)
        log.info("shared state initialised in %s (namespace %s)", _safe(self.url), self.namespace)
        return True

    def _wait_for_redis(self) -> None:
        deadline = time.monotonic() + STARTUP_WAIT
        while (reason := self.store.ping()) is not None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"cannot reach the shared state at {_safe(self.url)}: {reason}")
            time.sleep(0.2)

    # -- per request ----------------------------------------------------------------------

    def refresh(self) -> None:
        """The shared clock as it is now, the active scenario if another process changed it, and
        the fixtures back if Redis lost the state (all kept if Redis is away: the request's own
        state access answers 503 then)."""
        with contextlib.suppress(StateUnavailable, *UNREACHABLE):
            self.clock.refresh()
            if not self.clock.ready and self._owner is not None:
                where = f"{_safe(self.url)} (namespace {self.namespace})"
                log.warning("the shared state in %s was lost: restoring the fixtures", where)
                self._load_fixtures(self._owner, startup=False)
                self.clock.refresh()
            if self.clock.scenario_version != self._scenario_version:
                self._follow_scenario()

    def share_scenario(self, change: dict[str, Any] | None) -> None:
        """Tell every process that this one changed the active scenario (`change` says how)."""
        try:
            text = encode({"change": change}).decode()
            self._scenario_version = int(self._publish(keys=[self._key("scenario")], args=[text]))
        except UNREACHABLE:
            log.warning("scenario change not shared with other processes: redis unreachable")

    def _follow_scenario(self) -> None:
        version = self.clock.scenario_version
        raw = self.client.hget(self._key("scenario"), "change")
        self._scenario_version = version
        if raw is None or self._owner is None:
            return
        self._owner.follow_scenario(json.loads(raw)["change"])

    def check_writable(self) -> None:
        return None

    async def settled(self) -> None:
        return None  # a commit is acknowledged by Redis before the request goes on

    def status(self) -> dict[str, Any]:
        """For health: where the state is, whether it answers and whether it holds the state."""
        reason = self.store.ping()
        ready, stored = False, 0
        if reason is None:
            try:
                ready = bool(self.client.exists(self._key("ready")))
                stored = self.store.stored_bytes()
            except (StateUnavailable, *UNREACHABLE) as exc:
                reason = f"redis unreachable: {exc}"
        body: dict[str, Any] = {
            "kind": self.kind,
            "ok": reason is None and ready,
            "url": _safe(self.url),
            "namespace": self.namespace,
            "reachable": reason is None,
            "worker": os.getpid(),
            "storedBytes": stored,
        }
        if reason is not None:
            body["error"] = reason
        elif not ready:
            body["error"] = "the namespace holds no state (Redis lost it): the fixtures come back on the next request"
        return body

    def close(self) -> None:
        self.journal.close()


def split_namespace(url: str) -> tuple[str, str | None]:
    """`url` without its `namespace=` query parameter, and that parameter (None: absent)."""
    base, _, text = url.partition("?")
    query = parse_qsl(text, keep_blank_values=True)
    names = [value for key, value in query if key == "namespace"]
    if not names:
        return url, None
    if len(names) > 1 or not names[0]:
        raise ValueError(f"a Redis state URL names one non-empty namespace: {_safe(url)}")
    rest = urlencode([(key, value) for key, value in query if key != "namespace"])
    return f"{base}?{rest}" if rest else base, names[0]


def _safe(url: str) -> str:
    """`url` without a password."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"
