"""Charts as plain SVG shapes, laid out here and written by the HTML template.

The HTML report must open anywhere, offline, and print: no chart library, no script, no font to
fetch. Each chart is computed once into a list of SVG shapes (rectangles, lines, polylines,
texts) in a fixed ``viewBox`` that scales with the page; the template writes them as they are,
escaping every text. Two kinds cover what the report needs: horizontal grouped bars (opens and
clicks per newsletter, per day) and lines over a numeric axis (list size per month, followers).

No two texts of a chart may overlap, on screen or printed (the browser tests measure them): the
layout estimates each text's width from its characters (:func:`text_width`, on the generous
side) and skips an axis label that would touch the previous one, cuts a category too wide for
its place, and lifts a value above a neighbour's instead of writing over it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

WIDTH = 800
FONT = 12  # category labels; ticks and values are SMALL
SMALL = 11
MAX_LABEL = 95  # characters of a category label before it is cut with "…"
LABEL_GAP = 6  # the least room between two texts side by side
LINE = FONT + 4  # from one line of a category label to the next

# Widths of characters in ems, a little above those of Helvetica, Arial and Liberation Sans (the
# report's fonts), so that a text is never wider than the room the layout gives it.
_NARROW = set("ijlI.,;:!'|()[] ")
_SEMI = set("frt-1")
_WIDE = set("mwMW%@")
_CAPITALS = set("ABCDEFGHKNOPQRSTUVXYZ&")


def text_width(text: str, size: float) -> float:
    """An upper estimate of ``text``'s width at font ``size`` (px): no font is measured here."""
    ems = 0.0
    for char in text:
        if char in _NARROW:
            ems += 0.32
        elif char in _SEMI:
            ems += 0.42
        elif char in _WIDE:
            ems += 0.95
        elif char in _CAPITALS:
            ems += 0.74
        else:
            ems += 0.6
    return ems * size


