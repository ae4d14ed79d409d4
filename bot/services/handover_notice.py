"""The hand-over notice (Mẫu 53) of a move between communes, as a PDF: what the sending commune's chairman signs and
the receiving commune files. It names the person and prints their national ID, so who may print it is asked here
(whoever keeps the record now — the sending commune's officer until the move is accepted, the receiving commune's
after — or the receiving commune's officer while it decides: MANAGE_LIST or ACCEPT_TRANSFER on a pending move, each
with the records as stored now; a declined move has no notice) and every printing is audited.

`by` is the staff member in the console; None is the server's operator (the CLI). A refusal, an unknown transfer
included, is audited and raises `Refused` (the caller commits it) for a console; the CLI gets a LookupError."""

from __future__ import annotations

import asyncio
from datetime import tzinfo

from bot.db.store import Repositories
from bot.documents.handover import HandoverNotice, render_handover
from bot.domain.authz import Action, Actor, ParticipantScope, decide
from bot.domain.fieldwork import TransferStatus
from bot.domain.planning import unreported_absence_days
from bot.services.access import Refused
from bot.services.operators import Operator


async def notice(
    repos: Repositories, transfer_id: int, *, zone: tzinfo, operator: Operator, by: Actor | None = None
) -> HandoverNotice:
    transfer = await repos.fieldwork.transfer(transfer_id)
    person = await repos.participants.get(transfer.participant_id) if transfer is not None else None
    if transfer is None or person is None:
        if by is None:
            raise LookupError(f"no transfer {transfer_id}")
        await _refuse(repos, operator, transfer_id, "no such record")
        raise Refused("not allowed")
    sending, receiving = await repos.units.get(transfer.from_unit_id), await repos.units.get(transfer.to_unit_id)
    if transfer.status is TransferStatus.DECLINED:  # nothing was handed over: no notice, for anyone
        if by is None:
            raise LookupError(f"transfer {transfer_id} was declined: there is no hand-over to notify")
        await _refuse(repos, operator, transfer_id, "declined")
        raise Refused("not allowed")
    if by is not None:
        here = await repos.units.get(person.unit_id)
        current = ParticipantScope(person.id, person.unit_id, here.parent_id if here else None, person.cadre_id)
        arriving = ParticipantScope(person.id, transfer.to_unit_id, receiving.parent_id if receiving else None, None)
        decision = decide(by, Action.MANAGE_LIST, current)  # whoever keeps the record now
        # the receiving commune while it decides (once accepted, the record is theirs: MANAGE_LIST above)
        deciding = transfer.status is TransferStatus.PENDING and decide(by, Action.ACCEPT_TRANSFER, arriving)
        if not decision and not deciding:
            await _refuse(repos, operator, transfer_id, decision.reason)
            raise Refused("not allowed")
    province = await repos.units.get(sending.parent_id) if sending and sending.parent_id else None
    spans = [(a.starts_on, a.ends_on, a.reported) for a in await repos.absences.of(person.id)]
    register = person.register
    await operator.record(
        repos, "handover_notice_printed", subject_type="participant", subject_id=person.id,
        detail={"transfer": transfer_id},
    )  # fmt: skip
    dated = transfer.created_at.astimezone(zone).date() if transfer.created_at else transfer.moved_on
    return HandoverNotice(
        sending=sending.name if sending else "",
        receiving=receiving.name if receiving else "",
        name=person.name,
        birth_year=register.birth_year,
        national_id=person.national_id,
        address=register.address,
        term_start=person.term_start,
        expected_end=person.expected_end,
        moved_on=transfer.moved_on,
        notice_date=dated,
        sex=register.sex,
        unreported_days=unreported_absence_days(spans),
        decision_no=register.decision_no,
        decision_date=register.decision_date,
        province=province.name if province else None,
    )


async def _refuse(repos: Repositories, operator: Operator, transfer_id: int, reason: str) -> None:
    await operator.record(
        repos, f"denied:{Action.ACCEPT_TRANSFER.value}", subject_type="transfer", subject_id=transfer_id,
        outcome="denied", detail={"reason": reason, "document": "handover_notice"},
    )  # fmt: skip


async def notice_pdf(content: HandoverNotice) -> bytes:
    """Drawn in a worker thread after the transaction (the event loop keeps serving)."""
    return await asyncio.to_thread(render_handover, content)
