"""Counters shared by the accuracy benches (corpus, held-out, real-world set): one definition of how a
distribution name is compared, and of precision, recall, F1 and plain ratios, so the figures the benches
report are computed the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass


def canon(name: str) -> str:
    """A distribution name as pip compares it (PEP 503: runs of -_. are one dash, case ignored)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class PR:
    """Micro-averaged precision/recall over sets of expected and found items."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: set, got: set) -> None:
        self.tp += len(expected & got)
        self.fp += len(got - expected)
        self.fn += len(expected - got)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else 1.0

    def fmt(self) -> str:
        return f"P={self.precision:.3f} R={self.recall:.3f} (tp={self.tp} fp={self.fp} fn={self.fn})"

    def line(self, name: str) -> str:
        return (f"{name:<28} precision {self.precision:6.1%}  recall {self.recall:6.1%}   "
                f"(tp {self.tp}, fp {self.fp}, fn {self.fn})")


@dataclass
class Ratio:
    """How many of n judgements were right."""

    ok: int = 0
    n: int = 0

    def add(self, good: bool) -> None:
        self.ok += bool(good)
        self.n += 1

    @property
    def value(self) -> float | None:
        return self.ok / self.n if self.n else None

    def fmt(self) -> str:
        return f"{self.ok}/{self.n} = {self.ok / self.n:.3f}" if self.n else "n/a"
