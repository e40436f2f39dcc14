"""Benchmark of specmock's pytest plugin: what a test pays for the `specmock` fixture, and per request.

Two measurements, in the same run, because absolute figures drift between machines and runs:

(a) Fixture cost per test. A generated file of N trivial tests (each makes one POST /connectors, so
    the reset has state and a journal to discard) runs under `pytest.main` in this process, with a
    small plugin timing the `specmock` fixture's setup (`pytest_fixture_setup`) and each test's
    teardown (`pytest_runtest_teardown`, where the fixture's teardown runs). The first test also
    builds the app (once per session) and is reported apart. As a cross-check, the fixture's
    per-test work is also timed alone, without pytest around it.
    Target: mean setup + teardown under 2 ms per test (p99 is shown against the same bound).
    (plugin_fixture_cost.py)

(b) Per-request cost through the fixture's clients against respx, the usual way to fake httpx: GET
    and POST /connectors through `specmock.client` versus an `httpx.Client` whose routes respx
    answers with the bytes specmock returned, and the same for `specmock.async_client` versus an
    `httpx.AsyncClient` under respx. Requests are sent one after another (a test's pattern), the two
    sides alternating in rounds; the ratio is specmock's mean time per request over respx's. respx
    does no routing, auth, validation or state, so this bounds what specmock's fidelity costs.
    Target: within 3x.

Everything runs in one thread with no I/O, so each figure is taken twice: CPU time of the thread
(`time.thread_time_ns`), which other processes on the machine cannot inflate, and wall time. Targets
are judged on CPU time; wall time is shown so a loaded machine is visible (wall >> CPU).

If a target fails, cProfile lists the hot spots (specmock's own functions first). This is a
measurement, not a test: it exits 0 whatever the figures are, 1 only if something answers wrongly.

Run: python benchmarks/bench_plugin.py [--tests 300] [--duration 2] [--rounds 3] [--profile | --no-profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import respx

from plugin_fixture_cost import (
    AUTH,
    FixtureCost,
    connector,
    fixture_work,
    measure_fixture,
    measure_fixture_alone,
)
from specmock import MockApp
from specmock._testing.handle import BASE_URL, Handle
from timing_samples import Samples, stats

SEED_CONNECTORS = 10  # the size of the GET /connectors list, as in bench_http.py
FIXTURE_TARGET_MS = 2.0
RATIO_TARGET = 3.0
POST_BATCH = 50  # POSTs between untimed resets: a test holds tens of items, not thousands
PROFILE_REQUESTS = 400
TIME_BUDGET = 55.0  # seconds; profiling stops short of it


# -- (b) per-request cost -----------------------------------------------------------------------

SyncCall = Callable[[int], httpx.Response]
AsyncCall = Callable[[int], Awaitable[httpx.Response]]


def _check(response: httpx.Response, expect: int) -> None:
    if response.status_code != expect:
        request = response.request
        raise RuntimeError(f"{request.method} {request.url} answered {response.status_code}: {response.text[:300]}")


def time_sync(call: SyncCall, duration: float, expect: int, between: Callable[[], None] | None) -> Samples:
    """Send requests one after another for `duration` seconds. `between` runs, untimed, every POST_BATCH."""
    samples = Samples()
    deadline = time.perf_counter() + duration
    i = 0
    while time.perf_counter() < deadline:
        if between is not None and i % POST_BATCH == 0:
            between()
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        response = call(i)
        samples.add(time.perf_counter_ns() - wall, time.thread_time_ns() - cpu)
        _check(response, expect)
        i += 1
    return samples


async def time_async(call: AsyncCall, duration: float, expect: int, between: Callable[[], None] | None) -> Samples:
    samples = Samples()
    deadline = time.perf_counter() + duration
    i = 0
    while time.perf_counter() < deadline:
        if between is not None and i % POST_BATCH == 0:
            between()
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        response = await call(i)
        samples.add(time.perf_counter_ns() - wall, time.thread_time_ns() - cpu)
        _check(response, expect)
        i += 1
    return samples


class Bench:
    """specmock's fixture clients, and respx-mocked clients answering with the bytes specmock answered."""

    def __init__(self) -> None:
        self.handle = Handle(MockApp())
        self.restore()
        listed = self.handle.client.get("/connectors", headers=AUTH)
        created = self.handle.client.post("/connectors", json=connector("Canned"), headers=AUTH)
        _check(listed, 200)
        _check(created, 201)
        if len(listed.json()) != SEED_CONNECTORS:
            raise RuntimeError(f"GET /connectors listed {len(listed.json())} connectors, not {SEED_CONNECTORS}")
        self.list_body, self.create_body = listed.content, created.content
        self.restore()

    def restore(self) -> None:
        """The state each case starts from: SEED_CONNECTORS connectors and an empty journal (no HTTP: async-safe)."""
        self.handle.reset(0)
        self.handle.insert("appsecplus", "connectors", [connector(f"Seed {n}") for n in range(SEED_CONNECTORS)])
        self.handle.journal.clear()

    def respx_router(self) -> respx.MockRouter:
        router = respx.mock(base_url=BASE_URL, assert_all_called=False)
        headers = {"content-type": "application/json"}
        router.get("/connectors").respond(200, content=self.list_body, headers=headers)
        router.post("/connectors").respond(201, content=self.create_body, headers=headers)
        return router

    def run(self, mode: str, side: str, method: str, duration: float) -> Samples:
        expect = 200 if method == "GET" else 201
        between = self.restore if side == "specmock" and method == "POST" else None
        if side == "specmock":
            self.restore()  # GET lists exactly SEED_CONNECTORS, whatever ran before
        if mode == "sync":
            if side == "specmock":
                return time_sync(sync_call(self.handle.client, method), duration, expect, between)
            with self.respx_router(), httpx.Client(base_url=BASE_URL) as client:
                return time_sync(sync_call(client, method), duration, expect, between)

        async def go() -> Samples:
            if side == "specmock":
                return await time_async(async_call(self.handle.async_client, method), duration, expect, between)
            async with httpx.AsyncClient(base_url=BASE_URL) as client:
                return await time_async(async_call(client, method), duration, expect, between)

        with self.respx_router() if side == "respx" else contextlib.nullcontext():
            return asyncio.run(go())


