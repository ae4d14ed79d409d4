"""What an officer reads about a commune: open alerts (`escalation list`), quarterly reviews (`review status`) and
referral figures for reports (`referral stats`). Nothing here changes a record."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import JsonFlag, emit, fail, find_unit, local_time, period, with_app, writable, write_private

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

escalation_cli = typer.Typer(help="Alerts someone must act on: what is open in a commune.", no_args_is_help=True)
review_cli = typer.Typer(
    help="Quarterly reviews (kiểm điểm cuối quý): who has not written theirs.", no_args_is_help=True
)
referral_cli = typer.Typer(
    help="Referrals to counselling points and support: figures for reports.", no_args_is_help=True
)


@referral_cli.command("stats")
def referral_stats(
    unit: Annotated[str, typer.Option(help="Commune code, or a province code for all its communes.")],
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (local time).")],
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (local time), included.")],
    as_json: JsonFlag = False,
) -> None:
    """Referrals asked for in a period: by kind, how many reached a counsellor, median time to the first reply."""
    first_day, last_day = period(as_json, first, last)

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from bot.domain.referral_stats import summarise

        tz = ZoneInfo(app.settings.timezone)
        since = datetime.combine(first_day, time(0), tzinfo=tz)
        until = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
        async with app.store.transaction() as repos:
            units = await repos.units.with_communes((await find_unit(repos, unit)).id)
            stats = summarise(await repos.referrals.in_period(units, since, until))
        return {"unit": unit, "from": first, "to": last, **stats.as_dict()}

    out = with_app(as_json, work)
    median_reply = out["median_minutes_to_first_reply"]
    human = (
        f"{out['unit']} {out['from']}..{out['to']}: {out['requested']} referrals ({out['urgent']} urgent), "
        f"{out['accessed_counselling']} reached a counsellor, median first reply "
        + (f"{median_reply} min" if median_reply is not None else "n/a")
    )
    emit(as_json, out, human)


@escalation_cli.command("list")
def escalation_list(
    unit: Annotated[str, typer.Option(help="Commune code.")],
    as_json: JsonFlag = False,
) -> None:
    """Open (unacknowledged) alerts of a commune, oldest first: whom, what kind, since when, whether the officer was
    told. No names or content: look the person up in the chat."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        async with app.store.transaction() as repos:
            found = await find_unit(repos, unit)
            return [
                {
                    "id": e.id,
                    "participant_id": e.participant_id,
                    "kind": e.kind,
                    "raised_at": e.raised_at.isoformat(),
                    "cadre_id": e.cadre_id,
                    "officer_notified": e.officer_notified_at is not None,
                }
                for e in await repos.escalations.open_for(unit_id=found.id)
            ]

    rows = with_app(as_json, work)
    human = "\n".join(
        f"{r['id']}\t#{r['participant_id']}\t{r['kind']}\t{local_time(r['raised_at'])}\t"
        f"{'officer told' if r['officer_notified'] else 'with the cadre'}"
        for r in rows
    )
    emit(as_json, {"open": rows}, human or "nothing open")


