"""Line charts as plain geometry: the page's template draws them as inline SVG (no chart library, no
script), so values and run ids reach the page only through the template's escaping."""

from __future__ import annotations

import dataclasses

WIDTH, HEIGHT = 560, 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 10, 22


@dataclasses.dataclass
class Point:
    """One run's value, where it is drawn, and what its tooltip and link say."""

    x: float
    y: float
    value: float
    label: str  # the run id
    href: str


@dataclasses.dataclass
class Chart:
    """A metric over runs, oldest on the left."""

    title: str
    points: list[Point]
    y_ticks: list[tuple[float, str]]  # (y, label)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = _LEFT
    bottom: float = HEIGHT - _BOTTOM

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _label(value: float) -> str:
    return f"{value:.4g}"


def line_chart(title: str, values: list[tuple[str, float, str]]) -> Chart:
    """A chart of `values`: (label, value, link) in order, oldest first."""
    low, high = min(v for _l, v, _h in values), max(v for _l, v, _h in values)
    if high == low:  # a flat line sits in the middle
        low, high = low - (abs(low) or 1) * 0.05, high + (abs(high) or 1) * 0.05
    span_x = WIDTH - _LEFT - _RIGHT
    span_y = HEIGHT - _TOP - _BOTTOM
    step = span_x / max(1, len(values) - 1)

    def y_of(value: float) -> float:
        return _TOP + span_y * (1 - (value - low) / (high - low))

    points = [
        Point(_LEFT + (i * step if len(values) > 1 else span_x / 2), y_of(v), v, label, href)
        for i, (label, v, href) in enumerate(values)
    ]
    ticks = [(y_of(low + (high - low) * f), _label(low + (high - low) * f)) for f in (0.0, 0.5, 1.0)]
    return Chart(title, points, ticks)
