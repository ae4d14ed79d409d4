from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import menus
from bot.core.clock import Clock
from bot.core.menus import Choice
from bot.core.messages import Button, TypedBy
from bot.db.crypto import SEALED_PREFIXES, FieldCipher, SealBroken, row_ref
from bot.db.models import ChannelIdentityRow, ConversationStateRow


@dataclass(slots=True)
class ConversationState:
    """Mutable per message; saved back at the end of the same transaction."""

    flow: str = "menu"
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    offered: list[str] = field(default_factory=list)
    offered_labels: list[str] = field(default_factory=list)  # what the buttons said, for menus chosen by typing
    offered_typed_by: list[TypedBy] = field(default_factory=list)  # how each is typed (missing: by number)

    @property
    def choices(self) -> list[Choice]:
        """What the chat was offered last, in order, with labels and how each is typed."""
        return [Choice(action, *labelled) for action, labelled in zip(self.offered, self.labelled(), strict=False)]

    def labelled(self) -> list[tuple[str, TypedBy]]:
        """Each label with how it is typed."""
        typed = [*self.offered_typed_by, *[TypedBy.NUMBER] * (len(self.offered_labels) - len(self.offered_typed_by))]
        return list(zip(self.offered_labels, typed, strict=False))

    def offer(self, choices: Sequence[Choice]) -> None:
        self.offered = [choice.action for choice in choices]
        self.offered_labels = [choice.label for choice in choices]
        self.offered_typed_by = [choice.typed_by for choice in choices]


_MAX_OFFERED = 24
# Before choices were stored with how they are typed, a label typed by name was stored with this mark before it.
_OLD_BY_NAME = "▸ "
_TYPED_BY = {typed.value: typed for typed in TypedBy}  # read for every label of every message: built once
log = structlog.get_logger(__name__)


def _stored(labelled: Sequence[tuple[str, TypedBy]]) -> list[list[str]]:
    """The labels as sealed: [label, "number" | "name"] pairs."""
    return [[label, typed_by.value] for label, typed_by in labelled]


def _read(entry: Any) -> tuple[str, TypedBy]:
    """A stored label: a [label, "number" | "name"] pair; or, as earlier versions stored it (chats still hold it), the
    label alone, with `_OLD_BY_NAME` before it when typed by name."""
    if isinstance(entry, list) and len(entry) == 2 and entry[1] in _TYPED_BY:
        return str(entry[0]), _TYPED_BY[entry[1]]
    label = str(entry)
    if label.startswith(_OLD_BY_NAME):
        return label.removeprefix(_OLD_BY_NAME), TypedBy.NAME
    return label, TypedBy.NUMBER


def _new_state(identity_id: int, now: datetime) -> ConversationStateRow:
    """A fresh row with every field given: pydantic's default factories cost ~1 ms each per row (a signature
    inspection per call), which a dispatcher offering buttons to thousands of new chats a minute feels."""
    return ConversationStateRow(
        id=None, identity_id=identity_id, flow="menu", step="", data={}, offered=[], offered_labels=[], updated_at=now
    )


