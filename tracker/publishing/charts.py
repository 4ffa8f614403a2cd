"""The charts the dashboard shows and the reports embed (Altair, the charting library Streamlit ships with).

Each function takes records (trend rows, the forecast: tracker.records) and returns an Altair chart; the dashboard
renders it, the report saves it as SVG or PNG (vl-convert). Titles and subtitles state what is counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import altair as alt
import pandas as pd

from tracker.analysis.forecast.model import RUNOUT_SCENARIOS, RUNOUT_SHORT
from tracker.analysis.headlines import Milestone
from tracker.records.forecast import Forecast
from tracker.records.trends import SignalRow, TrendRow

__all__ = [
    "adoption_chart",
    "fan_chart",
    "gap_chart",
    "restriction_chart",
    "time_axis",
    "trend_chart",
]

_WIDTH = 640
#: Legend labels are never cut short ("Google-Extende…"): Vega's default limit is 160 px, themes set less.
_LEGEND = alt.Legend(labelLimit=1000, titleLimit=1000)
#: A month tick's label: the year at each January and at the first tick ("Jan 2024", "Apr", "Jul", "Oct"), so
#: a chart cut out of its page still says when.
_MONTH_LABEL = (
    "month(datum.value) == 0 || datum.index == 0 ? timeFormat(datum.value, '%b %Y') : timeFormat(datum.value, '%b')"
)


def _months(start: str, end: str) -> int:
    """Whole months from ``start`` to ``end`` (ISO dates), at least 0."""
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    return max(0, (b.year - a.year) * 12 + b.month - a.month)


def time_axis(start: str, end: str) -> alt.Axis:
    """The one time axis of every chart, its ticks chosen by the span drawn so labels never run into each other:
    a year a tick ("2021") beyond four years; otherwise months every 6, 3 or 1 with the year at each January and
    at the first tick ("Jan 2024 Apr Jul Oct"); up to eight months, every label with its year ("Aug 2024")."""
    span = _months(start, end)
    common: dict[str, Any] = {
        "labelAngle": 0,
        "labelOverlap": "greedy",
        "labelSeparation": 6,
        "grid": True,
        "labelFlush": False,
    }
    if span > 48:
        return alt.Axis(format="%Y", tickCount={"interval": "year", "step": 1}, **common)
    if span <= 8:
        return alt.Axis(format="%b %Y", tickCount={"interval": "month", "step": 1}, **common)
    step = 6 if span > 24 else 3
    return alt.Axis(labelExpr=_MONTH_LABEL, tickCount={"interval": "month", "step": step}, **common)


def _time_x(field: str, dates: pd.Series) -> alt.X:
    return alt.X(f"{field}:T", title=None, axis=time_axis(str(dates.min()), str(dates.max())))


def _events_in(events: Sequence[Milestone], start: str, end: str) -> list[Milestone]:
    return [e for e in events if start <= e.day.isoformat() <= end]


#: The label beside an event's dashed line: small, written upward from the top of the plot (Vega sets the title
#: above it).
_EVENT_FONT = 9


def _labelled(events: Sequence[Milestone], start: str, end: str) -> list[bool]:
    """Which events get their label written: in date order, each one at least a label's height (11 px at the
    chart's width) after the last one labelled, so labels never print over each other on long spans."""
    per_day = _WIDTH / max(1, (pd.Timestamp(end) - pd.Timestamp(start)).days)
    out, last = [], None
    for e in events:
        ok = last is None or (e.day - last).days * per_day >= _EVENT_FONT + 2
        out.append(ok)
        last = e.day if ok else last
    return out


def _events_layer(events: Sequence[Milestone], start: str, end: str) -> alt.LayerChart | None:
    """The milestones as dashed rules, each with its short label written up from the top of the plot, above the
    lines (never over them) — but a label too close to the one before it is left to the tooltip and the report's
    list, which give every event in full with its source."""
    events = sorted(events, key=lambda e: e.day)
    rows = [
        {"date": e.day.isoformat(), "mark": e.mark if ok else "", "event": e.label, "source": e.source}
        for e, ok in zip(events, _labelled(events, start, end), strict=True)
    ]
    if not rows:
        return None
    base = alt.Chart(pd.DataFrame(rows)).encode(
        x="date:T", tooltip=[alt.Tooltip("date:T", format="%d %b %Y"), "event:N", "source:N"]
    )
    rules = base.mark_rule(strokeDash=[4, 3], color="#888")
    labels = base.mark_text(
        angle=270, align="left", baseline="middle", dx=4, fontSize=_EVENT_FONT, color="#444"
    ).encode(y=alt.value(0), text="mark:N")
    return rules + labels


