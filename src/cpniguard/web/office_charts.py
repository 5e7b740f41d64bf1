"""Charts drawn on the server as inline SVG geometry: the page's CSP allows no script and no
style attribute, so a chart is shapes with classes, coloured by the stylesheet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 34  # room for the axis labels


@dataclass(frozen=True, slots=True)
class Series:
    name: str  # the class of its shapes and its legend entry
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Bar:
    series: str
    x: float
    y: float
    width: float
    height: float
    value: str


@dataclass(frozen=True, slots=True)
class Line:
    series: str
    points: str  # "x,y x,y ..." for a polyline


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    baseline: float
    series: list[str]


def _scale(series: Sequence[Series]) -> float:
    top = max((v for s in series for v in s.values), default=0.0)
    return top if top > 0 else 1.0


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)


def _y_ticks(top: float, unit: str) -> list[Tick]:
    return [Tick(_y(top * f, top), f"{top * f:.{1 if top < 10 else 0}f}{unit}") for f in (0, 0.5, 1)]


def _slot(count: int) -> float:
    return (WIDTH - LEFT - RIGHT) / max(count, 1)


def bar_chart(labels: Sequence[str], series: Sequence[Series], unit: str = "") -> Chart:
    """Grouped bars: one group per label, one bar per series."""
    top, slot = _scale(series), _slot(len(labels))
    width = slot * 0.8 / max(len(series), 1)
    bars = [
        Bar(
            s.name,
            LEFT + i * slot + slot * 0.1 + k * width,
            _y(v, top),
            width,
            _y(0, top) - _y(v, top),
            f"{v:g}",
        )
        for k, s in enumerate(series)
        for i, v in enumerate(s.values)
    ]
    ticks = [Tick(LEFT + (i + 0.5) * slot, label) for i, label in enumerate(labels)]
    return Chart(WIDTH, HEIGHT, bars, [], ticks, _y_ticks(top, unit), _y(0, top), [s.name for s in series])


def line_chart(labels: Sequence[str], series: Sequence[Series], unit: str = "") -> Chart:
    """One polyline per series over the labels."""
    top, slot = _scale(series), _slot(len(labels))
    lines = [
        Line(s.name, " ".join(f"{LEFT + (i + 0.5) * slot:.1f},{_y(v, top):.1f}" for i, v in enumerate(s.values)))
        for s in series
    ]
    ticks = [Tick(LEFT + (i + 0.5) * slot, label) for i, label in enumerate(labels)]
    return Chart(WIDTH, HEIGHT, [], lines, ticks, _y_ticks(top, unit), _y(0, top), [s.name for s in series])
