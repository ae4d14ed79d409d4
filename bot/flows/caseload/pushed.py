"""What the cadre's list is pushed: the morning digest, a person newly assigned, and the officers' notice that a
closed account (or a cadre's new role or commune) left people without a cadre. Their buttons open a person's card.

Each is re-read when it goes out (nothing due, reassigned or reactivated since): nothing stale is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action
from bot.domain.planning import MessageKind, shown_before_due
from bot.flows import caseload
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered, Skip, label, may


async def digest(push: Push) -> Rendered:
    member, repos, t = push.member, push.repos, push.t
    if member is None:
        return WRONG_RECIPIENT
    day = date.fromisoformat(str(push.payload.get("day")))
    items = await repos.obligations.for_cadre(member.id, day - timedelta(days=31), day)
    today_lines: list[str] = []
    overdue_lines: list[str] = []
    missed_lines: list[str] = []
    names: dict[int, str] = {}
    for obligation, pid in items:
        if not shown_before_due(obligation.kind, obligation.due_on, day):
            continue
        if pid not in names:
            person = await repos.participants.get(pid)
            names[pid] = person.name if person else "—"
        line = t._(
            "• {name} (#{id}): {what}, {date}",
            name=names[pid],
            id=pid,
            what=t._(caseload.DUE_WHAT[obligation.kind]),
            date=push.date(obligation.due_on),
        )
        if obligation.status.value == "missed":
            missed_lines.append(line)
        elif obligation.due_on == day:
            today_lines.append(line)
        elif obligation.due_on < day:
            overdue_lines.append(line)
    if not (today_lines or overdue_lines or missed_lines):
        return Skip("nothing_due")
    lines = [t._("Good morning. Your list for {date}:", date=push.date(day))]
    for title, group in (
        (t._("Due today:"), today_lines),
        (t._("Overdue:"), overdue_lines),
        (t._("Missed:"), missed_lines),
    ):
        if group:
            lines += ["", title, *group]
    return OutboundMessage("\n".join(lines))


async def assignment(push: Push) -> Rendered:
    """To the cadre a person was assigned to, while they still are (the card it opens is theirs to see)."""
    repos, t = push.repos, push.t
    if push.member is None:
        return WRONG_RECIPIENT
    person = await repos.participants.get(int(push.payload.get("participant_id", 0)))
    if person is None or not await may(push, Action.VIEW_PARTICIPANT, person.id, person.unit_id, person.cadre_id):
        return Skip("not_in_scope")
    return OutboundMessage(
        "\n".join(
            [
                t._("For your list:"),
                t._("You now accompany {who}.", who=label(t, person)),
            ]
        ),
        (Button(t._("Open their card"), caseload.Verbs.OPEN(person.id)),),
    )


async def cadre_needed(push: Push) -> Rendered:
    """To the officers: re-read now (reactivated or reassigned since: nothing to say). With `people` in the payload
    the cadre's role or commune changed (bot/services/staff_changes.py) and those people were left without one."""
    member, repos, t = push.member, push.repos, push.t
    if member is None:
        return WRONG_RECIPIENT
    cadre = await repos.staff.get(int(push.payload.get("cadre_id", 0)))
    left = push.payload.get("people")
    if isinstance(left, list):
        wanted = {int(i) for i in left if isinstance(i, int)}
        people = [p for p in await repos.participants.followed(member.unit_id) if p.id in wanted and p.cadre_id is None]
    elif cadre is None or cadre.active:
        return Skip("reactivated")
    else:
        people = await repos.participants.followed(member.unit_id, cadre.id)
    if cadre is None or not people:
        return Skip("reassigned")
    if isinstance(left, list):
        text = t._(
            "{cadre} no longer accompanies anyone in this commune/ward (their role or unit changed). People left "
            "without a cadre: {n}.",
            cadre=cadre.name,
            n=len(people),
        )
    else:
        text = t.n_(
            "The account of {cadre} was closed. {n} person they accompanied needs a new cadre.",
            "The account of {cadre} was closed. {n} people they accompanied need a new cadre.",
            len(people),
            cadre=cadre.name,
        )
    return OutboundMessage(
        "\n".join([t._("For your list:"), text]),
        tuple(Button(label(t, p), caseload.Verbs.OPEN(p.id)) for p in people[:8]),
    )


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.DIGEST: digest,
    MessageKind.ASSIGNMENT: assignment,
    MessageKind.CADRE_NEEDED: cadre_needed,
}
