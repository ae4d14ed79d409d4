"""What a conversation through the bot pushes (RELAY, RELAY_ENDED: to whichever side the row names), and the
participant's news that a counsellor took their request.

The outbox holds only a reference; the words are read (and decrypted) here, at sending time, and only if the message
still belongs to the very conversation and recipient the row names: a purged, moved or mismatched message is skipped,
never shown to someone else. To the person, the counsellor is "Tư vấn viên" and their cadre "Người đồng hành"; with
neutral wording the push says only that there is a reply, and the words are one tap away. The counsellor's side is
worded by the counsellor's desk, the cadre's by `cadre.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.messages import Button, OutboundMessage, TypedBy
from bot.domain.entities import Wording
from bot.domain.planning import MessageKind
from bot.domain.referrals import CADRE_CONVERSATION
from bot.flows import counsellor, relay
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered, Skip
from bot.flows.relay import cadre
from bot.services.relay import CHANGED, staff_sender


async def relay_message(push: Push) -> Rendered:
    """A message of the conversation, or its end, to the person; to the counsellor, as their desk words it; to a
    cadre, as their side of the conversation words it."""
    person, repos, t, item = push.participant, push.repos, push.t, push.item
    if person is None:
        referral = await repos.referrals.get(int(item.payload.get("referral_id", 0)))
        if referral is not None and referral.kind == CADRE_CONVERSATION:
            return await cadre.pushed_to_cadre(push, referral)
        return await counsellor.pushed.relay_message(push)
    referral = await repos.referrals.get(int(item.payload.get("referral_id", 0)))
    if referral is None or referral.participant_id != person.id:
        return Skip("mismatch")
    with_cadre = referral.kind == CADRE_CONVERSATION
    if item.kind is MessageKind.RELAY_ENDED:
        return OutboundMessage(_ended(push, with_cadre))
    message = await repos.relay.get(int(item.payload.get("relay_id", 0)))
    if message is None:
        return Skip("purged")
    if (
        message.referral_id != referral.id
        or message.participant_id != person.id
        or message.sender != staff_sender(referral)
    ):
        return Skip("mismatch")
    if referral.relay_ended_at is not None and message.sent_at > referral.relay_ended_at:
        return Skip("ended")  # never happens by the handlers; a last word before the end is still delivered
    # A conversation with a cadre names itself on its buttons (with a counsellor's going on too, each acts on its own).
    end = relay.Verbs.END(referral.id) if with_cadre else relay.Verbs.END
    buttons = (Button(t._("End the conversation"), end),) if referral.relaying else ()
    if person.wording is Wording.EXPLICIT:
        who = t._("Person accompanying you") if with_cadre else t._("Counsellor")
        return OutboundMessage(f"💬 {who}: {message.body}", buttons, typed_by=TypedBy.NAME)
    read = Button(t._("Read it"), relay.Verbs.READ(referral.id) if with_cadre else relay.Verbs.READ)
    return OutboundMessage(t._("💬 You have a new message."), (read, *buttons), typed_by=TypedBy.NAME)


def _ended(push: Push, with_cadre: bool) -> str:
    """Who ended the conversation, as the person calls them; with their cadre, how to write again."""
    t = push.t
    if not with_cadre:
        return t._(
            "The counsellor has ended the conversation. Whenever you need it, “Help / counselling” is in the menu."
        )
    label = t._("Message the person accompanying you")
    if push.payload.get("by") == CHANGED:
        return t._("The person accompanying you has changed, so this conversation has ended. Whenever you need to, "
                   "“{label}” is in the menu.", label=label)  # fmt: skip
    return t._("The person accompanying you has ended the conversation. Whenever you need to, “{label}” is in the "
               "menu.", label=label)  # fmt: skip


async def referral_accepted(push: Push) -> Rendered:
    """A counsellor took the person's request: in a conversation still going on they answer here."""
    person, t = push.participant, push.t
    if person is None:
        return WRONG_RECIPIENT
    referral = await push.repos.referrals.get(int(push.payload.get("referral_id", 0)))
    if referral is None or referral.participant_id != person.id or referral.status != "accepted":
        return Skip("not_taken")  # handed over to another point since
    if referral.relaying:
        return OutboundMessage(
            t._("A counsellor has joined your conversation and will answer you here."),
            (Button(t._("End the conversation"), relay.Verbs.END),),
            typed_by=TypedBy.NAME,
        )
    return OutboundMessage(
        t._(
            "A counsellor at your counselling point has taken your request. To reach the point, its "
            "details are under “Help / counselling”."
        )
    )


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.RELAY: relay_message,
    MessageKind.RELAY_ENDED: relay_message,
    MessageKind.REFERRAL_ACCEPTED: referral_accepted,
}
