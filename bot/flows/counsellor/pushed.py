"""What the counsellor's desk is pushed: someone asks to talk, a message of a conversation (or its end), and the
urgent referral after a crisis message (which, when no counsellor takes or answers it, wakes the officers).

A referral's messages reach a counsellor only while the referral is their point's and the person is still in their
commune (the authorisation table's answer, asked now); the words of a conversation are read at sending time and only
if they still belong to the very conversation and counsellor the row names.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.messages import Button, OutboundMessage, TypedBy
from bot.db.repositories.referrals import Referral
from bot.domain.authz import Action
from bot.domain.entities import Participant
from bot.domain.planning import MessageKind
from bot.flows import counsellor, inbox
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered, Skip, label, may, subject
from bot.services.crisis import Alerted
from bot.services.relay import name_for_counsellor


async def _theirs(push: Push) -> tuple[Referral, Participant] | Skip:
    """The row's referral and person, if the referral is the recipient's point's and the person in their scope."""
    member, repos = push.member, push.repos
    if member is None:
        return WRONG_RECIPIENT
    referral = await repos.referrals.get(int(push.payload.get("referral_id", 0)))
    if referral is None or referral.point_id is None or referral.point_id != member.point_id:
        return Skip("mismatch")
    person = await repos.participants.get(referral.participant_id)
    if person is None:
        return Skip("no_person")
    if not await may(push, Action.HANDLE_REFERRAL, person.id, person.unit_id, person.cadre_id):
        return Skip("out_of_scope")  # moved to another commune since: not theirs any more
    return referral, person


async def relay_request(push: Push) -> Rendered:
    found = await _theirs(push)
    if isinstance(found, Skip):
        return found
    referral, person = found
    t = push.t
    if referral.status != "requested" or not referral.relaying:
        return Skip("taken")
    named = await name_for_counsellor(push.repos, t, person)
    see = Button(t._("See the referral"), counsellor.Verbs.OPEN(referral.id))
    return OutboundMessage("\n".join([t._("Needs your attention:"), t._("{who} would like to talk with a "
                                      "counsellor in the chat.", who=named)]), (see,))  # fmt: skip


async def relay_message(push: Push) -> Rendered:
    """The counsellor's side of RELAY and RELAY_ENDED (the relay flow owns the kinds)."""
    found = await _theirs(push)
    if isinstance(found, Skip):
        return found
    referral, person = found
    member, repos, t, item = push.member, push.repos, push.t, push.item
    assert member is not None
    if referral.counsellor_id != member.id:
        return Skip("mismatch")
    named = await name_for_counsellor(repos, t, person)
    if item.kind is MessageKind.RELAY_ENDED:
        see = Button(t._("See the referral"), counsellor.Verbs.OPEN(referral.id))
        return OutboundMessage(t._("{who} has ended the conversation. Please close the referral with its outcome.",
                                   who=named), (see,))  # fmt: skip
    message = await repos.relay.get(int(item.payload.get("relay_id", 0)))
    if message is None:
        return Skip("purged")
    if message.referral_id != referral.id or message.sender != "participant":
        return Skip("mismatch")
    reply = Button(t._("Reply"), counsellor.Verbs.CHAT(referral.id))
    return OutboundMessage(
        "\n".join([t._("💬 New message:"), f"{named}: {message.body}"]), (reply,), typed_by=TypedBy.NAME
    )


async def crisis_alert(push: Push) -> Rendered:
    """The urgent referral after a crisis message: to the commune's counsellors, one after another until one takes
    it; to the officers when nobody can or did (`to: officer`), or when the counsellor who took it has not answered
    (`to: unanswered`). Each is re-checked now: nobody is woken for a referral closed or taken since."""
    member, repos, t, item = push.member, push.repos, push.t, push.item
    if member is None:
        return WRONG_RECIPIENT
    person = await subject(push)
    if isinstance(person, Skip):
        return person
    named = label(t, person)
    referral = await repos.referrals.get(int(item.payload.get("referral_id", 0)))
    if referral is None or referral.status == "closed":
        return Skip("closed")
    unanswered = item.payload.get("to") == "unanswered"
    if referral.status == "accepted" and not unanswered and referral.counsellor_id != member.id:
        return Skip("taken")  # someone took it since: nobody else is woken
    if unanswered:
        if referral.status != "accepted" or not await repos.relay.unanswered_since(
            referral.id, str(item.payload.get("since", ""))
        ):
            return Skip("answered")
        return inbox.pushed.crisis_unanswered(push, named)
    if item.payload.get("to") == "officer":
        return await inbox.pushed.crisis_to_officer(push, named, person)
    return await _to_counsellor(push, person, referral.id)


async def _to_counsellor(push: Push, person: Participant, referral_id: int) -> OutboundMessage:
    """To the commune's counsellors: the name only if the person consented to referrals, else their code; who
    else was alerted as decided when the round's rows were queued (a later counsellor's row reads the round's)."""
    repos, t = push.repos, push.t
    named = await name_for_counsellor(repos, t, person)
    raw = push.payload.get("alerted")
    if raw is None:
        raw = await repos.outbox.latest_payload(f"crisis:{referral_id}:", "alerted")
    alerted = Alerted.from_payload(raw)
    lines = [
        t._("Urgent:"),
        t._(
            "{who} may be in crisis and was given the emergency numbers. An urgent counselling referral is open.",
            who=named,
        ),
    ]
    if alerted is not None:
        lines += await inbox.pushed.others_alerted(push, alerted.told)
    return OutboundMessage("\n".join(lines), (Button(t._("See the referral"), counsellor.Verbs.OPEN(referral_id)),))


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.RELAY_REQUEST: relay_request,
    MessageKind.CRISIS_ALERT: crisis_alert,
}
