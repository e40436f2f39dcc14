"""Durations of one thing as wall and thread-CPU nanoseconds, and their mean, p50 and p99.

Each figure is taken twice because the benchmarks run in one thread with no I/O: CPU time of the
thread, which other processes on the machine cannot inflate, and wall time, so a loaded machine
is visible (wall >> CPU).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Samples:
    """Durations of one thing, as wall and thread-CPU nanoseconds."""

    wall: list[int] = field(default_factory=list)
    cpu: list[int] = field(default_factory=list)

    def add(self, wall: int, cpu: int) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)

    def __add__(self, other: Samples) -> Samples:
        return Samples(
            [a + b for a, b in zip(self.wall, other.wall, strict=True)],
            [a + b for a, b in zip(self.cpu, other.cpu, strict=True)],
        )


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def stats(values: Sequence[int], unit: float) -> tuple[float, float, float]:
    """mean, p50, p99 in `unit` nanoseconds."""
    return statistics.fmean(values) / unit, percentile(values, 0.5) / unit, percentile(values, 0.99) / unit
