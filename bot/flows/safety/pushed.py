"""What the safety check pushes: to a person who did not answer "are you safe?" in time, once the planner has
escalated it like a crisis, who will reach out to them.

Discreet: it may show on a lock screen, so it says nothing of a crisis, a question about safety or anything else
personal — only that someone they know will be in touch. Truthful: the people named are the ones the alerts went to,
as decided when they were queued (the payload's "alerted", the same record the alerts themselves read), never
recomputed; with nobody reached it says so, and how to find the numbers to call.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.messages import OutboundMessage
from bot.domain.planning import MessageKind
from bot.flows import support
from bot.flows.flow import as_number
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered, Skip
from bot.services.crisis import Alerted


async def follow_up(push: Push) -> Rendered:
    person, t = push.participant, push.t
    if person is None:
        return WRONG_RECIPIENT
    check_id = as_number(push.payload.get("check_id"))
    check = await push.repos.safety.get(check_id) if check_id is not None else None
    if check is None or check.participant_id != person.id:
        return Skip("mismatch")
    alerted = Alerted.from_payload(push.payload.get("alerted"))
    whom = support.whom_alerted(t, alerted) if alerted is not None else None
    counsellors = alerted is not None and alerted.counsellors > 0
    if counsellors and whom is not None:
        told = t._("I have not heard back from you, so I have asked a counsellor and {whom} to get in touch with you.",
                   whom=whom)  # fmt: skip
    elif counsellors:
        told = t._("I have not heard back from you, so I have asked a counsellor to get in touch with you here.")
    elif whom is not None:
        told = t._("I have not heard back from you, so I have asked {whom} to get in touch with you.", whom=whom)
    else:
        told = t._("I have not heard back from you, and I could not reach anyone through the assistant. Type “help” "
                   "at any time to see the numbers to call.")  # fmt: skip
    return OutboundMessage("\n".join([told, t._("You can write to me here at any time.")]))


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.SAFETY_FOLLOW_UP: follow_up,
}
