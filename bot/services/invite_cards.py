"""Printable invite cards for a commune's people: each card carries a NEW one-time code (issuing it revokes the code
the person had not used yet), so printing is an enrolment act — authorised, audited — not a read.

`by` is the staff member printing from the console, checked against the one authorisation table (MANAGE_LIST, with
each person's scope as the database has it now); if any person asked for is out of their reach, or does not exist,
the whole request is refused before a single code changes, and the refusal is audited. None is the server's operator
(the CLI), whose actions are recorded but not restricted. `operator` is who the audit names in both cases.

Rendering 200 cards takes a few seconds, and on SQLite the store runs one transaction at a time: the codes are issued
in the caller's transaction (`issue_cards`), the PDF is drawn after it has committed (`render`, in a worker thread so
a web worker keeps answering). `print_cards` does both for a caller holding the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from enum import StrEnum

from bot.core.i18n import Catalogs
from bot.db.store import Repositories, Store
from bot.documents.cards import InviteCard, render_cards
from bot.domain.authz import Action, Actor, ParticipantScope, decide
from bot.domain.entities import FOLLOWED, Participant
from bot.services.access import Refused
from bot.services.enrolment import Enrolment
from bot.services.operators import Operator

MAX_CARDS = 1000  # a commune lists 50–500 people; a larger request is a mistake, not a print run

DeepLink = Callable[[str], str | None]
EnrolmentFor = Callable[[Repositories, Operator], Enrolment]


class Why(StrEnum):
    NOBODY = "nobody"
    TOO_MANY = "too_many"
    NOT_ON_LIST = "not_on_list"  # completed, or moved to another commune
    UNKNOWN = "unknown"  # an id the operator typed that names no one


class CardsError(ValueError):
    """The request cannot be printed as asked; `why` says which rule (a console words it), the message says it in
    words for the CLI, `ids` are the people concerned."""

    def __init__(self, why: Why, message: str, ids: Sequence[int] = ()) -> None:
        super().__init__(message)
        self.why = why
        self.ids = tuple(ids)


@dataclass(frozen=True, slots=True)
class PrintedCards:
    pdf: bytes
    pages: int
    cards: int
    participant_ids: tuple[int, ...]


def _unique(ids: Sequence[int]) -> list[int]:
    """In the order asked (the order the officer will hand them out), each person once."""
    return list(dict.fromkeys(ids))


async def _people(repos: Repositories, ids: list[int], operator: Operator, by: Actor | None) -> list[Participant]:
    """Everyone asked for, if `by` may manage every one of them; otherwise nothing, and the refusal on record."""
    people: list[Participant] = []
    refused: list[int] = []
    missing: list[int] = []
    parents: dict[int, int | None] = {}
    for participant_id in ids:
        person = await repos.participants.get(participant_id)
        if person is None:
            missing.append(participant_id)
            continue
        if by is not None:
            if person.unit_id not in parents:
                unit = await repos.units.get(person.unit_id)
                parents[person.unit_id] = unit.parent_id if unit else None
            scope = ParticipantScope(person.id, person.unit_id, parents[person.unit_id], person.cadre_id)
            if not decide(by, Action.MANAGE_LIST, scope):
                refused.append(participant_id)
                continue
        people.append(person)
    if by is not None and (refused or missing):
        # One entry for the request: which ids were out of reach or unknown (never a hint of which is which to the
        # person asking: the console answers both with its "not found").
        await operator.record(
            repos, f"denied:{Action.MANAGE_LIST.value}", subject_type="participant", outcome="denied",
            detail={"purpose": "invite_cards", "refused": refused + missing, "asked": len(ids)},
        )  # fmt: skip
        raise Refused("not allowed")
    if missing:
        raise CardsError(Why.UNKNOWN, f"no participant {', '.join(str(i) for i in missing)}", missing)
    return people


async def issue_cards(
    repos: Repositories,
    enrolment: Enrolment,
    catalogs: Catalogs,
    participant_ids: Sequence[int],
    *,
    operator: Operator,
    by: Actor | None = None,
    deep_link: DeepLink | None = None,
) -> list[InviteCard]:
    """A new code for each person (the unused old one stops working; linked chats keep working), as cards in their
    own language. Raises `Refused` (audited; commit it) or `CardsError` before anything changed."""
    ids = _unique(participant_ids)
    if not ids:
        raise CardsError(Why.NOBODY, "choose at least one person")
    if len(ids) > MAX_CARDS:
        raise CardsError(Why.TOO_MANY, f"at most {MAX_CARDS} cards at a time")
    people = await _people(repos, ids, operator, by)
    gone = [p.id for p in people if p.status not in FOLLOWED]
    if gone:
        listed = ", ".join(str(i) for i in gone)
        raise CardsError(Why.NOT_ON_LIST, f"no longer on the list (completed or moved): {listed}", gone)
    cards = []
    for person in people:
        invite = await enrolment.issue_participant_invite(person.id)
        link = deep_link(invite.code) if deep_link else None
        cards.append(
            InviteCard(person.name, invite.code, invite.expires_at, link, catalogs.translator(person.language))
        )
    units = sorted({p.unit_id for p in people})
    await operator.record(
        repos,
        "invite_cards_printed",
        subject_type="unit" if len(units) == 1 else None,
        subject_id=units[0] if len(units) == 1 else None,
        detail={"participants": ids, "count": len(ids), "with_qr": sum(c.link is not None for c in cards)},
    )
    return cards


async def render(cards: Sequence[InviteCard], zone: tzinfo, participant_ids: Sequence[int]) -> PrintedCards:
    """The PDF, drawn in a worker thread (seconds for a commune's list: the event loop keeps serving)."""
    rendered = await asyncio.to_thread(render_cards, list(cards), zone)
    return PrintedCards(rendered.pdf, rendered.pages, len(cards), tuple(_unique(participant_ids)))


async def print_cards(
    store: Store,
    enrolment: EnrolmentFor,
    catalogs: Catalogs,
    participant_ids: Sequence[int],
    *,
    operator: Operator,
    zone: tzinfo,
    by: Actor | None = None,
    deep_link: DeepLink | None = None,
) -> PrintedCards:
    """Issue the codes (one transaction: all or none), then draw the cards. A refusal is committed (the audit keeps
    it) and raised again."""
    refusal: Refused | None = None
    cards: list[InviteCard] = []
    async with store.transaction() as repos:
        try:
            cards = await issue_cards(
                repos, enrolment(repos, operator), catalogs, participant_ids,
                operator=operator, by=by, deep_link=deep_link,
            )  # fmt: skip
        except Refused as exc:
            refusal = exc
    if refusal is not None:
        raise refusal
    return await render(cards, zone, participant_ids)