def trend_chart(
    rows: Sequence[TrendRow], *, field: str = "blocked_share", title: str = "", events: Sequence[Milestone] = ()
) -> alt.LayerChart | alt.Chart:
    """Share restricting each agent (or group) over time, one line each, events as dashed rules."""
    data = pd.DataFrame(
        [
            {
                "period_end": r.period_end,
                "agent": r.agent,
                "share": getattr(r, field),
                "sites": r.sites,
                "sample": r.sample,
                "weighting": r.weighting,
            }
            for r in rows
        ]
    )
    if data.empty:
        return alt.Chart(pd.DataFrame({"x": []})).mark_line()
    subtitle = f"{rows[-1].sample}; weighted by {rows[-1].weighting}; {field.replace('_', ' ')}"
    shown = _events_in(events, str(data.period_end.min()), str(data.period_end.max()))
    head = alt.TitleParams(title or "Share of sites restricting", subtitle=subtitle)
    line = (
        alt.Chart(data, title=head)
        .mark_line(point=False)
        .encode(
            x=_time_x("period_end", data.period_end),
            y=alt.Y("share:Q", title="share", axis=alt.Axis(format=".0%")),
            color=alt.Color("agent:N", title=None, legend=_LEGEND),
            tooltip=["period_end:T", "agent:N", alt.Tooltip("share:Q", format=".1%"), "sites:Q"],
        )
        .properties(height=300)
    )
    rules = _events_layer(shown, str(data.period_end.min()), str(data.period_end.max()))
    chart = line + rules if rules is not None else alt.layer(line)
    # Fit the width only (axes and legend included, the plot about _WIDTH wide): Streamlit's default, "fit", would
    # squeeze the plot's height to make room for the event labels above it.
    fit = alt.AutoSizeParams(type="fit-x", contains="padding")
    return cast(alt.LayerChart, chart.properties(width=_WIDTH + 120, autosize=fit))


def adoption_chart(
    rows: Sequence[SignalRow],
    *,
    title: str = "Adoption of use-preference signals",
    subtitle: str = "over the sites whose resource was observed",
) -> alt.Chart:
    """Share adopting each signal over time; ``subtitle`` says over which sites."""
    data = pd.DataFrame(
        [{"period_end": r.period_end, "signal": r.signal, "share": r.share, "sites": r.sites} for r in rows]
    )
    if data.empty:
        return alt.Chart(pd.DataFrame({"x": []})).mark_line()
    return (
        alt.Chart(data, title=alt.TitleParams(title, subtitle=subtitle))
        .mark_line()
        .encode(
            x=_time_x("period_end", data.period_end),
            y=alt.Y("share:Q", axis=alt.Axis(format=".0%")),
            color=alt.Color("signal:N", legend=_LEGEND),
            tooltip=["period_end:T", "signal:N", alt.Tooltip("share:Q", format=".1%"), "sites:Q"],
        )
        .properties(width=_WIDTH, height=280)
    )


def fan_chart(result: Forecast) -> alt.LayerChart:
    """The run-out date, with and without the consent adjustment: median (point) and 80% interval (bar)."""
    runouts = result.runouts()
    shown = [(key, e) for key in RUNOUT_SCENARIOS if (e := runouts.get(key)) and e.median]
    rows = [
        {
            "scenario": RUNOUT_SHORT[key],
            "what": RUNOUT_SCENARIOS[key],
            "p10": e.p10,
            "median": e.median,
            "p90": e.p90,
            "median month": e.median_month,
            "80% from": e.p10_month,
            "80% to": e.p90_month,
        }
        for key, e in shown
    ]
    data = pd.DataFrame(rows)
    base = alt.Chart(
        data,
        title=alt.TitleParams(
            "When the largest training dataset reaches the stock", subtitle="median (dot) and 80% interval (bar); year"
        ),
    )
    y = alt.Y("scenario:N", title=None, sort=list(RUNOUT_SHORT.values()), axis=alt.Axis(labelLimit=260))
    x = alt.X("p10:Q", scale=alt.Scale(zero=False), title="year", axis=alt.Axis(format="d", tickMinStep=1))
    color = alt.Color("scenario:N", legend=None)
    bars = base.mark_rule(strokeWidth=10, opacity=0.35).encode(x=x, x2="p90:Q", y=y, color=color)
    dots = base.mark_point(filled=True, size=120, color="black").encode(
        x="median:Q", y=y, tooltip=["what:N", "median month:N", "80% from:N", "80% to:N"]
    )
    return (bars + dots).properties(width=_WIDTH, height=alt.Step(44))


