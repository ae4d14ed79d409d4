"""`aftercare staff`: cadres, counsellors, officers and admins: add, invite again, close and reopen accounts, a
console link for the first admin, and an admin's authenticator key cleared."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import JsonFlag, LanguageChoice, emit, local_time, with_app
from bot.cli.invites import RevokeChats, invite_out, issue, reissued
from bot.domain.entities import Role

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

staff_cli = typer.Typer(help="Cadres, counsellors, officers and admins.", no_args_is_help=True)


@staff_cli.command("add")
def staff_add(
    name: Annotated[str, typer.Option(help="Display name shown to the people they work with.")],
    role: Annotated[Role, typer.Option(help="cadre, counsellor, officer or admin.")],
    unit: Annotated[str, typer.Option(help="Commune code (province code for an admin).")],
    point: Annotated[int | None, typer.Option(help="Counselling point id (counsellors only).")] = None,
    language: Annotated[LanguageChoice, typer.Option(help="Language of their chat.")] = LanguageChoice.vi,
    as_json: JsonFlag = False,
) -> None:
    """Add a staff member and print their one-time invite code."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            member, invite = await app.enrolment(repos, op).add_staff(name, role, unit, point, language.value)
            out = invite_out(member.id, invite.code, invite.expires_at, role=member.role.value)
        return out

    issue(as_json, work)


@staff_cli.command("invite")
def staff_invite(
    staff_id: Annotated[int, typer.Option("--id", help="Staff member id.")],
    revoke_chats: RevokeChats = False,
    as_json: JsonFlag = False,
) -> None:
    """Issue a new invite code for a staff member; their previous unused code stops working. Their linked chats keep
    working unless --revoke-chats (the output says how many remain linked)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        async with app.store.transaction() as repos:
            invite = await app.enrolment(repos, op).issue_staff_invite(staff_id, revoke_chats=revoke_chats)
            out = reissued(staff_id, invite)
        return out

    issue(as_json, work)


@staff_cli.command("deactivate")
def staff_deactivate(
    staff_id: Annotated[int, typer.Option("--id", help="Staff member id.")], as_json: JsonFlag = False
) -> None:
    """Close a staff member's account at once: every chat unlinked (their next message or button press reaches
    nothing), unused invite codes revoked, nothing queued for them sent. A cadre's people stay listed and the
    commune's officers are told they need a new cadre; a counsellor's taken referrals wait again at their point."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.access import deactivate_staff

        async with app.store.transaction() as repos:
            return (await deactivate_staff(repos, staff_id, op, app.clock.now())).as_dict()

    out = with_app(as_json, work)
    human = (
        f"staff {out['staff_id']} deactivated: {out['unlinked_chats']} chat(s) unlinked, {out['cancelled']} queued "
        f"message(s) cancelled, {out['alerts_to_officers']} waiting alert(s) sent to the commune's officers, "
        f"{len(out['people_without_cadre'])} person(s) need a new cadre, "
        f"{len(out['referrals_released'])} referral(s) back at the counselling point"
    )
    emit(as_json, out, human)


@staff_cli.command("activate")
def staff_activate(
    staff_id: Annotated[int, typer.Option("--id", help="Staff member id.")], as_json: JsonFlag = False
) -> None:
    """Reopen a deactivated account. No chat comes back: issue a new invite (`aftercare staff invite --id`)."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.access import activate_staff

        async with app.store.transaction() as repos:
            linked = await activate_staff(repos, staff_id, op)
        return {"staff_id": staff_id, "active": True, "linked_chats": linked}

    out = with_app(as_json, work)
    emit(as_json, out, f"staff {out['staff_id']} active again; send them a new invite to link a chat")


@staff_cli.command("login-link")
def staff_login_link(
    staff_id: Annotated[int, typer.Option("--id", help="Staff member id.")], as_json: JsonFlag = False
) -> None:
    """Print a one-time link into the staff console (valid 10 minutes, one use): for the first admin, whose chat is
    not linked yet; everyone else asks the bot (/login). The link is AFTERCARE_PUBLIC_URL or http://HOST:PORT plus
    /console/login/<token>; give it to that person only."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services import signin

        settings = app.settings
        base = signin.base_url(settings.public_url, settings.http_host, settings.http_port)
        async with app.store.transaction() as repos:
            link = await signin.issue_link(repos, app.store.keyring.token_key, app.clock, staff_id, base)
            await op.record(repos, "login_link_issued", subject_type="staff", subject_id=staff_id)
        return {"url": link.url, "expires_at": link.expires_at.isoformat()}

    out = with_app(as_json, work)
    emit(as_json, out, f"{out['url']}\n(valid until {local_time(out['expires_at'])}, one use)")


@staff_cli.command("reset-second-factor")
def staff_reset_second_factor(
    staff_id: Annotated[int, typer.Option("--id", help="Staff member id.")], as_json: JsonFlag = False
) -> None:
    """Clear an admin's authenticator key (a lost or replaced phone): their next console sign-in shows a new QR code
    to scan; their open console sessions and unspent sign-in links end now. A lost phone holds their chat too:
    also run `staff invite --id ID --revoke-chats`. Audited."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services import signin

        async with app.store.transaction() as repos:
            reset = await signin.reset_second_factor(repos, app.clock.now(), staff_id)
            detail = {
                "had_secret": reset.had_secret,
                "ended_sessions": reset.ended_sessions,
                "revoked_links": reset.revoked_links,
            }
            await op.record(repos, "second_factor_reset", subject_type="staff", subject_id=staff_id, detail=detail)
        return {"staff_id": staff_id, **detail}

    out = with_app(as_json, work)
    human = (
        f"staff {out['staff_id']}: authenticator key cleared; their next sign-in sets up a new one "
        f"({out['ended_sessions']} console session(s) ended, {out['revoked_links']} unspent link(s) revoked)"
    )
    emit(as_json, out, human)


@staff_cli.command("list")
def staff_list(
    unit: Annotated[str | None, typer.Option(help="Unit code (a province code: its communes too).")] = None,
    role: Annotated[Role | None, typer.Option(help="cadre, counsellor, officer or admin.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List staff accounts, closed ones too: id, name, role, unit, counselling point, active, linked chats."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        from bot.cli.common import find_unit

        async with app.store.transaction() as repos:
            codes = {u.id: u.code for u in await repos.units.all()}
            unit_ids = await repos.units.with_communes((await find_unit(repos, unit)).id) if unit else None
            listed = [
                {"id": m.id, "name": m.name, "role": m.role.value, "unit": codes.get(m.unit_id), "point": m.point_id,
                 "active": m.active, "linked_chats": await repos.identities.count_of(staff_id=m.id)}
                for m in await repos.staff.listed(unit_ids, role)
            ]  # fmt: skip
            await op.record(repos, "staff_listed", detail={"count": len(listed)})
            return listed

    members = with_app(as_json, work)
    human = "\n".join(
        f"{m['id']}\t{m['role']}\t{m['unit']}\t{m['name']}" + ("" if m["active"] else "\t(closed)")
        + f"\t{m['linked_chats']} chat(s)"
        for m in members
    )  # fmt: skip
    emit(as_json, {"staff": members}, human or "no staff")
