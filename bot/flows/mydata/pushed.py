"""What a person's data requests push: to the officers, a new request and one past its deadline (the province's
admins hear of that too); to the person, their approved copy and the answer to a declined request or a correction.

Lock screens: the person's messages say only "your copy is ready" or "about your request" — nothing of what the
record is about; staff notices start with a neutral line. The copy is made now, from the database as it is, and never
stored: on a channel that takes files (Telegram) a PDF and the JSON, then the text (the files made outside the database
transaction; delivered and the export audited only once the platform accepted them); elsewhere a one-time link (its
token's hash kept, valid `Links.valid_for_hours`, one download) served by the web app at /copy/<token>.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import structlog

from bot.core.channel_names import SIMULATOR, TAKES_FILES
from bot.core.messages import Document, OutboundMessage
from bot.db.repositories.data_requests import DataRequest
from bot.domain.authz import Action
from bot.domain.data_requests import RequestKind, RequestStatus, link_hash, new_link_token
from bot.domain.planning import MessageKind
from bot.flows.pushing import (
    WRONG_RECIPIENT,
    Push,
    PushRenderer,
    Rendered,
    Sent,
    SentHook,
    Skip,
    label,
    may,
    subject,
)
from bot.services import data_requests, personal_export

log = structlog.get_logger(__name__)


async def _request_of(push: Push) -> DataRequest | None:
    raw = push.payload.get("request_id")
    return await push.repos.data_requests.get(int(raw)) if isinstance(raw, int) else None


def _what(push: Push, kind: RequestKind) -> str:
    t = push.t
    return t._("a copy of their data") if kind is RequestKind.COPY else t._("a correction of their record")


async def _undecided(push: Push, action: Action) -> tuple[Any, Any] | Rendered:
    """The staff push's request, still undecided, and its person in the recipient's reach for `action`; else why
    not (a Skip, or the wrong-recipient message)."""
    request = await _request_of(push)
    if push.member is None:
        return WRONG_RECIPIENT
    if request is None or request.status is not RequestStatus.PENDING:
        return Skip("decided")
    person = await subject(push)
    if isinstance(person, Skip):
        return person
    if not await may(push, action, person.id, person.unit_id, person.cadre_id):
        return Skip("out_of_scope")
    return request, person


async def new_request(push: Push) -> Rendered:
    """To an officer: a request to decide in the console, by its deadline."""
    found = await _undecided(push, Action.DECIDE_DATA_REQUEST)
    if not isinstance(found, tuple):
        return found
    request, person = found
    t = push.t
    text = "\n".join([
        t._("A new request is waiting for you in the console."),
        t._("{person} asked for {what}. Please decide by {date} (console: Requests).", person=label(t, person),
            what=_what(push, request.kind), date=push.date(request.due_at.astimezone(push.tz).date())),
    ])  # fmt: skip
    return OutboundMessage(text)


async def overdue(push: Push) -> Rendered:
    """To the officers and the province's admins, once: a request past its deadline without a decision."""
    found = await _undecided(push, Action.VIEW_PARTICIPANT)
    if not isinstance(found, tuple):
        return found
    request, person = found
    t = push.t
    text = "\n".join([
        t._("A request is past its deadline."),
        t._("{person} asked on {asked} for {what}; it was due by {due} and is not decided yet. The commune's officer "
            "decides it in the console (Requests).", person=label(t, person), what=_what(push, request.kind),
            asked=push.date(request.requested_at.astimezone(push.tz).date()),
            due=push.date(request.due_at.astimezone(push.tz).date())),
    ])  # fmt: skip
    return OutboundMessage(text)


