"""Báo cáo: the report on a commune (its officer) or a province (its admin, who may open one of its communes) for a
period, with every figure's definition, the plans' indicators against the province's targets, a province's row per
commune and a 12-month trend; the same report as XLSX and PDF; the province's targets (admin) and the number of
people handed over to the commune (officer).

- GET /console/reports?unit=CODE&period=2026-11 (or &from=YYYY-MM-DD&to=YYYY-MM-DD): a plain GET form.
- GET /console/reports/report.xlsx|report.pdf?unit=..&period=..: audited `report_exported` (unit, period, format).
- POST /console/reports/targets (admin, SET_TARGETS) · POST /console/reports/handed-over (officer, ENTER_HANDED_OVER).

Every unit is asked of the authorisation table as stored (`services.reports.unit_in_reach`): another commune's or
province's code, or none, is the same 404, audited. The numbers are `services.reports.build`'s; nothing is counted
here."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.clock import local_today
from bot.core.i18n import N_, Translator
from bot.documents.report import number_text
from bot.domain.authz import Action, UnitScope, decide
from bot.domain.entities import Role, Unit, UnitLevel
from bot.domain.reports import figures
from bot.domain.reports import indicators as plan
from bot.domain.reports.period import Period, PeriodError, month_period, parse_period
from bot.domain.terms import add_months
from bot.services import reports
from bot.services.access import Refused
from bot.services.operators import StaffOperator
from bot.services.reports import Report
from bot.web.console.kit import Console, Viewer

READERS = {Role.OFFICER, Role.ADMIN}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_TEXT = 40  # a unit code or a period is short; anything longer is not one
QUIET_DAYS = 30  # a commune that entered nothing for longer is flagged on the province's table
# The province's table: a few counts and indicators per commune (the files carry every figure).
LINE_COUNTS = ("under_management_end", "checkins_due", "checkins_done", "tests_done", "tests_positive",
               "referrals_requested")  # fmt: skip
LINE_INDICATORS = ("checkins", "accessed_services")
# The trend's charts: (a count or an indicator, its title, in percent).
CHARTS = (
    ("under_management_end", N_("Under management at the end of each month"), False),
    ("checkins", N_("Monthly check-ins done (%)"), True),
    ("accessed_services", N_("Reached counselling, treatment or support (%)"), True),
)


class Problem(Exception):
    """Something the viewer can correct; the message is in their language."""


def routes(console: Console) -> list[BaseRoute]:
    store = console.app.store

    def today() -> date:
        return local_today(console.app.clock, console.zone)

    async def report_page(request: Request, viewer: Viewer) -> Response:
        t, params = viewer.t, request.query_params
        operator = StaffOperator(viewer.staff.id)
        try:
            period = read_period(t, params, today())
            problem = None
        except Problem as exc:
            period, problem = None, str(exc)
        async with store.transaction() as repos:
            own = await repos.units.get(viewer.staff.unit_id)
            code = asked_code(params.get("unit"), own)
            try:
                unit = await reports.unit_in_reach(repos, code, viewer.actor, operator)
            except Refused:
                unit = None
            else:
                choices = await _choices(repos, viewer, own)
                report = None
                if period is not None:
                    report = await reports.build(repos, unit, period, console.zone, console.app.clock.now(),
                                                 trend=True)  # fmt: skip
                    await operator.record(repos, "report_viewed", subject_type="unit", subject_id=unit.id,
                                          detail={"unit": unit.code, "period": period.label})  # fmt: skip
                scope = UnitScope(unit.id, unit.parent_id)
                may_target = unit.level is UnitLevel.PROVINCE and bool(decide(viewer.actor, Action.SET_TARGETS, scope))
                may_hand = unit.level is UnitLevel.COMMUNE and bool(
                    decide(viewer.actor, Action.ENTER_HANDED_OVER, scope)
                )
                targets = await reports.targets_of(repos, unit) if may_target else {}
                month = (period.last if period else _last_full_month(today()).last).strftime("%Y-%m")
                handed = (await repos.reports.handed_over([unit.id], month)).get(unit.id) if may_hand else None
        if unit is None:
            return await console.not_found(request, viewer)
        shown = period or _last_full_month(today())
        query = urlencode({"unit": unit.code, "period": shown.label})
        return console.render(
            request, viewer, "reports/report.html", status=400 if problem else 200, unit=unit, report=report,
            problem=problem, period=shown, period_text=period_text(t, shown), options=period_options(t, today()),
            typed=_typed(params), choices=choices, query=query, may_target=may_target, targets=targets,
            may_hand=may_hand, handed=handed, month=month, fig=figures, plan=plan,
            number=lambda v: number_text(v, t), pct=lambda v: percent(t, v), quiet=_quiet(today()),
            line_counts=LINE_COUNTS, line_indicators=LINE_INDICATORS,
            charts=_charts(t, report) if report is not None else [], today=today(),
        )  # fmt: skip

    async def download(request: Request, viewer: Viewer, kind: str) -> Response:
        t, params = viewer.t, request.query_params
        operator = StaffOperator(viewer.staff.id)
        try:
            period = read_period(t, params, today())
        except Problem as exc:
            return console.render(request, viewer, "error.html", status=400, message=str(exc))
        from bot.documents.report import report_pdf, report_xlsx

        async with store.transaction() as repos:
            own = await repos.units.get(viewer.staff.unit_id)
            code = asked_code(params.get("unit"), own)
            try:
                unit = await reports.unit_in_reach(repos, code, viewer.actor, operator)
            except Refused:
                unit = None
            else:
                report = await reports.build(repos, unit, period, console.zone, console.app.clock.now(), trend=True)
                await operator.record(repos, "report_exported", subject_type="unit", subject_id=unit.id,
                                      detail={"unit": unit.code, "period": period.label, "format": kind})  # fmt: skip
        if unit is None:
            return await console.not_found(request, viewer)
        name = f"bao-cao-{unit.code}-{period.label.replace('..', '_')}.{kind}"
        headers = {"content-disposition": f'attachment; filename="{name}"'}
        if kind == "xlsx":
            return Response(report_xlsx(report, t, zone=console.zone), media_type=XLSX, headers=headers)
        # drawn in a worker thread (a second or two for a province): the event loop keeps serving
        pdf = await asyncio.to_thread(report_pdf, report, t, signer=viewer.staff.name, zone=console.zone)
        return Response(pdf, media_type="application/pdf", headers=headers)

    async def xlsx(request: Request, viewer: Viewer) -> Response:
        return await download(request, viewer, "xlsx")

    async def pdf(request: Request, viewer: Viewer) -> Response:
        return await download(request, viewer, "pdf")

    async def set_targets(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        t = viewer.t
        operator = StaffOperator(viewer.staff.id)
        code = _text(form.get("unit"))
        async with store.transaction() as repos:
            try:
                unit = await reports.unit_in_reach(
                    repos, code, viewer.actor, operator, Action.SET_TARGETS, UnitLevel.PROVINCE
                )
            except Refused:
                unit = None
            else:
                back = _back(unit, form)
                try:
                    wanted = read_targets(t, form)
                except Problem as exc:
                    return console.flash_redirect(back, str(exc))
                changed = await reports.set_targets(repos, unit, wanted, viewer.actor, operator)
        if unit is None:
            return await console.not_found(request, viewer)
        if not changed:
            return console.flash_redirect(back, t._("Nothing was changed."))
        return console.flash_redirect(back, t._("The targets were saved."))

    async def set_handed_over(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        t = viewer.t
        operator = StaffOperator(viewer.staff.id)
        code = _text(form.get("unit"))
        async with store.transaction() as repos:
            try:
                unit = await reports.unit_in_reach(
                    repos, code, viewer.actor, operator, Action.ENTER_HANDED_OVER, UnitLevel.COMMUNE
                )
            except Refused:
                unit = None
            else:
                back = _back(unit, form)
                try:
                    month, people = read_handed_over(t, form)
                except Problem as exc:
                    return console.flash_redirect(back, str(exc))
                await reports.set_handed_over(repos, unit, month, people, viewer.actor, operator)
        if unit is None:
            return await console.not_found(request, viewer)
        return console.flash_redirect(
            back, t._("Saved: {people} people handed over to the commune in {month}.", people=people,
                      month=month_text(t, month)),
        )

    return [
        Route("/reports", console.page(report_page, roles=READERS), methods=["GET"]),
        Route("/reports/report.xlsx", console.page(xlsx, roles=READERS), methods=["GET"]),
        Route("/reports/report.pdf", console.page(pdf, roles=READERS), methods=["GET"]),
        Route("/reports/targets", console.page(set_targets, roles={Role.ADMIN}, methods=("POST",)), methods=["POST"]),
        Route("/reports/handed-over", console.page(set_handed_over, roles={Role.OFFICER}, methods=("POST",)),
              methods=["POST"]),
    ]  # fmt: skip


# ---- the unit -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    name: str
    province: bool


async def _choices(repos: Any, viewer: Viewer, own: Unit | None) -> list[Choice]:
    """What an admin may open: the province, then each of its communes (an officer has their commune only)."""
    if own is None or own.level is not UnitLevel.PROVINCE:
        return []
    communes = await repos.units.communes_of(own.id)
    return [Choice(own.code, own.name, True), *(Choice(u.code, u.name, False) for u in communes)]


def _back(unit: Unit, form: FormData) -> str:
    """The report the form was sent from: the unit as stored and the period read again (never a URL from the form)."""
    query = {"unit": unit.code}
    with contextlib.suppress(PeriodError):
        query["period"] = (parse_period(_text(form.get("period")))).label
    return "/console/reports?" + urlencode(query)


def asked_code(value: str | None, own: Unit | None) -> str:
    """The unit asked in the query string, the viewer's own when none; a code too long to be one is no unit."""
    if not value or not value.strip():
        return own.code if own else ""
    return value.strip() if len(value) <= MAX_TEXT else ""


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) and len(value) <= MAX_TEXT else ""


