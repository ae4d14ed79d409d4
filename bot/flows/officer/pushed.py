"""What the officer's desk is pushed: a cadre's report to confirm, a record handed over to their commune, and a
person to list for completion. Reports and hand-overs are re-checked when they go out: decided since, or no longer
their commune's, they are not sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from bot.core.messages import Button, OutboundMessage
from bot.domain.authz import Action
from bot.domain.planning import MessageKind
from bot.flows import officer
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered, Skip, label, may, subject


async def field_report(push: Push) -> Rendered:
    repos, t = push.repos, push.t
    if push.member is None:
        return WRONG_RECIPIENT
    report = await repos.fieldwork.report(int(push.payload.get("report_id", 0)))
    if (
        report is None
        or report.status.value != "pending"
        or not await may(push, Action.CONFIRM_REPORT, report.participant_id, report.unit_id)
    ):
        return Skip("decided")
    return OutboundMessage(
        "\n".join([t._("For your confirmation:"), t._("A cadre reported a change for someone on your list.")]),
        (Button(t._("See and confirm"), officer.Verbs.REPORT(report.id)),),
    )


async def transfer_notice(push: Push) -> Rendered:
    """To the receiving commune's officers (the record is arriving there: the table is asked with that commune)."""
    repos, t = push.repos, push.t
    if push.member is None:
        return WRONG_RECIPIENT
    transfer = await repos.fieldwork.transfer(int(push.payload.get("transfer_id", 0)))
    if (
        transfer is None
        or transfer.status.value != "pending"
        or not await may(push, Action.ACCEPT_TRANSFER, transfer.participant_id, transfer.to_unit_id)
    ):
        return Skip("decided")
    return OutboundMessage(
        "\n".join([t._("For your list:"), t._("A record is being handed over to your commune.")]),
        (Button(t._("See the hand-over notice"), officer.Verbs.TRANSFER(transfer.id)),),
    )


async def completion_notice(push: Push) -> Rendered:
    """Someone's term ended: the officer prepares the completion record."""
    if push.member is None:
        return WRONG_RECIPIENT
    person = await subject(push)
    if isinstance(person, Skip):
        return person
    t = push.t
    end = date.fromisoformat(str(push.payload.get("end")))
    return OutboundMessage(
        "\n".join(
            [
                t._("For your list:"),
                t._(
                    "{who} reached the end of their term on {date}. Please prepare the completion record (Mẫu 54).",
                    who=label(t, person),
                    date=push.date(end),
                ),
            ]
        )
    )


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.FIELD_REPORT: field_report,
    MessageKind.TRANSFER_NOTICE: transfer_notice,
    MessageKind.COMPLETION_NOTICE: completion_notice,
}
