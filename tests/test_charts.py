"""Charts a reader can cite out of context: every time axis says its year (at each January and at the first tick,
or a year a tick over long spans) with labels that never run into each other; the event markers carry their short
label on the chart; legends never cut an agent's name short. Checked on the SVG vl-convert draws (as the report
saves it) and on the Vega-Lite spec the dashboard hands Streamlit."""

from __future__ import annotations

import itertools
import re
from datetime import date
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import pytest
import vl_convert as vlc

from tracker.analysis.headlines import Milestone, load_milestones
from tracker.publishing.charts import adoption_chart, time_axis, trend_chart
from tracker.records.trends import SignalRow, TrendRow

YEAR = re.compile(r"\b(19|20)\d\d\b")
MONTH = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)( (19|20)\d\d)?$")
LONG_NAME = "an agent group whose name runs well past Vega's default legend limit"


def _periods(start: str, months: int) -> list[pd.Period]:
    return list(pd.period_range(start, periods=months, freq="M"))


_COUNTS = (1, 1, 1, 1, 1, 0.1)  # full, near-full, partial, no robots, unreachable, share of the reachable
_WEIGHTS = (100.0, 10.0, 1.0, 1.0, "all sites")  # sites and blocked weight, measured share, full-block weight, sample


def _trend_rows(start: str, months: int, agents: tuple[str, ...] = ("GPTBot", "Google-Extended")) -> list[TrendRow]:
    return [
        TrendRow(str(p), str(p.end_time.date()), a, 100, 10, 5, 0.05 + i * 0.002, 0.03, *_COUNTS, "sites", *_WEIGHTS)
        for i, p in enumerate(_periods(start, months))
        for a in agents
    ]


def _signal_rows(start: str, months: int) -> list[SignalRow]:
    return [
        SignalRow(str(p), str(p.end_time.date()), s, 50, 5, 0.1, "d")
        for p in _periods(start, months)
        for s in ("ai.txt", "tdmrep")
    ]


def _svg(chart: alt.TopLevelMixin) -> str:
    return vlc.vegalite_to_svg(chart.to_json())


def _texts(fragment: str) -> list[tuple[float, float, str]]:
    """(x, y, text) of each <text> in an SVG fragment, from its first translate()."""
    out = []
    for m in re.finditer(r"<text[^>]*transform=\"translate\(([-\d.e]+),([-\d.e]+)\)[^>]*>([^<]*)</text>", fragment):
        out.append((float(m.group(1)), float(m.group(2)), m.group(3)))
    return out


def x_labels(svg: str) -> list[tuple[float, str]]:
    """The x axis's tick labels, left to right."""
    axis = svg.split('aria-label="X-axis', 1)[1]
    labels = axis.split("role-axis-label", 1)[1].split("role-axis-domain", 1)[0]
    return sorted((x, t) for x, _, t in _texts(labels))


def legend_labels(svg: str) -> list[str]:
    return [t for part in svg.split("role-legend-label")[1:] for _, _, t in _texts(part.split("</g>", 1)[0])]


def assert_citable_time_axis(svg: str, *, months: int) -> None:
    labels = x_labels(svg)
    assert len(labels) >= 2, labels
    texts = [t for _, t in labels]
    assert YEAR.search(texts[0]), f"the first tick must say its year: {texts}"
    if months > 48:
        assert all(re.fullmatch(r"(19|20)\d\d", t) for t in texts), texts  # a year a tick
    else:
        assert all(MONTH.match(t) for t in texts), texts
        assert all(YEAR.search(t) for t in texts if t.startswith("Jan")), f"January without its year: {texts}"
    # never running into each other: at 10 px a character is under 6.5 px wide
    for (x0, t0), (x1, t1) in itertools.pairwise(labels):
        assert x1 - x0 > 6.5 * (len(t0) + len(t1)) / 2 + 4, f"{t0!r} and {t1!r} overlap ({x1 - x0:.0f} px apart)"


SPANS = [("2024-02", 6), ("2023-08", 14), ("2022-08", 24), ("2021-03", 40), ("2019-01", 91)]


@pytest.mark.parametrize(("start", "months"), SPANS)
def test_trend_chart_time_axis_says_the_year(start: str, months: int) -> None:
    assert_citable_time_axis(_svg(trend_chart(_trend_rows(start, months))), months=months)


