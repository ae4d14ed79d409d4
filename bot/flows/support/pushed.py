"""What a request for help pushes to the staff who hear of it (the person's cadre, else the commune's officers, as
the request decided): who asked and for what. The request and its payload are made in this flow (`ask_for`).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.i18n import Translator
from bot.core.messages import Button, OutboundMessage
from bot.domain.planning import MessageKind
from bot.flows import caseload, support
from bot.flows.pushing import WRONG_RECIPIENT, Push, PushRenderer, Rendered, Skip, label, subject
from bot.services.support_requests import CHECKIN_NEEDS


async def referral_notice(push: Push) -> Rendered:
    if push.member is None:
        return WRONG_RECIPIENT
    person = await subject(push)
    if isinstance(person, Skip):
        return person
    t, payload = push.t, push.payload
    named = label(t, person)
    kind = str(payload.get("kind", "counselling"))
    if payload.get("point") is False:  # decided when the request was made: nobody at a point sees it
        return OutboundMessage("\n".join([t._("Needs your attention:"), _no_point_request(t, named, kind)]),
                               (Button(t._("Open their card"), caseload.Verbs.OPEN(person.id)),))  # fmt: skip
    if kind == "counselling":
        asked = t._(
            "{who} would like to talk to a counsellor. Please help them get in touch with the counselling point.",
            who=named,
        )
    elif payload.get("source") == CHECKIN_NEEDS:
        asked = t._(
            "{who} said in their monthly check-in that they need support: {what}. Please help them get in touch "
            "with the counselling point.",
            who=named,
            what=t._(support.NEUTRAL_KINDS.get(kind, support.NEUTRAL_KINDS["papers"])),
        )
    else:
        asked = t._(
            "{who} asked for support: {what}. Please help them get in touch with the counselling point.",
            who=named,
            what=t._(support.NEUTRAL_KINDS.get(kind, support.NEUTRAL_KINDS["papers"])),
        )
    return OutboundMessage("\n".join([t._("Needs your attention:"), asked]))


def _no_point_request(t: Translator, named: str, kind: str) -> str:
    if kind == "counselling":
        return t._(
            "{who} would like to talk to a counsellor, but there is no counselling point in your commune yet, "
            "so no counsellor has been told. Please help them find one; the hotlines are in their “Help” menu.",
            who=named,
        )
    return t._(
        "{who} asked for support: {what}. There is no counselling point in your commune yet, so nobody else has "
        "been told: please take it up with them, or pass it on to someone who can help.",
        who=named,
        what=t._(support.NEUTRAL_KINDS.get(kind, support.NEUTRAL_KINDS["papers"])),
    )


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.REFERRAL_NOTICE: referral_notice,
}
