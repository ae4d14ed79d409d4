"""`aftercare unit` and `aftercare point`: provinces, communes and their community counselling points."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import JsonFlag, emit, find_unit, with_app

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

unit_cli = typer.Typer(help="Provinces and communes.", no_args_is_help=True)
point_cli = typer.Typer(help="Community counselling points.", no_args_is_help=True)


@unit_cli.command("add")
def unit_add(
    code: Annotated[str, typer.Option(help="Unit code, e.g. the official commune code.")],
    name: Annotated[str, typer.Option(help="Unit name, e.g. 'Phường Hà Đông'.")],
    parent: Annotated[str | None, typer.Option(help="Province code, for a commune.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a province (no --parent) or a commune/ward (--parent PROVINCE_CODE)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            unit = await app.enrolment(repos, op).add_unit(code, name, parent)
            return {
                "id": unit.id,
                "code": unit.code,
                "name": unit.name,
                "level": unit.level.value,
                "parent_id": unit.parent_id,
            }

    out = with_app(as_json, work)
    emit(as_json, out, f"{out['level']} {out['code']} ({out['name']}) added")


@unit_cli.command("set")
def unit_set(
    code: Annotated[str, typer.Option(help="Commune code.")],
    due_day: Annotated[int | None, typer.Option(help="Day of the month check-ins are due (1-28).")] = None,
    test_place: Annotated[str | None, typer.Option(help="Where tests take place, e.g. 'Trạm y tế phường'.")] = None,
    test_hours: Annotated[str | None, typer.Option(help="When, e.g. '7:30-10:30'.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set a commune's schedule: the check-in due day, and the place and hours announced for tests."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            unit = await find_unit(repos, code)
            unit = await repos.units.configure(unit.id, due_day=due_day, test_place=test_place, test_hours=test_hours)
            await op.record(repos, "unit_configured", subject_type="unit", subject_id=unit.id)
            return {
                "code": unit.code,
                "checkin_due_day": unit.checkin_due_day,
                "test_place": unit.test_place,
                "test_hours": unit.test_hours,
            }

    out = with_app(as_json, work)
    emit(as_json, out, f"{out['code']}: check-ins due on day {out['checkin_due_day']}")


@unit_cli.command("list")
def unit_list(as_json: JsonFlag = False) -> None:
    """List provinces and communes."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        async with app.store.transaction() as repos:
            return [
                {"id": u.id, "code": u.code, "name": u.name, "level": u.level.value, "parent_id": u.parent_id}
                for u in await repos.units.all()
            ]

    units = with_app(as_json, work)
    emit(as_json, {"units": units}, "\n".join(f"{u['code']}\t{u['level']}\t{u['name']}" for u in units))


@unit_cli.command("seed")
def unit_seed(
    province: Annotated[
        str, typer.Option(help="Province code or name, e.g. 01, 'Hà Nội', 'ha noi' (diacritics and 'Tỉnh' optional).")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be created; write nothing.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a province and all its communes, wards and special zones from the official list after the 2025 reform
    (vietnam-provinces): official codes ("01", "00070"), official names ("Phường Hà Đông"). Units already there are
    kept as they are; running it again adds nothing."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.seeding import seed_province

        async with app.store.transaction() as repos:
            return (await seed_province(repos, op, province, dry_run=dry_run)).as_dict()

    out = with_app(as_json, work)
    verb = "would be added" if dry_run else "added"
    also = f" (province {verb} too)" if out["province_created"] else ""
    human = (
        f"{out['province']} {out['name']}: {out['created']} commune(s) {verb}, {out['existing']} already there{also}"
    )
    emit(as_json, out, human)


@point_cli.command("list")
def point_list(
    unit: Annotated[str | None, typer.Option(help="Commune code (a province code: its communes too).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List community counselling points: unit, address, phone, hours and how many active counsellors."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        async with app.store.transaction() as repos:
            codes = {u.id: u.code for u in await repos.units.all()}
            unit_ids = await repos.units.with_communes((await find_unit(repos, unit)).id) if unit else None
            listed = []
            for p in await repos.points.listed(unit_ids):
                counsellors = len(await repos.staff.counsellors_of(p.id))
                listed.append(
                    {"id": p.id, "name": p.name, "unit": codes.get(p.unit_id), "address": p.address,
                     "phone": p.phone, "hours": p.hours, "counsellors": counsellors}
                )  # fmt: skip
            return listed

    points = with_app(as_json, work)
    human = "\n".join(
        f"{p['id']}\t{p['unit']}\t{p['name']}\t{p['hours'] or '(no fixed hours)'}\t{p['counsellors']} counsellor(s)"
        for p in points
    )
    emit(as_json, {"points": points}, human or "no counselling points")


@point_cli.command("add")
def point_add(
    unit: Annotated[str, typer.Option(help="Code of the commune (or province) the point serves.")],
    name: Annotated[str, typer.Option(help="Name of the counselling point.")],
    address: Annotated[str, typer.Option(help="Street address.")] = "",
    phone: Annotated[str, typer.Option(help="Phone number people can call.")] = "",
    hours: Annotated[
        str,
        typer.Option(help="Opening hours, e.g. 'T2-T6 7:30-11:30,13:30-17:00; T7 8:00-11:00' (empty: no fixed hours)."),
    ] = "",
    as_json: JsonFlag = False,
) -> None:
    """Add a community counselling point (Điểm tư vấn, chăm sóc, hỗ trợ điều trị nghiện)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            point = await app.enrolment(repos, op).add_point(unit, name, address, phone, hours)
            return {"id": point.id, "unit_id": point.unit_id, "name": point.name}

    out = with_app(as_json, work)
    emit(as_json, out, f"counselling point {out['id']} ({out['name']}) added")


@point_cli.command("hours")
def point_hours(
    point: Annotated[int, typer.Option("--id", help="Counselling point id.")],
    hours: Annotated[str, typer.Option(help="Opening hours, e.g. 'T2-T6 7:30-17:00; T7 8:00-11:00' (empty: none).")],
    as_json: JsonFlag = False,
) -> None:
    """Change a counselling point's opening hours (outside them, people are told when someone will answer)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            changed = await app.enrolment(repos, op).set_point_hours(point, hours)
            return {"id": changed.id, "hours": changed.hours}

    out = with_app(as_json, work)
    emit(as_json, out, f"counselling point {out['id']}: hours {out['hours'] or '(none)'}")