def restriction_chart(result: Forecast) -> alt.LayerChart | alt.Chart:
    """r(t): the measured restricted share each month, then its forecast — median and 80% band — from the last
    observation on (the path the consent adjustment applies to the stock)."""
    rs = result.restricted_share
    if rs is None:
        return alt.Chart(pd.DataFrame({"x": []})).mark_line()
    observed = pd.DataFrame([{"date": o.period_end, "share": o.share} for o in rs.observed])
    path = pd.DataFrame(
        [
            {
                "date": f"{p.month}-15",
                "p10": p.p10,
                "median": p.median,
                "p90": p.p90,
                "what": "forecast (median, 80% band)",
            }
            for p in rs.path
        ]
    )
    d = rs.definition
    who = d.agents[0] if len(d.agents) == 1 else f"{d.rule} of {len(d.agents)} agents"
    subtitle = [
        f"robots.txt keeps {who} from '/'; {d.sample}; weighting: {d.weighting}",
        f"forecast: {rs.method}, median and 80% band from the last observation",
    ]
    title = alt.TitleParams(f"Share restricting {d.figure}, measured and forecast", subtitle=subtitle)
    x = _time_x("date", pd.Series([o.period_end for o in rs.observed] + [f"{p.month}-15" for p in rs.path]))
    y = alt.Y("share:Q", title="share", axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1]))
    measured = (
        alt.Chart(observed, title=title)
        .mark_line(color="#1f77b4")
        .encode(x=x, y=y, tooltip=[alt.Tooltip("date:T", format="%b %Y"), alt.Tooltip("share:Q", format=".1%")])
    )
    band = (
        alt.Chart(path)
        .mark_area(opacity=0.25, color="#ff7f0e")
        .encode(x=x, y=alt.Y("p10:Q", title="share", axis=alt.Axis(format=".0%")), y2="p90:Q")
    )
    median = (
        alt.Chart(path)
        .mark_line(color="#ff7f0e", strokeDash=[5, 3])
        .encode(
            x=x,
            y=alt.Y("median:Q"),
            tooltip=[
                alt.Tooltip("date:T", format="%b %Y"),
                alt.Tooltip("p10:Q", format=".1%"),
                alt.Tooltip("median:Q", format=".1%"),
                alt.Tooltip("p90:Q", format=".1%"),
            ],
        )
    )
    return (band + measured + median).properties(width=_WIDTH, height=280)


def gap_chart(result: Forecast) -> alt.Chart:
    """Synthetic share of the largest dataset's mix per year (median, 80% band)."""
    rows = [
        {"year": g.year, "p10": g.synthetic_share.p10, "median": g.synthetic_share.median, "p90": g.synthetic_share.p90}
        for g in result.gap
    ]
    data = pd.DataFrame(rows)
    base = alt.Chart(
        data,
        title=alt.TitleParams(
            "Synthetic share of the largest training dataset",
            subtitle="the gap between demand and usable human text; median and 80% band",
        ),
    )
    band = base.mark_area(opacity=0.25).encode(
        x=alt.X("year:O"), y=alt.Y("p10:Q", axis=alt.Axis(format=".0%"), title="synthetic share"), y2="p90:Q"
    )
    line = base.mark_line(point=True).encode(
        x="year:O", y="median:Q", tooltip=["year", alt.Tooltip("median:Q", format=".0%")]
    )
    return (band + line).properties(width=_WIDTH, height=260)