# ---- the period -----------------------------------------------------------------------------------------------------


def _last_full_month(today: date) -> Period:
    before = add_months(today.replace(day=1), -1)
    return month_period(before.year, before.month)


def read_period(t: Translator, params: Any, today: date) -> Period:
    """The period asked: a range from `from` and `to` (both given), else `period`, else the last full month."""
    first, last = params.get("from", "").strip(), params.get("to", "").strip()
    text = f"{first}..{last}" if first and last else params.get("period", "").strip()
    if bool(first) != bool(last):
        raise Problem(t._("Please give both the first and the last day of the period."))
    if not text:
        return _last_full_month(today)
    if len(text) > MAX_TEXT:
        raise Problem(_period_help(t))
    try:
        return (parse_period(text))
    except PeriodError as exc:
        reason = str(exc)
        if "before it starts" in reason:
            raise Problem(t._("The period ends before it starts. Please check the two days.")) from None
        if "three years" in reason:
            raise Problem(t._("A period is at most three years long.")) from None
        raise Problem(_period_help(t)) from None


def _period_help(t: Translator) -> str:
    return t._("This period cannot be read. Please choose a month, a quarter or a year, or give the first and the "
               "last day.")  # fmt: skip


def _typed(params: Any) -> dict[str, str]:
    """The range's two days as typed, shown again in the form (short, or not at all)."""
    return {key: value for key in ("from", "to") if len(value := params.get(key, "").strip()) <= 10}


