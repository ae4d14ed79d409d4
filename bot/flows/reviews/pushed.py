"""What the quarterly review pushes: the cadre's reviews to write, and the officers' notice of those missing after
the deadline. Counted when they go out: all written since, nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from bot.core.messages import Button, OutboundMessage
from bot.domain.planning import MessageKind
from bot.flows import reviews
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered, Skip


async def review_request(push: Push) -> Rendered:
    member, repos, t, payload = push.member, push.repos, push.t, push.payload
    if member is None:
        return WRONG_RECIPIENT
    quarter = str(payload.get("quarter"))
    people = await repos.participants.followed(member.unit_id, member.id)
    missing = len(people) - len(await repos.fieldwork.reviewed(quarter, [p.id for p in people]))
    if missing <= 0:
        return Skip("written")
    year, q = quarter.split("-Q")
    text = "\n".join(
        [
            t._("For your list:"),
            t.n_(
                "Quarterly review for quarter {q}/{year}: {n} person still needs your assessment (due {date}).",
                "Quarterly review for quarter {q}/{year}: {n} people still need your assessment (due {date}).",
                missing,
                q=q,
                year=year,
                date=push.date(date.fromisoformat(str(payload.get("due")))),
            ),
        ]
    )
    return OutboundMessage(text, (Button(t._("Quarterly review"), reviews.Verbs.START),))


async def reviews_missing(push: Push) -> Rendered:
    member, repos, t, payload = push.member, push.repos, push.t, push.payload
    if member is None:
        return WRONG_RECIPIENT
    quarter = str(payload.get("quarter"))
    people = await repos.participants.followed(member.unit_id)
    done = await repos.fieldwork.reviewed(quarter, [p.id for p in people])
    missing = [p for p in people if p.id not in done]
    if not missing:
        return Skip("written")
    year, q = quarter.split("-Q")
    text = "\n".join(
        [
            t._("For your attention:"),
            t.n_(
                "The quarterly review for quarter {q}/{year} is past its deadline; {n} assessment is missing.",
                "The quarterly review for quarter {q}/{year} is past its deadline; {n} assessments are missing.",
                len(missing),
                q=q,
                year=year,
            ),
        ]
    )
    return OutboundMessage(text, (Button(t._("Quarterly review"), reviews.Verbs.START),))


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.REVIEW_REQUEST: review_request,
    MessageKind.REVIEWS_MISSING: reviews_missing,
}