def sync_call(client: httpx.Client, method: str) -> SyncCall:
    if method == "GET":
        return lambda i: client.get("/connectors", headers=AUTH)
    return lambda i: client.post("/connectors", json=connector(f"Bench {i}"), headers=AUTH)


def async_call(client: httpx.AsyncClient, method: str) -> AsyncCall:
    if method == "GET":
        return lambda i: client.get("/connectors", headers=AUTH)
    return lambda i: client.post("/connectors", json=connector(f"Bench {i}"), headers=AUTH)


CASES = [(mode, method) for mode in ("sync", "async") for method in ("GET", "POST")]
SIDES = ("specmock", "respx")


def measure_requests(bench: Bench, duration: float, rounds: int) -> dict[tuple[str, str, str], Samples]:
    """Every case on both sides, alternating, `rounds` times, after a short warm-up of each."""
    samples: dict[tuple[str, str, str], Samples] = {}
    for mode, method in CASES:
        for side in SIDES:
            bench.run(mode, side, method, 0.15)  # warm-up: lazy imports, caches, compiled validators
            samples[(mode, method, side)] = Samples()
    for _ in range(rounds):
        for mode, method in CASES:
            for side in SIDES:
                got = bench.run(mode, side, method, duration / rounds)
                samples[(mode, method, side)].wall += got.wall
                samples[(mode, method, side)].cpu += got.cpu
    return samples


# -- profile ------------------------------------------------------------------------------------


Work = Callable[[cProfile.Profile], None]


def request_loop(bench: Bench, mode: str, method: str) -> Work:
    """PROFILE_REQUESTS requests of one case through specmock, as measured; the POST resets are not profiled."""

    def restore(profiler: cProfile.Profile, i: int) -> None:
        if method == "POST" and i % POST_BATCH == 0:
            profiler.disable()
            bench.restore()
            profiler.enable()

    if mode == "sync":
        call = sync_call(bench.handle.client, method)

        def work(profiler: cProfile.Profile) -> None:
            for i in range(PROFILE_REQUESTS):
                restore(profiler, i)
                call(i)

        return work

    acall = async_call(bench.handle.async_client, method)

    async def go(profiler: cProfile.Profile) -> None:
        for i in range(PROFILE_REQUESTS):
            restore(profiler, i)
            await acall(i)

    return lambda profiler: asyncio.run(go(profiler))


