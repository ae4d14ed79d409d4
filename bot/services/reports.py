"""A report on a commune or a province for a period: the figures (bot/domain/reports), the indicators against the
province's targets, for a province one row per commune, and on request a 12-month trend. Shared by the console, the
CLI and the documents (XLSX, PDF), so every view shows the same numbers.

`by` is the staff member asking from the console, checked against the one authorisation table (VIEW_REPORT, the
unit as the database has it); None is the server's operator (the CLI). A refusal is audited and raises `Refused`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, UnitScope, decide
from bot.domain.entities import Unit, UnitLevel
from bot.domain.reports.facts import by_month
from bot.domain.reports.figures import Tally, tally
from bot.domain.reports.indicators import DEFAULT_TARGETS, NAMES, Indicator, indicators
from bot.domain.reports.period import Period, PeriodError, parse_period, trailing_months
from bot.services.access import Refused
from bot.services.operators import Operator

TREND_MONTHS = 12
# A month is settled a month after its last day: records about it entered later still change its own report, not the
# trend's point kept for it (bot/db/models.py ReportMonthRow).
SETTLED_AFTER_DAYS = 31


class ReportError(ValueError):
    """The report cannot be made as asked (an unknown unit, a target out of range); the message says why."""


@dataclass(frozen=True, slots=True)
class CommuneLine:
    """A province's row for one commune: no names, only counts."""

    unit: Unit
    counts: dict[str, int | float | None]
    indicators: dict[str, Indicator]
    cadres: int
    points: int
    last_entry: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit.code,
            "name": self.unit.name,
            "counts": self.counts,
            "indicators": {name: i.as_dict() for name, i in self.indicators.items()},
            "cadres": self.cadres,
            "points": self.points,
            "last_entry": self.last_entry.isoformat() if self.last_entry else None,
        }


@dataclass(frozen=True, slots=True)
class TrendPoint:
    month: str
    counts: dict[str, int | float | None]
    indicators: dict[str, Indicator]


