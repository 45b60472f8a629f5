"""Charts drawn on the server as inline SVG: nothing to fetch, no JavaScript. Each chart is
an ``<svg class="chart">`` with a title, a text alternative, and one ``rect.bar`` per value
(its ``<title>`` is the tooltip), so that a screen reader and a test can read it as a person
would see it."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

WIDTH, HEIGHT = 640, 240
LEFT, BOTTOM, TOP = 40, 36, 30  # room for the axis labels and the title


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: list[int]


def stacked_bars(title: str, labels: list[str], series: list[Series]) -> Markup:
    """One bar per label, each stacked from the series in order, with a legend."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice(max(totals, default=0))
    slot = (WIDTH - LEFT) / max(len(labels), 1)
    parts = _frame(title, top)
    for i, label in enumerate(labels):
        x, base = LEFT + i * slot + slot * 0.15, HEIGHT - BOTTOM
        for s in series:
            height = _scale(s.values[i], top)
            if height:
                base -= height
                parts.append(_bar(x, base, slot * 0.7, height, s.colour, f"{label}: {s.values[i]} {s.name}"))
        parts.append(_text(x + slot * 0.35, HEIGHT - BOTTOM + 14, label, anchor="middle"))
    for i, s in enumerate(s for s in series if s.name):
        x = LEFT + i * 120
        parts.append(Markup('<rect x="{}" y="{}" width="10" height="10" fill="{}"/>').format(x, HEIGHT - 14, s.colour))
        parts.append(_text(x + 14, HEIGHT - 5, s.name))
    return _svg(title, _summary(labels, totals), parts)


def bars(title: str, labels: list[str], values: list[int], colour: str = "#1f6f8b") -> Markup:
    """One bar per label."""
    return stacked_bars(title, labels, [Series("", colour, values)]) if values else _svg(title, "no data", [])


def funnel(title: str, stages: list[tuple[str, int]], colour: str = "#2e7d32") -> Markup:
    """Horizontal bars, widest first: how many reached each stage, and the share of the first."""
    first = max(stages[0][1], 1) if stages else 1
    row = (HEIGHT - TOP) / max(len(stages), 1)
    parts = [Markup('<text class="chart-title" x="0" y="12">{}</text>').format(title)]
    for i, (label, count) in enumerate(stages):
        y, width = TOP + i * row + 4, (WIDTH - 260) * count / first
        share = f"{count / first:.0%}" if stages[0][1] else "-"
        parts.append(_text(0, y + row * 0.45, label))
        if width:
            parts.append(_bar(120, y, width, row * 0.6, colour, f"{label}: {count} ({share})"))
        parts.append(_text(128 + width, y + row * 0.45, f"{count}  ({share})"))
    return _svg(title, "; ".join(f"{label} {count}" for label, count in stages), parts)


def _frame(title: str, top: int) -> list[Markup]:
    axis = HEIGHT - BOTTOM
    parts = [Markup('<text class="chart-title" x="0" y="12">{}</text>').format(title),
             Markup('<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#999"/>').format(LEFT, axis, WIDTH)]
    for fraction in (0.5, 1):
        y = axis - (axis - TOP) * fraction
        parts.append(Markup('<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#e5e5e5"/>').format(LEFT, y, WIDTH))
        parts.append(_text(LEFT - 6, y + 4, str(round(top * fraction)), anchor="end"))
    return parts


def _bar(x: float, y: float, width: float, height: float, colour: str, tooltip: str) -> Markup:
    return Markup('<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">'
                  "<title>{}</title></rect>").format(x, y, width, height, colour, tooltip)


def _text(x: float, y: float, text: str, *, anchor: str = "start") -> Markup:
    return Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="{}">{}</text>').format(x, y, anchor, text)


def _svg(title: str, summary: str, parts: list[Markup]) -> Markup:
    return Markup('<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%">'
                  "<desc>{}</desc>{}</svg>").format(title, WIDTH, HEIGHT, summary, Markup("").join(parts))


def _summary(labels: list[str], totals: list[int]) -> str:
    return "; ".join(f"{label}: {total}" for label, total in zip(labels, totals, strict=True))


def _scale(value: int, top: int) -> float:
    return (HEIGHT - BOTTOM - TOP) * value / top if top else 0


def _nice(value: int) -> int:
    """A round number at or above ``value`` for the top of the axis."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000):
        if value <= step * 4:
            return step * 4
    return value