class ConversationRepository:
    """A flow's half-entered values (a test outcome, a search, a note) and the labels of the buttons shown (names)
    are sealed at rest: `data` as {"sealed": …}, `offered_labels` as one sealed element (each label with how it is
    typed, see `_read`). The offered actions stay in the clear: they hold only record ids and are what the engine
    checks every press against.

    Both are sealed for the chat's identity (the row's unique key): copied to another chat they do not open. Whatever
    does not open, or is not sealed at all (written into the table by hand), is dropped with a warning: the chat
    starts again from its menu rather than being stuck or acting on values it never entered."""

    _DATA = "conversation_state.data"
    _LABELS = "conversation_state.offered_labels"

    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher
        self._rows: dict[int, ConversationStateRow] = {}  # loaded in this transaction, saved without a re-read
        self._opened: dict[int, ConversationState] = {}  # what they said when loaded: unchanged means no write

    def _open_data(self, identity_id: int, stored: dict[str, Any]) -> dict[str, Any] | None:
        """The flow's values; None when they do not open here (the caller starts the chat afresh)."""
        if not stored:
            return {}
        try:
            if set(stored) != {"sealed"} or not isinstance(stored["sealed"], str):
                raise SealBroken(self._DATA, row_ref(identity=identity_id))
            opened = json.loads(self._cipher.decrypt(stored["sealed"], self._DATA, row_ref(identity=identity_id)))
        except SealBroken as exc:
            log.warning("sealed_value_rejected", column=exc.column, identity_id=identity_id)
            return None
        return dict(opened) if isinstance(opened, dict) else {}

    def _open_labels(self, identity_id: int, stored: list[str]) -> list[tuple[str, TypedBy]] | None:
        """The labels and how each is typed; None when they do not open here (the caller starts the chat afresh)."""
        if not stored:
            return []
        try:
            if len(stored) != 1 or not isinstance(stored[0], str) or not stored[0].startswith(SEALED_PREFIXES):
                raise SealBroken(self._LABELS, row_ref(identity=identity_id))
            opened = json.loads(self._cipher.decrypt(stored[0], self._LABELS, row_ref(identity=identity_id)))
        except SealBroken as exc:
            log.warning("sealed_value_rejected", column=exc.column, identity_id=identity_id)
            return None
        return [_read(entry) for entry in opened]

    def _seal(self, row: ConversationStateRow, data: dict[str, Any], labels: list[list[str]]) -> None:
        ref = row_ref(identity=row.identity_id)
        sealed_data = self._cipher.encrypt(json.dumps(data, ensure_ascii=False), self._DATA, ref) if data else None
        row.data = {"sealed": sealed_data} if sealed_data else {}
        row.offered_labels = (
            [self._cipher.encrypt(json.dumps(labels, ensure_ascii=False), self._LABELS, ref)] if labels else []
        )

    def adopt(self, identity_id: int, row: ConversationStateRow | None) -> ConversationState:
        """State already loaded with the identity (see IdentityRepository.find_for_message)."""
        if row is None:
            return ConversationState()
        self._rows[identity_id] = row
        data, labels = self._open_data(identity_id, row.data), self._open_labels(identity_id, row.offered_labels)
        if data is None or labels is None:  # tampered: back to the menu, nothing offered (saved as such)
            state = ConversationState()
            self._opened[identity_id] = ConversationState(row.flow, row.step, {"unreadable": True})
            return state
        state = ConversationState(
            row.flow, row.step, data, list(row.offered), [label for label, _ in labels], [typed for _, typed in labels]
        )
        self._opened[identity_id] = ConversationState(
            state.flow,
            state.step,
            dict(state.data),
            list(state.offered),
            list(state.offered_labels),
            list(state.offered_typed_by),
        )
        return state

    async def offer(self, identity_id: int, buttons: Sequence[Button], typed_by: TypedBy = TypedBy.NUMBER) -> None:
        """A message the bot pushed offers these choices too; the flow the chat was in is kept. In what order the
        chat's choices then are (which a typed number chooses) is `menus.pushed`'s rule."""
        await self.offer_many([(identity_id, buttons, typed_by)])

    async def offer_many(self, offers: Sequence[tuple[int, Sequence[Button], TypedBy]]) -> None:
        """`offer` for many chats at once (the dispatcher closing a group of sent messages): one read of their
        states, one write; offers to the same chat apply in order."""
        if not offers:
            return
        ids = sorted({identity_id for identity_id, _, _ in offers})
        stmt = select(ConversationStateRow).where(ConversationStateRow.identity_id.in_(ids))  # type: ignore[attr-defined]
        rows = {row.identity_id: row for row in (await self._s.execute(stmt)).scalars()}
        for identity_id, buttons, typed_by in offers:
            row = rows.get(identity_id)
            if row is None:
                row = rows[identity_id] = _new_state(identity_id, self._clock.now())
                self._s.add(row)
            data = self._open_data(identity_id, dict(row.data or {}))
            labels = self._open_labels(identity_id, list(row.offered_labels or []))
            if data is None or labels is None:  # tampered: only the new choices, the flow starts afresh
                row.flow, row.step, row.offered, data, labels = "menu", "", [], {}, []
            earlier = [Choice(action, *labelled) for action, labelled in zip(row.offered or [], labels, strict=False)]
            choices = menus.pushed(earlier, buttons, typed_by, _MAX_OFFERED)
            row.offered = [choice.action for choice in choices]
            self._seal(row, data, _stored([(choice.label, choice.typed_by) for choice in choices]))
            row.updated_at = self._clock.now()
        await self._s.flush()

    async def save(self, identity_id: int, state: ConversationState) -> None:
        row = self._rows.get(identity_id)
        opened = self._opened.get(identity_id)
        if row is not None and opened is not None and opened == state:
            return  # nothing changed: no write
        if row is None:
            stmt = select(ConversationStateRow).where(ConversationStateRow.identity_id == identity_id)
            row = (await self._s.execute(stmt)).scalar_one_or_none()
        if row is None:
            row = ConversationStateRow(identity_id=identity_id, updated_at=self._clock.now())
            self._s.add(row)
        row.flow, row.step, row.offered = state.flow, state.step, list(state.offered)
        self._seal(row, dict(state.data), _stored(state.labelled()))
        row.updated_at = self._clock.now()
        await self._s.flush()

    # --- retention: staff chats' states ----------------------------------------------------------------------------

    def _staff_states(self) -> Any:
        staff = select(ChannelIdentityRow.id).where(ChannelIdentityRow.staff_id.is_not(None))  # type: ignore[union-attr]
        return select(ConversationStateRow).where(ConversationStateRow.identity_id.in_(staff))  # type: ignore[attr-defined]

    def _reset(self, row: ConversationStateRow) -> None:
        row.flow, row.step, row.data, row.offered, row.offered_labels = "menu", "", {}, [], []
        row.updated_at = self._clock.now()
        self._rows.pop(row.identity_id, None)
        self._opened.pop(row.identity_id, None)

    async def reset_staff_chats(self, mentions: Callable[[list[str], dict[str, Any], list[str]], bool]) -> int:
        """Staff chats whose state `mentions(offered actions, opened data, opened labels)` — a purged person's card,
        list or half-typed note, a purged colleague's name — go back to their menu with nothing offered (a state
        that does not open goes back too: nothing in it can be vouched for). How many were reset."""
        reset = 0
        for row in (await self._s.execute(self._staff_states().execution_options(populate_existing=True))).scalars():
            data = self._open_data(row.identity_id, dict(row.data or {}))
            labels = self._open_labels(row.identity_id, list(row.offered_labels or []))
            if (
                data is None
                or labels is None
                or mentions([str(a) for a in row.offered or []], data, [label for label, _ in labels])
            ):
                self._reset(row)
                reset += 1
        await self._s.flush()
        return reset

    async def expire_staff_chats(self, idle_before: datetime) -> int:
        """Staff chats idle since before `idle_before` go back to their menu (what they were last shown, a search
        or a note left half-typed, is not kept for ever); the rows stay. How many were reset."""
        staff = select(ChannelIdentityRow.id).where(ChannelIdentityRow.staff_id.is_not(None))  # type: ignore[union-attr]
        stmt = (
            update(ConversationStateRow)
            .where(
                ConversationStateRow.identity_id.in_(staff),  # type: ignore[attr-defined]
                ConversationStateRow.updated_at < idle_before,  # type: ignore[operator]
            )
            .values(flow="menu", step="", data={}, offered=[], offered_labels=[], updated_at=self._clock.now())
        )
        self._rows.clear()
        self._opened.clear()
        return int((await self._s.execute(stmt)).rowcount or 0)
