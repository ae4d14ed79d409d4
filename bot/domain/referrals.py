"""The words of a referral (a request for help routed to a counselling point) as the database stores them."""

from __future__ import annotations

from enum import StrEnum

# A referral row of this kind is not a request for help but a participant's conversation with their own cadre
# ("Nhắn người đồng hành"), kept in the same rows as a conversation with a counsellor (bot/services/relay.py): taken
# at once by the assigned cadre (counsellor_id holds them), no counselling point, never urgent, never counted in
# reports, closed (outcome "ended") when either side, a reassignment, a move or a closed account ends it.
CADRE_CONVERSATION = "cadre"


class ReferralStatus(StrEnum):
    """Where a referral is: waiting at its point, taken by one counsellor, or closed with an outcome."""

    REQUESTED = "requested"  # waiting for a counsellor of its point (again, after a hand-over or a release)
    ACCEPTED = "accepted"  # one counsellor took it
    CLOSED = "closed"  # with an outcome (the counsellor's, or "withdrawn" by the person)


class ReferralEvent(StrEnum):
    """An entry of a referral's history (ReferralEventRow.status): its changes of status and what reports count."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    CLOSED = "closed"  # stored as "closed:<outcome>"
    URGENT = "urgent"  # a crisis episode: the urgent clock (re)starts here
    HANDED_OVER = "handed_over"  # the person moved commune: it waits at the new point
    RELEASED = "released"  # the counsellor's account was closed: it waits again at its point
    RELAY_STARTED = "relay_started"
    RELAY_ENDED = "relay_ended"
    FIRST_REPLY = "first_reply"