def fit(text: str, room: float, size: float) -> str:
    """``text``, cut with "…" until it fits ``room`` px at font ``size``."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text.rstrip() + "…"


@dataclass
class _Boxes:
    """Boxes of the texts already placed, to place the next one where it touches none."""

    placed: list[tuple[float, ...]] = field(default_factory=list)

    @staticmethod
    def box(x: float, y: float, text: str, size: float, anchor: str) -> tuple[float, ...]:
        width = text_width(text, size)
        start = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
        # A baseline at y: ascenders above it, descenders below, and a little air around.
        return (start - LABEL_GAP / 2, y - size, start + width + LABEL_GAP / 2, y + size * 0.3)

    def free(self, box: tuple[float, ...]) -> bool:
        return not any(
            box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]
            for other in self.placed
        )

    def add(self, box: tuple[float, ...]) -> None:
        self.placed.append(box)


@dataclass(frozen=True)
class Shape:
    """One SVG element: its tag, its attributes and, for ``text`` and ``title``, its text."""

    tag: str
    attrs: dict[str, Any]
    text: str = ""


@dataclass
class Chart:
    """A finished chart: its key (labels.toml [charts]), title, size, shapes and legend.

    ``legend`` pairs each series' label with its CSS class (``series-0``, ``series-1``…), which
    gives it its colour in the template's style sheet.
    """

    key: str
    title: str
    width: int
    height: int
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float]


@dataclass(frozen=True)
class LineSeries:
    label: str
    points: list[tuple[float, float]]  # (x, y), x on the same numeric axis for every series


def nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) cutting ``span`` in about ``ticks``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * power:
            return multiple * power
    return 10 * power


def _ticks(low: float, high: float, step: float) -> list[float]:
    """``low``, ``low + step``… up to ``high``: counted, not summed (no 0.6000000000000001)."""
    count = round((high - low) / step)
    return [round(low + index * step, 9) for index in range(count + 1)]


def _step(span: float, values: list[float], ticks: int = 5) -> float:
    """A nice step for ``span``; never below 1 when every value is a whole number (counts)."""
    step = nice_step(span or 1, ticks)
    if all(float(value).is_integer() for value in values):
        step = max(step, 1.0)
    return step


def _tick_text(value: float, number: Any) -> str:
    return number(int(value)) if float(value).is_integer() else number(value)


def _cut(text: str, room: float) -> str:
    text = text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"
    return fit(text, room, FONT)


def grouped_bars(
    key: str,
    title: str,
    categories: list[str],
    series: list[Series],
    number: Any,
) -> Chart:
    """Horizontal bars: for each category its label, then one bar per series, value at its end.

    ``number`` formats a value (the labels' integer format), so the figures read as in the
    tables (« 2294 », « 12 345 »).
    """
    left, right, top = 8, 70, 8
    bar, gap, label_height = 14, 12, FONT + 6
    band = label_height + len(series) * (bar + 2) + gap
    axis_height = 22
    height = top + max(1, len(categories)) * band + axis_height
    plot = WIDTH - left - right
    values = [v for s in series for v in s.values]
    highest = max(values, default=0)
    step = _step(highest, values)
    top_value = step * math.ceil((highest or 1) / step)
    chart = Chart(key, title, WIDTH, height)
    chart.legend = [(s.label, f"series-{i}") for i, s in enumerate(series)]
    bottom = height - axis_height
    for tick in _ticks(0.0, top_value, step):
        x = left + plot * tick / top_value
        chart.shapes.append(
            Shape("line", {"x1": x, "y1": top, "x2": x, "y2": bottom, "class": "grid"})
        )
        chart.shapes.append(
            Shape(
                "text",
                {"x": x, "y": bottom + 15, "class": "tick", "text-anchor": "middle"},
                _tick_text(tick, number),
            )
        )
    for index, category in enumerate(categories):
        y = top + index * band
        chart.shapes.append(
            Shape(
                "text",
                {"x": left, "y": y + FONT, "class": "category"},
                _cut(category, WIDTH - left - 2),
            )
        )
        for position, serie in enumerate(series):
            value = serie.values[index]
            bar_y = y + label_height + position * (bar + 2)
            length = plot * value / top_value
            chart.shapes.append(
                Shape(
                    "rect",
                    {
                        "x": left,
                        "y": bar_y,
                        "width": round(max(length, 0.0), 2),
                        "height": bar,
                        "class": f"bar series-{position}",
                        "data-value": value,
                    },
                    f"{category} — {serie.label} — {_tick_text(value, number)}",
                )
            )
            chart.shapes.append(
                Shape(
                    "text",
                    {"x": left + length + 4, "y": bar_y + bar - 3, "class": "value"},
                    _tick_text(value, number),
                )
            )
    return chart


def lines(
    key: str,
    title: str,
    series: list[LineSeries],
    x_ticks: list[tuple[float, str]],
    number: Any,
) -> Chart:
    """Lines over a numeric x axis (months, days); ``x_ticks`` are the labelled positions.

    The y axis starts at zero unless every value is far above it (followers: 5,800 to 6,100),
    where a zero base would flatten the line into a ruler.
    """
    left, right, top, bottom_margin = 64, 16, 12, 28
    height = 300
    plot_w, plot_h = WIDTH - left - right, height - top - bottom_margin
    x_min, x_max = _x_range([x for s in series for x, _ in s.points] + [x for x, _ in x_ticks])
    y_min, y_max, step = _y_scale([y for s in series for _, y in s.points])

    def px(x: float) -> float:
        return round(left + plot_w * (x - x_min) / (x_max - x_min), 2)

    def py(y: float) -> float:
        return round(top + plot_h * (1 - (y - y_min) / (y_max - y_min)), 2)

    chart = Chart(key, title, WIDTH, height)
    chart.legend = [(s.label, f"series-{i}") for i, s in enumerate(series)]
    for tick in _ticks(y_min, y_max, step):
        _grid_line(chart, py(tick), left, right, _tick_text(tick, number))
    below = _Boxes()
    for x, label in sorted(x_ticks, key=lambda tick: tick[0]):
        # The first and last labels are aligned inwards so that they are not cut at the edges;
        # a label that would touch the one before it is left out (the line still has its dots).
        anchor = "start" if x <= x_min else "end" if x >= x_max else "middle"
        box = below.box(px(x), height - 8, label, SMALL, anchor)
        if not below.free(box):
            continue
        below.add(box)
        chart.shapes.append(
            Shape(
                "text",
                {"x": px(x), "y": height - 8, "class": "tick", "text-anchor": anchor},
                label,
            )
        )
    for index, serie in enumerate(series):
        points = [(px(x), py(y), y) for x, y in serie.points]
        _polyline(chart, index, serie.label, points, number)
    return chart


def _x_range(xs: list[float]) -> tuple[float, float]:
    """The x axis' ends: the points' own, widened by one each way around a single x."""
    x_min, x_max = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_max == x_min:
        x_min, x_max = x_min - 1, x_max + 1
    return x_min, x_max


def _y_scale(ys: list[float]) -> tuple[float, float, float]:
    """The y axis' bottom, top and tick step (see :func:`lines` for when it starts at zero)."""
    y_low, y_high = (min(ys), max(ys)) if ys else (0.0, 1.0)
    # From zero, unless every value is far above it; a flat line (one value) also starts at 0.
    from_zero = y_low < y_high / 2 or y_high == y_low
    step = _step(y_high - (0 if from_zero else y_low), ys)
    y_min = 0.0 if from_zero else step * math.floor(y_low / step)
    y_max = step * math.ceil(y_high / step) if y_high > y_min else y_min + step
    if y_max == y_min:
        y_max = y_min + step
    return y_min, y_max, step


def _grid_line(chart: Chart, y: float, left: float, right: float, text: str) -> None:
    """A horizontal grid line at ``y`` with its value written left of the plot."""
    chart.shapes.append(
        Shape("line", {"x1": left, "y1": y, "x2": WIDTH - right, "y2": y, "class": "grid"})
    )
    chart.shapes.append(
        Shape(
            "text",
            {"x": left - 6, "y": y + 4, "class": "tick", "text-anchor": "end"},
            text,
        )
    )


def _polyline(
    chart: Chart, index: int, label: str, points: list[tuple[float, float, float]], number: Any
) -> None:
    """One series' line through ``(x, y, value)`` points, dotted when it has few enough."""
    joined = " ".join(f"{x},{y}" for x, y, _ in points)
    chart.shapes.append(
        Shape("polyline", {"points": joined, "class": f"line series-{index}"}, label)
    )
    if len(points) <= 60:
        for x, y, value in points:
            chart.shapes.append(
                Shape(
                    "circle",
                    {"cx": x, "cy": y, "r": 3, "class": f"dot series-{index}"},
                    f"{label} — {_tick_text(value, number)}",
                )
            )


def columns(
    key: str,
    title: str,
    categories: list[tuple[str, ...]],
    series: list[Series],
    number: Any,
) -> Chart:
    """Vertical grouped bars for a few categories (the seven days), labelled below in lines.

    A category's lines are cut to the width of its band; values are written above their bars,
    each lifted above a neighbour's it would touch (the top margin keeps room for that).
    """
    left, right = 56, 12
    top = 16 + max(0, len(series) - 1) * (SMALL + 2)
    lines_below = max((len(c) for c in categories), default=1)
    bottom_margin = 8 + lines_below * LINE
    height = 240
    plot_w, plot_h = WIDTH - left - right, height - top - bottom_margin
    values = [v for s in series for v in s.values]
    highest = max(values, default=0)
    step = _step(highest, values, 4)
    top_value = step * math.ceil((highest or 1) / step)
    chart = Chart(key, title, WIDTH, height)
    chart.legend = [(s.label, f"series-{i}") for i, s in enumerate(series)]
    base = top + plot_h
    for tick in _ticks(0.0, top_value, step):
        _grid_line(
            chart, round(base - plot_h * tick / top_value, 2), left, right, _tick_text(tick, number)
        )
    band = plot_w / max(1, len(categories))
    bar = min(28.0, band * 0.7 / max(1, len(series)))
    values_placed = _Boxes()
    for index, category in enumerate(categories):
        middle = left + band * (index + 0.5)
        for line_number, line in enumerate(category):
            chart.shapes.append(
                Shape(
                    "text",
                    {
                        "x": round(middle, 2),
                        "y": base + 2 + (line_number + 1) * LINE,
                        "class": "category",
                        "text-anchor": "middle",
                    },
                    fit(line, band - LABEL_GAP, FONT),
                )
            )
        first = middle - bar * len(series) / 2
        for position, serie in enumerate(series):
            value = serie.values[index]
            length = plot_h * value / top_value
            x = round(first + position * bar, 2)
            chart.shapes.append(
                Shape(
                    "rect",
                    {
                        "x": x,
                        "y": round(base - length, 2),
                        "width": round(bar - 2, 2),
                        "height": round(length, 2),
                        "class": f"bar series-{position}",
                        "data-value": value,
                    },
                    f"{' '.join(category)} — {serie.label} — {_tick_text(value, number)}",
                )
            )
            if value:
                centre = round(x + (bar - 2) / 2, 2)
                _value_above(
                    chart,
                    values_placed,
                    centre,
                    round(base - length - 4, 2),
                    _tick_text(value, number),
                )
    return chart


def _value_above(chart: Chart, placed: _Boxes, centre: float, y: float, text: str) -> None:
    """A bar's value above it, lifted until it touches no value already written."""
    box = placed.box(centre, y, text, SMALL, "middle")
    while not placed.free(box) and y > SMALL:
        y = round(y - (SMALL + 2), 2)
        box = placed.box(centre, y, text, SMALL, "middle")
    placed.add(box)
    chart.shapes.append(
        Shape(
            "text",
            {"x": centre, "y": y, "class": "value", "text-anchor": "middle"},
            text,
        )
    )
