"""Chart axes: a sensible number of round ticks whatever the figures."""

from __future__ import annotations

from itertools import pairwise

from campaign.reports.charts import (
    SMALL,
    LineSeries,
    Series,
    columns,
    grouped_bars,
    lines,
    text_width,
)


def _ticks(chart) -> list[str]:
    """The value axis's labels (a line chart's x axis carries words: left out)."""
    value_axis = "middle" if chart.key == "bars" else "end"
    return [
        shape.text
        for shape in chart.shapes
        if shape.attrs.get("class") == "tick" and shape.attrs.get("text-anchor") == value_axis
    ]


def test_a_flat_line_has_a_handful_of_ticks_from_zero() -> None:
    chart = lines("growth", "Abonnés", [LineSeries("Abonnés", [(0.0, 3147.0)])], [(0.0, "nov.")],
                  str)  # fmt: skip
    ticks = _ticks(chart)
    assert ticks[0] == "0" and len(ticks) <= 12
    assert ticks[-1] and float(ticks[-1]) >= 3147


def test_tick_labels_are_round_numbers() -> None:
    for chart in (
        grouped_bars("bars", "Taux", ["a", "b"], [Series("Taux", [0.3, 0.7])], str),
        columns("cols", "Taux", [("a",), ("b",)], [Series("Taux", [0.3, 0.7])], str),
        lines("line", "Taux", [LineSeries("Taux", [(0.0, 0.3), (1.0, 0.7)])], [], str),
    ):
        for text in _ticks(chart):
            assert len(text) <= 4, text  # "0.2", "0.4"… never "0.6000000000000001"


def test_counts_are_never_cut_into_fractions() -> None:
    chart = columns("cols", "Clics", [("a",), ("b",)], [Series("Clics", [1.0, 2.0])], str)
    assert all(float(text).is_integer() for text in _ticks(chart))


def _texts(chart, css: str) -> list:
    return [shape for shape in chart.shapes if shape.tag == "text" and shape.attrs["class"] == css]


def test_dates_that_would_touch_are_left_out_never_written_over_one_another() -> None:
    dates = [(float(day), f"{day % 28 + 1} novembre 2016") for day in range(0, 365, 7)]
    chart = lines("f", "Abonnés", [LineSeries("@Mois_ESS", [(0.0, 5.0), (364.0, 9.0)])], dates,
                  str)  # fmt: skip
    kept = [shape for shape in _texts(chart, "tick") if "novembre" in shape.text]
    assert 3 < len(kept) < len(dates)
    assert kept[0].text == dates[0][1]  # the first date is always there
    boxes = []
    for shape in kept:
        x, width = float(shape.attrs["x"]), text_width(shape.text, SMALL)
        start = {"start": x, "middle": x - width / 2, "end": x - width}[shape.attrs["text-anchor"]]
        boxes.append((start, start + width))
    for (_, right), (left, _) in pairwise(boxes):
        assert left > right  # no two dates share a pixel


def test_close_values_are_lifted_above_one_another() -> None:
    chart = columns(
        "days",
        "Jours",
        [("jour 1", "18 novembre")],
        [Series("Ouvertures", [123_456.0]), Series("Clics", [123_400.0])],
        lambda value: f"{value:,}".replace(",", "\u202f"),
    )
    first, second = _texts(chart, "value")
    assert float(second.attrs["y"]) < float(first.attrs["y"]) - SMALL  # one line higher
    assert float(second.attrs["y"]) > SMALL  # and still inside the chart


def test_a_category_too_wide_for_its_band_is_cut() -> None:
    chart = columns("c", "C", [(f"une très longue étiquette {n}",) for n in range(12)],
                    [Series("S", [1.0] * 12)], str)  # fmt: skip
    labels = [shape.text for shape in _texts(chart, "category")]
    assert all(label.endswith("…") for label in labels)
