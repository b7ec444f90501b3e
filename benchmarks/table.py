"""The tables `run.py` prints: a row per measure, a ratio against a baseline, a target beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    """One line: baseline and candidate in the same unit; the ratio is candidate / baseline."""

    label: str
    baseline: float
    candidate: float
    target: float | None = None
    at_least: bool = False
    """The target is a floor (`>=`) rather than a ceiling (`<=`)."""

    @property
    def ratio(self) -> float:
        return self.candidate / self.baseline if self.baseline else float("inf")

    @property
    def goal(self) -> str:
        if self.target is None:
            return ""
        return f"{'>=' if self.at_least else '<='} {self.target:.2f}"

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        met = self.ratio >= self.target if self.at_least else self.ratio <= self.target
        return "ok" if met else "MISSED"


def render(
    rows: Sequence[Row], baseline: str = "baseline", candidate: str = "candidate", width: int = 26
) -> list[str]:
    """The header and one line per row, numbers right-aligned under their column."""
    lines = [
        f"{'measure':<{width}}{baseline:>10}{candidate:>10}{'ratio':>8}{'target':>10}  verdict"
    ]
    for row in rows:
        line = (
            f"{row.label:<{width}}{row.baseline:>10.1f}{row.candidate:>10.1f}{row.ratio:>8.2f}"
            f"{row.goal:>10}  {row.verdict}"
        )
        lines.append(line.rstrip())
    return lines


def row_json(row: Row) -> dict[str, Any]:
    return {
        "measure": row.label,
        "baseline": row.baseline,
        "candidate": row.candidate,
        "ratio": row.ratio,
        "target": row.target,
        "target_is_minimum": row.at_least,
    }
