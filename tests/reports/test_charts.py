"""Chart axes: a sensible number of round ticks whatever the figures."""

from __future__ import annotations

from campaign.reports.charts import LineSeries, Series, columns, grouped_bars, lines


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
