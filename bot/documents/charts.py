"""Server-side SVG charts: the same markup in a console page and in a PDF (WeasyPrint draws inline SVG), so a chart
never needs a script, a library in the browser or a request to anywhere.

A chart is printed as often as it is seen on a screen, usually on a black-and-white office printer: one black line
with a marker on every month, the value written above it, light grey grid lines, no meaning carried by colour. A month
with no value (None) is a gap in the line, never a zero. Every text is escaped (a title comes from the catalogs, a
label from the caller), and the SVG carries its own <title> and a <desc> listing the values for screen readers."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

FONT = "Noto Sans, DejaVu Sans, sans-serif"  # an SVG attribute: no quotes inside
_MARGIN = {"left": 48, "right": 16, "top": 34, "bottom": 30}


def month_label(month: str) -> str:
    """The axis label of "2026-01": "01/26" (the axis has room for five characters); anything else is shown as given."""
    year, _, number = month.partition("-")
    if len(year) == 4 and year.isdigit() and len(number) == 2 and number.isdigit():
        return f"{number}/{year[2:]}"
    return month


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value` (an axis that ends on a round number); 1 for ≤ 0."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop ends at 10 × magnitude ≥ value


def ticks(top: float, percent: bool) -> list[float]:
    """Five ticks from 0 to the axis top: 0, 25, 50, 75, 100 % for a percentage."""
    end = 1.0 if percent else nice_ceiling(top)
    return [end * i / 4 for i in range(5)]


def format_value(value: float, *, percent: bool, decimal: str = ",") -> str:
    """How a point's value is written on the chart: a whole percent ("85 %"), a count as a whole number, a measure
    with one decimal when it has a fraction ("12,5" in Vietnamese)."""
    if percent:
        return f"{round(value * 100)} %"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.1f}".replace(".", decimal)


def segments(values: Sequence[float | None]) -> list[list[int]]:
    """The runs of consecutive known values (their indexes): a None ends a run, so the line has a gap there."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(index)
    if current:
        runs.append(current)
    return runs


def trend_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    percent: bool = False,
    width: int = 640,
    height: int = 220,
    decimal: str = ",",
) -> Markup:
    """A line chart of monthly values ("2026-01", value), oldest first. With `percent`, values are fractions (0..1,
    as an Indicator's value) on a 0–100 % axis; otherwise counts on an axis from 0 to a round number above the
    largest. None is a month with no value: a gap, and "—" in the description."""
    values = [value for _, value in points]
    known = [v for v in values if v is not None]
    axis = ticks(max(known, default=0.0), percent)
    top = axis[-1]
    left, right = _MARGIN["left"], width - _MARGIN["right"]
    upper, lower = _MARGIN["top"], height - _MARGIN["bottom"]
    step = (right - left) / max(len(points), 1)

    def x(index: int) -> float:
        return round(left + step * (index + 0.5), 1)

    def y(value: float) -> float:
        clipped = min(max(value, 0.0), top)
        return round(lower - (lower - upper) * clipped / top, 1)

    label = escape(title)
    desc = "; ".join(
        f"{month_label(month)}: {'—' if v is None else format_value(v, percent=percent, decimal=decimal)}"
        for month, v in points
    )
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{label}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="10">',
        f"<title>{label}</title>",
        f"<desc>{escape(desc)}</desc>",
        f'<text x="{left}" y="16" font-size="12" font-weight="bold" fill="#000">{label}</text>',
    ]
    for tick in axis:
        ty = y(tick)
        parts.append(f'<line x1="{left}" y1="{ty}" x2="{right}" y2="{ty}" stroke="#bbb" stroke-width="0.5" />')
        text = format_value(tick, percent=percent, decimal=decimal)
        parts.append(f'<text x="{left - 4}" y="{ty + 3}" text-anchor="end" fill="#000">{escape(text)}</text>')
    parts.append(f'<line x1="{left}" y1="{lower}" x2="{right}" y2="{lower}" stroke="#000" stroke-width="1" />')
    for index, (month, _) in enumerate(points):
        tick = escape(month_label(month))
        parts.append(f'<text x="{x(index)}" y="{lower + 14}" text-anchor="middle" fill="#000">{tick}</text>')
    for run in segments(values):
        coords = " ".join(f"{x(i)},{y(values[i])}" for i in run)  # type: ignore[arg-type]
        if len(run) > 1:
            parts.append(f'<polyline class="line" points="{coords}" fill="none" stroke="#000" stroke-width="1.5" />')
    for index, value in enumerate(values):
        if value is None:
            continue
        cx, cy = x(index), y(value)
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="#fff" stroke="#000" stroke-width="1.2" />')
        text = escape(format_value(value, percent=percent, decimal=decimal))
        parts.append(f'<text x="{cx}" y="{cy - 6}" text-anchor="middle" font-size="8" fill="#000">{text}</text>')
    parts.append("</svg>")
    return Markup("\n".join(parts))  # noqa: S704 - every text above went through escape()