def period_options(t: Translator, today: date) -> list[tuple[str, str]]:
    """The picker's choices, newest first: 24 months, 8 quarters, 3 years."""
    first = today.replace(day=1)
    months = [add_months(first, -i) for i in range(24)]
    out = [(f"{d:%Y-%m}", t._("Month {month}/{year}", month=f"{d.month:02d}", year=d.year)) for d in months]
    quarter = (today.month - 1) // 3 + 1
    year = today.year
    for _ in range(8):
        out.append((f"{year}-Q{quarter}", t._("Quarter {quarter}/{year}", quarter=quarter, year=year)))
        quarter, year = (quarter - 1, year) if quarter > 1 else (4, year - 1)
    out += [(str(y), t._("Year {year}", year=y)) for y in range(today.year, today.year - 3, -1)]
    return out


def period_text(t: Translator, period: Period) -> str:
    label = period.label
    if re.fullmatch(r"\d{4}-\d{2}", label):
        return t._("Month {month}/{year}", month=label[5:], year=label[:4])
    if re.fullmatch(r"\d{4}-Q\d", label):
        return t._("Quarter {quarter}/{year}", quarter=label[6], year=label[:4])
    if re.fullmatch(r"\d{4}", label):
        return t._("Year {year}", year=label)
    return t._("From {first} to {last}", first=t.date(period.first), last=t.date(period.last))