@review_cli.command("status")
def review_status(
    unit: Annotated[str, typer.Option(help="Commune code.")],
    quarter: Annotated[str, typer.Option(help="Quarter as YYYY-QN, e.g. 2026-Q4.")],
    as_json: JsonFlag = False,
) -> None:
    """Who has a review for the quarter and who is still missing one, by cadre."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            people = await repos.participants.followed((await find_unit(repos, unit)).id)
            done = await repos.fieldwork.reviewed(quarter, [p.id for p in people])
            missing = [{"participant_id": p.id, "cadre_id": p.cadre_id} for p in people if p.id not in done]
            return {"quarter": quarter, "written": len(done), "total": len(people), "missing": missing}

    out = with_app(as_json, work)
    human = f"{out['quarter']}: {out['written']}/{out['total']} written" + "".join(
        f"\n  missing: #{m['participant_id']} (cadre {m['cadre_id'] or 'none'})" for m in out["missing"]
    )
    emit(as_json, out, human)


def _period_or_fail(as_json: bool, text: str) -> Any:
    from bot.domain.reports.period import PeriodError, parse_period

    try:
        return parse_period(text)
    except PeriodError as error:
        fail(as_json, str(error))


def report(
    unit: Annotated[str, typer.Option(help="Commune code, or a province code (one row per commune, no names).")],
    period_text: Annotated[
        str,
        typer.Option(
            "--period",
            help="YYYY-MM (a month), YYYY-QN (a quarter), YYYY (a year) or YYYY-MM-DD..YYYY-MM-DD; local days.",
        ),
    ],
    output: Annotated[str, typer.Option("--format", help="json (printed), xlsx or pdf (written to --out).")] = "json",
    out: Annotated[Path | None, typer.Option("--out", help="The file an xlsx or pdf report is written to.")] = None,
    language: Annotated[str, typer.Option(help="Language of an xlsx or pdf report: vi or en.")] = "vi",
    recount: Annotated[
        bool,
        typer.Option(
            "--recount",
            help="Count the trend's settled months again from the records (after corrections to old months).",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """A commune's or a province's report for a period: the figures and the plans' indicators.

    With --json (or --format json) one object: unit, period (from, to), counts, indicators (numerator, denominator,
    value, target) and, for a province, communes (one row each, no names). Xlsx and pdf print every definition."""
    if output not in ("json", "xlsx", "pdf"):
        fail(as_json, "--format must be json, xlsx or pdf")
    if output != "json" and out is None:
        fail(as_json, f"--format {output} writes a file: give --out FILE")
    if out is not None:
        writable(as_json, out)
    chosen = _period_or_fail(as_json, period_text)
    as_json = as_json or output == "json"

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from bot.services import reports

        tz = ZoneInfo(app.settings.timezone)
        async with app.store.transaction() as repos:
            found = await reports.unit_in_reach(repos, unit, None, op)
            made = await reports.build(
                repos, found, chosen, tz, app.clock.now(), trend=output != "json", recount=recount
            )
            await op.record(
                repos, "report_made", subject_type="unit", subject_id=found.id,
                detail={"period": chosen.label, "format": output},
            )  # fmt: skip
        if output == "json":
            return made.as_dict()
        from bot.documents.report import report_pdf, report_xlsx

        t = app.catalogs.translator(language, "staff")
        content = report_xlsx(made, t, zone=tz) if output == "xlsx" else report_pdf(made, t, zone=tz)
        assert out is not None
        write_private(out, content)
        return {"unit": made.unit.code, "period": made.period.as_dict(), "format": output, "out": str(out),
                "bytes": len(content)}  # fmt: skip

    result = with_app(as_json, work)
    if output == "json":
        emit(True, result, "")
        return
    emit(as_json, result, f"{result['unit']} {chosen.label}: {output} written to {result['out']}")


target_cli = typer.Typer(
    help="A province's own targets for the plans' indicators (defaults: the plans').", no_args_is_help=True
)


@target_cli.command("set")
def target_set(
    unit: Annotated[str, typer.Option(help="Province code.")],
    indicator: Annotated[str, typer.Option(help="Indicator name, e.g. accessed_services.")],
    value: Annotated[str, typer.Option(help="Target in percent (0-100), or 'none' for no target.")],
    as_json: JsonFlag = False,
) -> None:
    """Set one indicator's target for a province (its communes' reports use it)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services import reports

        async with app.store.transaction() as repos:
            found = await reports.unit_in_reach(repos, unit, None, op)
            chosen = reports.parse_target(value)
            await reports.set_targets(repos, found, {indicator: chosen}, None, op)
        return {"unit": found.code, "indicator": indicator, "target": chosen}

    out = with_app(as_json, work)
    emit(as_json, out, f"{out['unit']}: {out['indicator']} target {out['target']}")


@target_cli.command("list")
def target_list(
    unit: Annotated[str, typer.Option(help="Province or commune code.")],
    as_json: JsonFlag = False,
) -> None:
    """The targets a unit's reports use (the province's own, else the plans' defaults)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services import reports

        async with app.store.transaction() as repos:
            found = await reports.unit_in_reach(repos, unit, None, op)
            return {"unit": found.code, "targets": await reports.targets_of(repos, found)}

    out = with_app(as_json, work)
    emit(as_json, out, "\n".join(f"{name}\t{value}" for name, value in out["targets"].items()))


handover_cli = typer.Typer(
    help="People the rehabilitation facilities handed over to a commune: the 'managed' indicator's denominator.",
    no_args_is_help=True,
)


@handover_cli.command("set")
def handover_set(
    unit: Annotated[str, typer.Option(help="Commune code.")],
    month: Annotated[str, typer.Option(help="YYYY-MM: the month whose end the number describes.")],
    people: Annotated[int, typer.Option(help="How many people were handed over to the commune (0-100000).")],
    as_json: JsonFlag = False,
) -> None:
    """Record how many people the commune should have under management at a month's end (from the facilities'
    hand-over notices)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services import reports

        async with app.store.transaction() as repos:
            found = await reports.unit_in_reach(repos, unit, None, op)
            await reports.set_handed_over(repos, found, month, people, None, op)
        return {"unit": found.code, "month": month, "people": people}

    out = with_app(as_json, work)
    emit(as_json, out, f"{out['unit']} {out['month']}: {out['people']} handed over")
