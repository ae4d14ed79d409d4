"""What a conversation through the bot pushes (RELAY, RELAY_ENDED: to whichever side the row names), and the
participant's news that a counsellor took their request.

The outbox holds only a reference; the words are read (and decrypted) here, at sending time, and only if the message
still belongs to the very conversation and recipient the row names: a purged, moved or mismatched message is skipped,
never shown to someone else. To the person, the counsellor is "Tư vấn viên"; with neutral wording the push says only
that there is a reply, and the words are one tap away. The counsellor's side is worded by the counsellor's desk.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.messages import Button, OutboundMessage, TypedBy
from bot.domain.entities import Wording
from bot.domain.planning import MessageKind
from bot.flows import counsellor, relay
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered, Skip


async def relay_message(push: Push) -> Rendered:
    """A message of the conversation, or its end, to the person; to the counsellor, as their desk words it."""
    person, repos, t, item = push.participant, push.repos, push.t, push.item
    if person is None:
        return await counsellor.pushed.relay_message(push)
    referral = await repos.referrals.get(int(item.payload.get("referral_id", 0)))
    if referral is None or referral.participant_id != person.id:
        return Skip("mismatch")
    if item.kind is MessageKind.RELAY_ENDED:
        return OutboundMessage(
            t._("The counsellor has ended the conversation. Whenever you need it, “Help / counselling” is in the menu.")
        )
    message = await repos.relay.get(int(item.payload.get("relay_id", 0)))
    if message is None:
        return Skip("purged")
    if message.referral_id != referral.id or message.participant_id != person.id or message.sender != "counsellor":
        return Skip("mismatch")
    if referral.relay_ended_at is not None and message.sent_at > referral.relay_ended_at:
        return Skip("ended")  # never happens by the handlers; a last word before the end is still delivered
    buttons = (Button(t._("End the conversation"), relay.Verbs.END),) if referral.relaying else ()
    if person.wording is Wording.EXPLICIT:
        return OutboundMessage(f"💬 {t._('Counsellor')}: {message.body}", buttons, typed_by=TypedBy.NAME)
    read = Button(t._("Read it"), relay.Verbs.READ)
    return OutboundMessage(t._("💬 You have a new message."), (read, *buttons), typed_by=TypedBy.NAME)


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