def profile(label: str, work: Work, top: int = 12) -> None:
    """cProfile `work`; print specmock's own functions by own time, then any function's."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        work(profiler)
    finally:
        profiler.disable()
    entries: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(e[2] for e in entries.values()) or 1.0
    print(f"\n-- profile: {label} ({total * 1e3:.0f} ms profiled)")
    print("   specmock's functions by own time:            own     cum     calls")
    own = sorted((kv for kv in entries.items() if "/specmock/" in kv[0][0]), key=lambda kv: kv[1][2], reverse=True)
    for (filename, line, func), (_, calls, tt, ct, _) in own[:top]:
        where = f"{filename.split('/specmock/')[-1]}:{line} {func}"
        print(f"     {where:<42}{tt / total:6.1%} {ct / total:7.1%} {calls:>9}")
    print("   any function by own time:")
    for (filename, line, func), (_, calls, tt, ct, _) in sorted(entries.items(), key=lambda kv: kv[1][2])[::-1][:8]:
        where = f"{'/'.join(Path(filename).parts[-2:]) if filename.startswith('/') else filename}:{line} {func}"
        print(f"     {where[:42]:<42}{tt / total:6.1%} {ct / total:7.1%} {calls:>9}")


# -- report -------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report_fixture(fixture: FixtureCost) -> bool:
    print(
        f"\n(a) specmock fixture per test ({fixture.outcome}; "
        f"the first test also built the app: {fixture.first_ms:.0f} ms)"
    )
    print(
        f"    {'ms per test':<38}{'cpu mean':>9}{'cpu p50':>9}{'cpu p99':>9}{'wall mean':>10}{'wall p99':>9}   target"
    )
    total = fixture.setup + fixture.teardown
    ok = True
    for label, samples, judged in [
        ("setup + teardown, in pytest (hooks)", total, True),
        ("  of which setup", fixture.setup, False),
        ("  of which teardown", fixture.teardown, False),
        ("fixture's own work alone, no pytest", fixture.alone, False),
    ]:
        mean, p50, p99 = stats(samples.cpu, 1e6)
        wall_mean, _, wall_p99 = stats(samples.wall, 1e6)
        line = f"    {label:<38}{mean:>9.3f}{p50:>9.3f}{p99:>9.3f}{wall_mean:>10.3f}{wall_p99:>9.3f}"
        if judged:
            ok = mean < FIXTURE_TARGET_MS
            line += f"   < {FIXTURE_TARGET_MS:g}: mean {verdict(ok)}, p99 {verdict(p99 < FIXTURE_TARGET_MS)}"
        print(line)
    return ok


def report_requests(samples: dict[tuple[str, str, str], Samples]) -> list[tuple[str, str]]:
    print("\n(b) per request, one after another: specmock's fixture clients vs respx's canned response")
    print(
        f"    {'case':<24}{'specmock':>10}{'cpu us':>8}{'p99 us':>8}{'respx':>9}{'cpu us':>8}{'p99 us':>8}"
        f"{'ratio':>7}{'wall':>7}   target"
    )
    print(f"    {'':<24}{'req/s':>10}{'':>16}{'req/s':>9}{'':>16}{'cpu':>7}{'ratio':>7}")
    failing = []
    for mode, method in CASES:
        mock, fake = samples[(mode, method, "specmock")], samples[(mode, method, "respx")]
        mock_us, _, mock_p99 = stats(mock.cpu, 1e3)
        fake_us, _, fake_p99 = stats(fake.cpu, 1e3)
        ratio = mock_us / fake_us
        wall_ratio = statistics.fmean(mock.wall) / statistics.fmean(fake.wall)
        ok = ratio <= RATIO_TARGET
        if not ok:
            failing.append((mode, method))
        print(
            f"    {mode + ' ' + method + ' /connectors':<24}{1e6 / mock_us:>10,.0f}{mock_us:>8.0f}{mock_p99:>8.0f}"
            f"{1e6 / fake_us:>9,.0f}{fake_us:>8.0f}{fake_p99:>8.0f}{ratio:>6.1f}x{wall_ratio:>6.1f}x"
            f"   <= {RATIO_TARGET:g}x: {verdict(ok)}"
        )
    print("    req/s = 1 / mean CPU time per request; ratio = specmock's mean time per request over respx's")
    return failing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", type=int, default=300, help="generated tests for the fixture cost (default 300)")
    parser.add_argument("--duration", type=float, default=2.0, help="measured seconds per case and side (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating slices the duration is split in (default 3)")
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="profile every case / never (default: the cases that miss their target)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        fixture = measure_fixture(args.tests)
        bench = Bench()
        fixture.alone = measure_fixture_alone(bench.handle, args.tests)
        bench.restore()
        samples = measure_requests(bench, args.duration, max(1, args.rounds))
    except RuntimeError as exc:
        print(f"bench_plugin: {exc}", file=sys.stderr)
        return 1

    print(f"specmock pytest plugin benchmark (python {sys.version.split()[0]}, httpx {httpx.__version__})")
    fixture_ok = report_fixture(fixture)
    failing = report_requests(samples)
    print(f"\nMeasured in {time.perf_counter() - started:.1f} s.")

    if args.profile is False:
        return 0
    to_profile: list[tuple[str, Work]] = []
    if args.profile or not fixture_ok:
        setup, teardown = fixture_work(bench.handle)

        def fixture_loop(profiler: cProfile.Profile) -> None:
            for _ in range(args.tests):
                setup()
                teardown()

        to_profile.append((f"fixture setup + teardown x {args.tests}", fixture_loop))
    for mode, method in CASES if args.profile else failing:
        label = f"{mode} {method} /connectors x {PROFILE_REQUESTS} through specmock"
        to_profile.append((label, request_loop(bench, mode, method)))
    for label, work in to_profile:
        if time.perf_counter() - started > TIME_BUDGET - 5:
            print(f"\n(skipped profiling {label}: time budget)")
            continue
        bench.restore()
        profile(label, work)
    if to_profile:
        print(f"\nTotal {time.perf_counter() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
