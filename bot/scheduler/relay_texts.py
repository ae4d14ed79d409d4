"""How the messages of a conversation through the bot read when they are pushed.

The outbox holds only a reference; the words are read (and decrypted) here, at sending time, and only if the message
still belongs to the very conversation and recipient the row names: a purged, moved or mismatched message is skipped,
never shown to someone else. To the person, the counsellor is "Tư vấn viên"; with neutral wording the push says only
that there is a reply, and the words are one tap away.
"""

from __future__ import annotations

from bot.core.i18n import Translator
from bot.core.messages import Button, OutboundMessage
from bot.db.repositories.outbox import Claimed
from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, ActorKind, ParticipantScope, decide
from bot.domain.entities import Participant, StaffMember, Wording
from bot.domain.planning import MessageKind
from bot.flows import counsellor, relay
from bot.services.relay import name_for_counsellor

Rendered = OutboundMessage | str  # a str is the reason to skip


async def talking(repos: Repositories, item: Claimed) -> bool:
    """Whether the referral a row names is a conversation still going on."""
    referral = await repos.referrals.get(int(item.payload.get("referral_id", 0)))
    return referral is not None and referral.participant_id == item.participant_id and referral.conversation


async def taken(repos: Repositories, item: Claimed) -> bool:
    referral = await repos.referrals.get(int(item.payload.get("referral_id", 0)))
    return referral is not None and referral.participant_id == item.participant_id and referral.status == "accepted"


async def to_participant(repos: Repositories, t: Translator, person: Participant, item: Claimed) -> Rendered:
    referral = await repos.referrals.get(int(item.payload.get("referral_id", 0)))
    if referral is None or referral.participant_id != person.id:
        return "mismatch"
    if item.kind is MessageKind.RELAY_ENDED:
        return OutboundMessage(
            t._("The counsellor has ended the conversation. Whenever you need it, “Help / counselling” is in the menu.")
        )
    message = await repos.relay.get(int(item.payload.get("relay_id", 0)))
    if message is None:
        return "purged"
    if message.referral_id != referral.id or message.participant_id != person.id or message.sender != "counsellor":
        return "mismatch"
    if referral.relay_ended_at is not None and message.sent_at > referral.relay_ended_at:
        return "ended"  # never happens by the handlers; a last word before the end is still delivered
    buttons = (Button(t._("End the conversation"), relay.Verbs.END),) if referral.conversation else ()
    if person.wording is Wording.EXPLICIT:
        return OutboundMessage(f"💬 {t._('Counsellor')}: {message.body}", buttons, by_label=True)
    read = Button(t._("Read it"), relay.Verbs.READ)
    return OutboundMessage(t._("💬 You have a new message."), (read, *buttons), by_label=True)


async def to_staff(repos: Repositories, t: Translator, member: StaffMember, item: Claimed) -> Rendered:
    referral = await repos.referrals.get(int(item.payload.get("referral_id", 0)))
    if referral is None or referral.point_id is None or referral.point_id != member.point_id:
        return "mismatch"
    person = await repos.participants.get(referral.participant_id)
    if person is None:
        return "no_person"
    unit = await repos.units.get(person.unit_id)
    scope = ParticipantScope(person.id, person.unit_id, unit.parent_id if unit else None, person.cadre_id)
    actor = Actor(ActorKind.STAFF, member.id, member.role, member.unit_id)
    if not decide(actor, Action.HANDLE_REFERRAL, scope):  # moved to another commune since: not theirs any more
        return "out_of_scope"
    who = await name_for_counsellor(repos, t, person)
    see = Button(t._("See the referral"), counsellor.Verbs.OPEN(referral.id))
    if item.kind is MessageKind.RELAY_REQUEST:
        if referral.status != "requested" or not referral.conversation:
            return "taken"
        return OutboundMessage("\n".join([t._("Needs your attention:"), t._("{who} would like to talk with a "
                                          "counsellor in the chat.", who=who)]), (see,))  # fmt: skip
    if referral.counsellor_id != member.id:
        return "mismatch"
    if item.kind is MessageKind.RELAY_ENDED:
        return OutboundMessage(t._("{who} has ended the conversation. Please close the referral with its outcome.",
                                   who=who), (see,))  # fmt: skip
    message = await repos.relay.get(int(item.payload.get("relay_id", 0)))
    if message is None:
        return "purged"
    if message.referral_id != referral.id or message.sender != "participant":
        return "mismatch"
    reply = Button(t._("Reply"), counsellor.Verbs.CHAT(referral.id))
    return OutboundMessage("\n".join([t._("💬 New message:"), f"{who}: {message.body}"]), (reply,), by_label=True)