@dataclass(frozen=True, slots=True)
class Report:
    unit: Unit
    period: Period
    counts: dict[str, int | float | None]
    indicators: dict[str, Indicator]
    made_at: datetime
    communes: list[CommuneLine] = field(default_factory=list)  # a province's rows
    trend: list[TrendPoint] = field(default_factory=list)
    parent: Unit | None = None  # the province of a commune

    @property
    def province(self) -> bool:
        return self.unit.level is UnitLevel.PROVINCE

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON: {"unit", "period": {"from", "to"}, "counts", "indicators", "communes" (a province)}."""
        out: dict[str, Any] = {
            "unit": self.unit.code,
            "name": self.unit.name,
            "level": self.unit.level.value,
            "period": self.period.as_dict(),
            "counts": self.counts,
            "indicators": {name: i.as_dict() for name, i in self.indicators.items()},
            "made_at": self.made_at.isoformat(),
        }
        if self.province:
            out["communes"] = [line.as_dict() for line in self.communes]
        if self.trend:
            out["trend"] = [
                {"month": p.month, "counts": p.counts, "indicators": {n: i.as_dict() for n, i in p.indicators.items()}}
                for p in self.trend
            ]
        return out


async def unit_in_reach(
    repos: Repositories,
    code: str,
    by: Actor | None,
    operator: Operator,
    action: Action = Action.VIEW_REPORT,
    level: UnitLevel | None = None,
) -> Unit:
    """The unit a report or a form is about, if `by` (when given) may do `action` on it and it is of `level` (when
    given); unknown, refused and the wrong level look the same from a console (a guessed code learns nothing) and all
    are audited."""
    unit = await repos.units.by_code(code)
    if by is not None:
        decision = decide(by, action, UnitScope(unit.id, unit.parent_id)) if unit is not None else None
        reason = "no such unit" if decision is None else decision.reason if not decision else None
        if unit is not None and reason is None and level is not None and unit.level is not level:
            reason = f"not a {level.value}"
        if reason is not None:
            await operator.record(
                repos, f"denied:{action.value}", subject_type="unit", subject_id=unit.id if unit else None,
                outcome="denied", detail={"reason": reason},
            )  # fmt: skip
            raise Refused("not allowed")
    if unit is None:
        raise ReportError(f"no unit with code {code}")
    return unit


async def targets_of(repos: Repositories, unit: Unit) -> dict[str, float | None]:
    """The province's targets (a commune's are its province's), the plans' defaults where none was set."""
    province = unit.id if unit.level is UnitLevel.PROVINCE else unit.parent_id
    chosen = await repos.reports.targets(province) if province is not None else {}
    return {name: chosen.get(name, DEFAULT_TARGETS[name]) for name in NAMES}


async def build(
    repos: Repositories,
    unit: Unit,
    period: Period,
    tz: tzinfo,
    now: datetime,
    *,
    trend: bool = False,
    recount: bool = False,
) -> Report:
    """The report on `unit` for `period` (a province: its communes summed, one row each); with `trend`, the 12
    months ending with the period's last (settled months kept, the others tallied from the same gathering;
    `recount` forgets the kept ones first, after records about old months were corrected)."""
    units = await repos.units.communes_of(unit.id) if unit.level is UnitLevel.PROVINCE else [unit]
    communes = [u.id for u in units]
    wanted = set(communes)
    targets = await targets_of(repos, unit)
    if recount:
        await repos.reports.forget_months([unit.id, *communes])
    # The trend's points are the report unit's own kept months: a province's are kept as the province's (its people
    # counted once across communes), not re-added from its communes'.
    months = trailing_months(period, TREND_MONTHS) if trend else []
    kept = await repos.reports.settled_months([unit.id], [m.label for m in months]) if months else {}
    missing = [m for m in months if (unit.id, m.label) not in kept]
    # A trend month is tallied whole: the gathering reaches the end of the period's last month (a range ending
    # mid-month must not keep a half month as that month's figures).
    first = min([period.first, *(m.first for m in missing)])
    last = max([period.last, *(m.last for m in missing)])
    facts = await repos.reports.facts(communes, Period(first, last, period.label), tz)
    tallies = tally(facts, period, wanted)
    if missing:
        today = now.astimezone(tz).date()
        settled: dict[tuple[int, str], Tally] = {}
        for month, share in zip(missing, by_month(facts, [(m.first, m.last) for m in missing]), strict=True):
            counted = tally(share, month, wanted)
            whole = _sum(counted.get(c) for c in communes)
            kept[(unit.id, month.label)] = whole
            if (today - month.last).days > SETTLED_AFTER_DAYS:
                settled[(unit.id, month.label)] = whole
                if unit.level is UnitLevel.PROVINCE:  # its communes' own, for their reports' trends
                    settled.update({(c, month.label): counted.get(c, Tally()) for c in communes})
        await repos.reports.keep_months(settled)
    last_month = period.last.strftime("%Y-%m")
    handed = await repos.reports.handed_over(communes, last_month)
    total = _sum(tallies.get(c) for c in communes)
    known = all(c in handed for c in communes) if communes else False
    report_indicators = indicators(total, targets, sum(handed.values()) if known else None)
    lines: list[CommuneLine] = []
    if unit.level is UnitLevel.PROVINCE:
        cadres, points = await repos.reports.cadres(communes), await repos.reports.points(communes)
        last_entries = await repos.reports.last_entries(communes, tz)
        for commune in units:
            own = tallies.get(commune.id, Tally())
            lines.append(
                CommuneLine(
                    commune,
                    own.figures(),
                    indicators(own, targets, handed.get(commune.id)),
                    cadres.get(commune.id, 0),
                    points.get(commune.id, 0),
                    last_entries.get(commune.id),
                )
            )
    points_trend = []
    for month in months:
        point = kept[(unit.id, month.label)]
        points_trend.append(TrendPoint(month.label, point.figures(), indicators(point, targets, None)))
    parent = await repos.units.get(unit.parent_id) if unit.parent_id is not None else None
    return Report(unit, period, total.figures(), report_indicators, now, lines, points_trend, parent)


def _sum(parts: Any) -> Tally:
    total = Tally()
    for part in parts:
        if part is not None:
            total.add(part)
    return total


MOST_HANDED_OVER = 100_000
_MONTH = re.compile(r"\d{4}-\d{2}")


def parse_target(text: str) -> float | None:
    """A target as typed: "80", "80 %", "80,5" → 0.8 / 0.805; "", "none" → no target. ReportError otherwise."""
    value = text.strip().rstrip("%").strip().replace(",", ".")
    if value.lower() in ("", "none", "-"):
        return None
    try:
        percent = float(value) if len(value) <= 8 else math.nan
    except ValueError:
        percent = math.nan
    if not 0 <= percent <= 100:  # NaN and infinities too
        raise ReportError(f"a target is a percentage from 0 to 100, not {text[:20]!r}")
    return round(percent / 100, 4)


def parse_month(text: str) -> str:
    """A month as YYYY-MM between 2000 and 2099 (the number handed over is known at a month's end)."""
    try:
        if _MONTH.fullmatch(text):
            return parse_period(text).label
    except PeriodError:
        pass
    raise ReportError("the month is written YYYY-MM, between 2000 and 2099")


async def set_targets(
    repos: Repositories, unit: Unit, wanted: dict[str, float | None], by: Actor | None, operator: Operator
) -> list[str]:
    """A province's own targets (its communes' reports use them), as fractions (None: no target); only those that
    change are written, each audited. The indicators changed."""
    if unit.level is not UnitLevel.PROVINCE:
        raise ReportError("targets are set for a province")
    unknown = [name for name in wanted if name not in NAMES]
    if unknown:
        raise ReportError(f"no indicator {unknown[0][:40]!r}; one of: {', '.join(NAMES)}")
    if any(target is not None and not 0 <= target <= 1 for target in wanted.values()):
        raise ReportError("a target is a percentage from 0 to 100")
    if by is not None and not decide(by, Action.SET_TARGETS, UnitScope(unit.id, unit.parent_id)):
        await operator.record(repos, "denied:set_targets", subject_type="unit", subject_id=unit.id, outcome="denied")
        raise Refused("not allowed")
    now = await targets_of(repos, unit)
    changed = [name for name, target in wanted.items() if target != now[name]]
    for name in changed:
        await repos.reports.set_target(unit.id, name, wanted[name], operator.staff_id)
        await operator.record(
            repos, "target_set", subject_type="unit", subject_id=unit.id,
            detail={"indicator": name, "target": wanted[name]},
        )  # fmt: skip
    return changed


async def set_handed_over(
    repos: Repositories, unit: Unit, month: str, people: int, by: Actor | None, operator: Operator
) -> None:
    """How many people were handed over to a commune, as known at a month's end; audited."""
    if unit.level is not UnitLevel.COMMUNE:
        raise ReportError("the number handed over is entered for a commune")
    month = parse_month(month)
    if not 0 <= people <= MOST_HANDED_OVER:
        raise ReportError(f"the number handed over is between 0 and {MOST_HANDED_OVER}")
    if by is not None and not decide(by, Action.ENTER_HANDED_OVER, UnitScope(unit.id, unit.parent_id)):
        await operator.record(
            repos, "denied:enter_handed_over", subject_type="unit", subject_id=unit.id, outcome="denied"
        )
        raise Refused("not allowed")
    await repos.reports.set_handed_over(unit.id, month, people, operator.staff_id)
    await operator.record(
        repos, "handed_over_set", subject_type="unit", subject_id=unit.id, detail={"month": month, "people": people}
    )