def month_text(t: Translator, month: str) -> str:
    return t._("Month {month}/{year}", month=month[5:], year=month[:4])


# ---- forms ----------------------------------------------------------------------------------------------------------


def read_targets(t: Translator, form: FormData) -> dict[str, float | None]:
    """Each indicator's target in percent (0–100; empty: no target), as a fraction, read as the CLI reads it."""
    out: dict[str, float | None] = {}
    for name in plan.NAMES:
        raw = form.get(f"target_{name}")
        try:
            out[name] = reports.parse_target(raw if isinstance(raw, str) else "")
        except reports.ReportError:
            raise Problem(t._("“{indicator}”: a target is a percentage from 0 to 100, or empty for none.",
                              indicator=t._(plan.LABELS[name]))) from None  # fmt: skip
    return out


def read_handed_over(t: Translator, form: FormData) -> tuple[str, int]:
    """A month (YYYY-MM) and a whole number of people from 0 to 100,000, read as the CLI reads them."""
    month, people = form.get("month"), form.get("people")
    try:
        month = reports.parse_month(month.strip() if isinstance(month, str) else "")
    except reports.ReportError:
        raise Problem(t._("Please choose the month.")) from None
    people = people.strip() if isinstance(people, str) else ""
    if not (people.isascii() and people.isdigit() and len(people) <= 6 and int(people) <= reports.MOST_HANDED_OVER):
        raise Problem(t._("The number of people handed over is a whole number from 0 to {most}.",
                          most=f"{reports.MOST_HANDED_OVER:,}".replace(",", ".")))  # fmt: skip
    return month, int(people)


# ---- showing numbers ------------------------------------------------------------------------------------------------


def percent(t: Translator, fraction: float | None) -> str:
    if fraction is None:
        return "—"
    text = f"{fraction * 100:.1f}".removesuffix(".0")
    return (text.replace(".", ",") if t.language == "vi" else text) + " %"


def _quiet(today: date) -> Any:
    """Whether a commune's last entry is too long ago (or there is none) for the province's table to flag it."""
    return lambda last: last is None or (today - last) > timedelta(days=QUIET_DAYS)


def _charts(t: Translator, report: Report) -> list[Markup]:
    """The trend as inline SVG (the same charts as the PDF's; the page also shows them as a table)."""
    if not report.trend:
        return []
    from bot.documents.charts import trend_chart

    out = []
    for key, title, in_percent in CHARTS:
        if in_percent:
            points = [(p.month, p.indicators[key].value) for p in report.trend]
        else:
            points = [(p.month, _float(p.counts.get(key))) for p in report.trend]
        decimal = "," if t.language == "vi" else "."
        out.append(trend_chart(points, title=t._(title), percent=in_percent, decimal=decimal))
    return out


def _float(value: int | float | None) -> float | None:
    return None if value is None else float(value)
