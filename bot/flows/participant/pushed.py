"""What the participant's home pushes: the goodbye when their term has ended (reminders stop then)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.messages import OutboundMessage
from bot.domain.planning import MessageKind
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered


async def completion(push: Push) -> Rendered:
    person, t = push.participant, push.t
    if person is None:
        return WRONG_RECIPIENT
    end = person.completed_on or person.expected_end
    text = "\n\n".join(
        [
            t._("Your time with Đồng Hành ended on {date}.", date=push.date(end)),
            t._(
                "Thank you for walking this road with us. Reminders stop now; your commune will complete the "
                "paperwork with you. We wish you and your family well."
            ),
        ]
    )
    return OutboundMessage(text)


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.COMPLETION: completion,
}
