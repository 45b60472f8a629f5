"""One printed line per figure: what was measured, its floor, the ratio, the target, PASS/SHORT."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    bench: str  # the benchmark's name, e.g. "inbound"
    what: str  # the figure, e.g. "refbot 5000 replies"
    value: str  # the figure with its unit
    floor: str  # the floor with its unit, or "-" where the target is absolute
    ratio: float  # value against the floor (or the scaling ratio where there is no floor)
    target: str  # e.g. ">= 0.50"
    ok: bool

    def line(self) -> str:
        verdict = "PASS" if self.ok else "SHORT"
        return (f"{self.bench:<9} {self.what:<34} {self.value:>14}  floor {self.floor:>14}  "
                f"ratio {self.ratio:6.2f}  target {self.target:<16} {verdict}")


def rate(count: int, seconds: float, unit: str = "msg/s") -> str:
    return f"{count / seconds:,.1f} {unit}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"