@pytest.mark.parametrize(("start", "months"), SPANS)
def test_adoption_chart_time_axis_says_the_year(start: str, months: int) -> None:
    assert_citable_time_axis(_svg(adoption_chart(_signal_rows(start, months))), months=months)


def test_a_span_with_no_january_still_says_its_year() -> None:
    labels = [t for _, t in x_labels(_svg(trend_chart(_trend_rows("2024-03", 9))))]
    assert YEAR.search(labels[0]) and not any(t.startswith("Jan") for t in labels), labels


def test_time_axis_ticks_by_span() -> None:
    def count(a: alt.Axis) -> Any:
        return a.to_dict().get("tickCount")

    assert count(time_axis("2019-01-31", "2026-08-31")) == {"interval": "year", "step": 1}
    assert count(time_axis("2022-08-31", "2024-07-31")) == {"interval": "month", "step": 3}
    assert count(time_axis("2021-01-31", "2024-07-31")) == {"interval": "month", "step": 6}
    assert count(time_axis("2024-02-29", "2024-07-31")) == {"interval": "month", "step": 1}


def test_event_markers_carry_their_short_label_above_the_lines() -> None:
    events = load_milestones()
    assert all(e.short and len(e.short) <= 20 for e in events)  # every milestone has a short label
    svg = _svg(trend_chart(_trend_rows("2022-08", 24), events=events))
    drawn = set(re.findall(r'aria-roledescription="text mark"[^>]*>([^<]*)</text>', svg))
    shown = [e for e in events if date(2022, 8, 1) <= e.day <= date(2024, 7, 31)]
    assert shown and all(e.short in drawn for e in shown), sorted(drawn)
    marks = re.findall(r'aria-roledescription="text mark"[^>]*transform="translate\([-\d.e]+,([-\d.e]+)\)', svg)
    assert len(marks) == len(shown) and all(float(y) <= 0 for y in marks)  # drawn from the top of the plot up


def test_event_without_a_short_label_uses_its_label() -> None:
    e = Milestone(date(2024, 1, 10), "Something happened", "deal", "https://example.org/")
    assert e.mark == "Something happened"
    assert "Something happened" in _svg(trend_chart(_trend_rows("2023-08", 12), events=[e]))


def test_legends_never_cut_a_name_short() -> None:
    agents = ("GPTBot", "Google-Extended", "Applebot-Extended", LONG_NAME)
    svg = _svg(trend_chart(_trend_rows("2023-08", 12, agents)))
    labels = legend_labels(svg)
    assert set(agents) <= set(labels) and not any("…" in t for t in labels), labels
    # in the dashboard too, whatever the theme's default limit: the encoding sets its own
    for chart in (trend_chart(_trend_rows("2023-08", 12)), adoption_chart(_signal_rows("2023-08", 12))):
        spec = chart.to_dict()
        layers = spec.get("layer", [spec])
        assert layers[0]["encoding"]["color"]["legend"]["labelLimit"] >= 400


@pytest.mark.slow
def test_every_report_chart_says_its_year(tmp_path: Path) -> None:

    from tests.test_trend_report import build_report_store
    from tracker.publishing.report import write_report
    from tracker.rules.agents import load_registry
    from tracker.store import open_store

    path = build_report_store(tmp_path / "r.db")
    write_report(open_store(path), load_registry(), tmp_path / "h", "html")
    for name in ("training", "agents", "purposes", "restriction"):
        svg = (tmp_path / "h" / f"{name}.svg").read_text()
        texts = [t for _, t in x_labels(svg)]
        assert texts and YEAR.search(texts[0]), (name, texts)
        assert not any("…" in t for t in legend_labels(svg)), name


def test_event_labels_never_print_over_each_other_on_a_long_span() -> None:
    events = load_milestones()
    svg = _svg(trend_chart(_trend_rows("2019-01", 91), events=events))
    xs = sorted(
        float(x)
        for x, t in re.findall(
            r'aria-roledescription="text mark"[^>]*transform="translate\(([-\d.e]+),[^"]*"[^>]*>([^<]*)</text>', svg
        )
        if t
    )
    assert len(xs) >= 5, xs  # most still labelled
    assert all(b - a >= 11 for a, b in itertools.pairwise(xs)), xs
    assert svg.count('aria-roledescription="rule mark"') == len(events)  # every event keeps its dashed line
