"""bench_server's figures over the repeats and the markdown table it prints: medians with their
range, specmock's throughput as a share of the bare app's (TARGETS marks issue 26's targets
on uvloop + httptools: GET >= 0.8x, POST >= 0.5x), and the small-store against big-store p99.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: Issue 26: specmock's share of bare Starlette's throughput on the same stack.
TARGETS = {"GET": 0.8, "POST": 0.5}


@dataclass
class Row:
    """One server's figures over the repeats (one value per repeat in each list)."""

    server: str
    stack: str
    get_rps: list[float] = field(default_factory=list)
    get_p99: list[float] = field(default_factory=list)
    post_rps: list[float] = field(default_factory=list)
    post_p99: list[float] = field(default_factory=list)
    startup_ms: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    get_ratio: list[float] = field(default_factory=list)
    post_ratio: list[float] = field(default_factory=list)
    wrong: int = 0

    def add(self, figures: dict[str, Any]) -> None:
        """One repeat's figures for this server (as measure_plain and measure_specmock return them)."""
        self.get_rps.append(figures["get"].rps)
        self.get_p99.append(figures["get"].p99_ms)
        self.post_rps.append(figures["post"].rps)
        self.post_p99.append(figures["post"].p99_ms)
        self.startup_ms.append(figures["startup_ms"])
        self.rss_mb.append(figures["rss_mb"])
        self.wrong += figures["wrong"]


@dataclass
class StoreRow:
    """specmock's p99 on a small store and on a big one, and its RSS once the big one is built."""

    stack: str
    items: list[int] = field(default_factory=list)
    get_small: list[float] = field(default_factory=list)
    get_big: list[float] = field(default_factory=list)
    post_small: list[float] = field(default_factory=list)
    post_big: list[float] = field(default_factory=list)
    rss_big: list[float] = field(default_factory=list)


def spread(values: Sequence[float], fmt: str = "{:,.0f}") -> str:
    """The median, and the range when there are several runs."""
    if not values:
        return "-"
    mid = fmt.format(statistics.median(values))
    if len(values) == 1:
        return mid
    return f"{mid} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def ratio_text(values: Sequence[float], method: str) -> str:
    if not values:
        return "-"
    mid = statistics.median(values)
    mark = "" if mid >= TARGETS[method] else f" (below {TARGETS[method]})"
    if len(values) == 1:
        return f"{mid:.2f}x{mark}"
    return f"{mid:.2f}x ({min(values):.2f}-{max(values):.2f}){mark}"


def table(rows: list[Row], stores: list[StoreRow], args: argparse.Namespace, header: list[str]) -> str:
    lines = [*header, ""]
    lines.append(
        "| server | stack | GET req/s | GET vs bare | GET p99 ms | POST req/s | POST vs bare | POST p99 ms "
        "| start-up to first 200 ms | RSS after the run MB |"
    )
    lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        lines.append(
            f"| {r.server} | {r.stack} | {spread(r.get_rps)} | {ratio_text(r.get_ratio, 'GET')} | "
            f"{spread(r.get_p99, '{:.1f}')} | {spread(r.post_rps)} | {ratio_text(r.post_ratio, 'POST')} | "
            f"{spread(r.post_p99, '{:.1f}')} | {spread(r.startup_ms)} | {spread(r.rss_mb)} |"
        )
    if stores:
        lines += [
            "",
            f"specmock with a big store ({args.store_items:,} connectors created by POST) vs a small one:",
            "",
        ]
        lines.append(
            "| stack | items | GET /connectors/{id} p99 ms small -> big | POST p99 ms small -> big "
            "| RSS after the POSTs MB |"
        )
        lines.append("| --- | ---: | ---: | ---: | ---: |")
        for s in stores:
            get_x = [b / a for a, b in zip(s.get_small, s.get_big, strict=True) if a]
            post_x = [b / a for a, b in zip(s.post_small, s.post_big, strict=True) if a]
            lines.append(
                f"| {s.stack} | {spread(s.items)} | {spread(s.get_small, '{:.1f}')} -> {spread(s.get_big, '{:.1f}')}"
                f" ({spread(get_x, '{:.1f}')}x) | {spread(s.post_small, '{:.1f}')} -> "
                f"{spread(s.post_big, '{:.1f}')} ({spread(post_x, '{:.1f}')}x) | {spread(s.rss_big)} |"
            )
    wrong = [r for r in rows if r.wrong]
    for r in wrong:
        lines.append(f"\nWARNING: {r.server} ({r.stack}): {r.wrong} non-2xx answers or socket errors during the load")
    return "\n".join(lines) + "\n"