async def copy(push: Push) -> Rendered:
    """To the person: their approved copy, made now (files on Telegram, a one-time link elsewhere)."""
    person, t = push.participant, push.t
    if person is None:
        return WRONG_RECIPIENT
    request = await _request_of(push)
    if request is None or request.participant_id != person.id or request.status is not RequestStatus.APPROVED:
        return Skip("stale")
    ready = t._("Your copy of your data is ready.")
    data = await personal_export.gather(push.repos, person.id, push.now, push.tz)
    if push.channel in TAKES_FILES:
        now, zone = push.now, push.tz

        async def make() -> tuple[Document, ...]:  # by the dispatcher, outside the rendering transaction
            made = await personal_export.files(data, zone)
            return (
                Document(personal_export.file_name(person.id, now, "pdf"), made.pdf, "application/pdf"),
                Document(personal_export.file_name(person.id, now, "json"), made.json, "application/json"),
            )

        text = "\n".join([ready, t._("Here it is: a PDF to read and a JSON file. Please keep them somewhere safe.")])
        return OutboundMessage(text, make=make)
    links = push.links
    if links is None or (push.channel != SIMULATOR and not links.public):  # a phone cannot open a local address
        log.warning("data_copy_link_unavailable", request=request.id, channel=push.channel)
        text = "\n".join([ready, t._("I cannot send a download link here yet. Please ask your commune's officer for "
                                     "it in person.")])  # fmt: skip
        return OutboundMessage(text)
    token = new_link_token()
    until = push.now + timedelta(hours=links.valid_for_hours)
    await push.repos.data_requests.set_link(request.id, link_hash(token), until)
    text = "\n".join([
        ready,
        t.n_("Download it here (the link works once, for {n} hour): {url}",
             "Download it here (the link works once, for {n} hours): {url}", links.valid_for_hours,
             url=f"{links.base.rstrip('/')}/copy/{token}"),
    ])  # fmt: skip
    return OutboundMessage(text, no_preview=True)


async def copy_sent(sent: Sent) -> None:
    """The copy (files, or the link to them) reached the person's chat: only now is it delivered and, for files, an
    export by chat on record. A send the platform refused records neither."""
    raw = sent.item.payload.get("request_id")
    request = await sent.repos.data_requests.get(int(raw)) if isinstance(raw, int) else None
    if request is None or request.status is not RequestStatus.APPROVED:
        return
    person = request.participant_id
    if sent.channel in TAKES_FILES:
        await personal_export.record_export(
            sent.repos, person, actor_type="scheduler", actor_id=None, via="chat", formats=["pdf", "json"],
            extra={"request": request.id, "channel": sent.channel},
        )  # fmt: skip
    elif request.link_until is not None and request.link_used_at is None:
        await sent.repos.audit.record(
            actor_type="scheduler", actor_id=None, action="data_copy_link_issued", outcome="ok",
            subject_type="participant", subject_id=person, detail={"request": request.id, "channel": sent.channel},
        )  # fmt: skip
    else:
        return  # no link could be sent (no public address): nothing delivered
    await sent.repos.data_requests.delivered(request.id)


async def decided(push: Push) -> Rendered:
    """To the person: a declined request (the reason, kindly), or their correction made."""
    person, t = push.participant, push.t
    if person is None:
        return WRONG_RECIPIENT
    request = await _request_of(push)
    if request is None or request.participant_id != person.id:
        return Skip("stale")
    if request.status is RequestStatus.DONE:
        return OutboundMessage(t._("About your request: your record was corrected as you asked. Thank you for "
                                   "telling us."))  # fmt: skip
    if request.status is not RequestStatus.DECLINED:
        return Skip("stale")
    reason = data_requests.reason_text(request.reason)
    first = (
        t._("About your request for a copy of your data: it could not be sent this time.")
        if request.kind is RequestKind.COPY
        else t._("About your request for a correction: your record was not changed.")
    )
    lines = [first, t._(reason)] if reason else [first]
    lines.append(t._("You can ask again at any time from My data."))
    return OutboundMessage("\n".join(lines))


# The kinds this flow words (its Flow's `pushes`).
PUSHES: Mapping[MessageKind, PushRenderer] = {
    MessageKind.DATA_REQUEST: new_request,
    MessageKind.DATA_REQUEST_OVERDUE: overdue,
    MessageKind.DATA_COPY: copy,
    MessageKind.DATA_REQUEST_DECIDED: decided,
}
# What they record once sent (the flow's `sent`).
SENT: Mapping[MessageKind, SentHook] = {MessageKind.DATA_COPY: copy_sent}
