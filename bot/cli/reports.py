"""What an officer reads about a commune: open alerts (`escalation list`), quarterly reviews (`review status`) and
referral figures for reports (`referral stats`). Nothing here changes a record."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import JsonFlag, emit, find_unit, local_time, period, with_app

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
