"""The conversation engine: one inbound message in, replies out, state saved, all in one transaction.

Checks that apply to every flow live here (private chats only, unusable input, stale or forged buttons);
the flows themselves are in the sibling modules.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import timedelta, tzinfo

import structlog
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from bot.core import menus
from bot.core.channel_names import SIMULATOR
from bot.core.clock import Clock
from bot.core.i18n import Catalogs, normalize_language
from bot.core.messages import Button, ChatType, InboundMessage, OutboundMessage
from bot.core.ports import TransientFailure
from bot.db.crypto import SealBroken
from bot.db.store import Repositories, Store
from bot.domain.authz import Actor, ActorKind
from bot.domain.crisis import Verdict
from bot.domain.entities import FOLLOWED, ParticipantStatus
from bot.flows import common, relay, safety, staff, support
from bot.flows.context import Context, Policies, Replies
from bot.flows.enrolment import ONBOARDING
from bot.flows.flow import Audience
from bot.flows.registry import Registry, build_registry
from bot.services import reachability

log = structlog.get_logger(__name__)

# The database is down or unreachable: worth retrying later, not a reason to apologise and drop the message.
_TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


class _Redelivery(Exception):
    """Raised inside the handling transaction to roll back the work done again for an update already handled."""


# What an unresolvable button reference becomes: no flow ever offers it, so it is refused as stale.
STALE = "!stale"


# Messages handled at once per process (about the database pool's size: more would only queue for a connection).
_CONCURRENT = 8


_CONTROL = {"Cc", "Cf", "Co", "Cs"}
# Combining marks kept in a row: Unicode's stream-safe limit (UAX #15); Vietnamese needs two. NFC sorts a run of
# marks by insertion, so a run of 20,000 alternating marks alone costs seconds: longer runs are cut first.
_MARKS_IN_A_ROW = 30
# Raw characters read per accepted character: decomposed Vietnamese takes up to three code points a letter.
_RAW_PER_CHARACTER = 4
# Inbound messages of one chat are counted over this window for the per-chat limit.
_INBOUND_WINDOW = timedelta(minutes=1)
# Channels whose updates without a platform key are not recorded, so not counted: the simulator (a developer's tool,
# refused in production). Any other keyless update (a Zalo message without a message id: forged, or odd) is counted.
_UNCOUNTED_CHANNELS = frozenset({SIMULATOR})


def _scoped(dedupe_key: str | None, chat: str) -> str | None:
    """`ConversationEngine.delivery_key` for a chat whose keyed hash is already at hand (one HMAC per message)."""
    if not dedupe_key:
        return None
    scoped = f"{chat[:24]}:{dedupe_key}"
    if len(scoped) > 96:
        scoped = f"{chat[:24]}:#{hashlib.sha256(dedupe_key.encode()).hexdigest()}"
    return scoped


def clean_text(text: str) -> str:
    """NFC (Vietnamese arrives both composed and decomposed) and no control characters except newlines.

    Linear in the length: runs of more than `_MARKS_IN_A_ROW` combining marks are cut before normalising."""
    kept: list[str] = []
    marks = 0
    for ch in text:
        if ch != "\n" and unicodedata.category(ch) in _CONTROL:
            continue
        marks = marks + 1 if unicodedata.combining(ch) else 0
        if marks <= _MARKS_IN_A_ROW:
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)).strip()


@dataclass(frozen=True, slots=True)
class Screened:
    """A message's text made ready before the handling transaction opens (the CPU-heavy part of a message)."""

    text: str | None  # cleaned, at most `max_text_length` characters
    too_long: bool = False  # longer than `max_text_length`: answered as too long (after a crisis reply)
    verdict: Verdict = Verdict.NOTHING  # what its (bounded) start says: a crisis, maybe one (unsure), or nothing


class ConversationEngine:
    """The `ConversationHandler` the channels talk to (bot/core/ports.py)."""

    def __init__(
        self,
        store: Store,
        catalogs: Catalogs,
        clock: Clock,
        tz: tzinfo,
        policies: Policies,
        flows: Registry | None = None,
        typed_choices: Collection[str] = frozenset(),
    ) -> None:
        """`typed_choices`: the channels without buttons, whose people type a choice (its number or its words)."""
        self._store = store
        self._flows = flows or build_registry()
        self._typed_choices = frozenset(typed_choices)
        self._catalogs = catalogs
        self._clock = clock
        self._tz = tz
        self._policies = policies
        self._slots = asyncio.Semaphore(_CONCURRENT)

    @property
    def policies(self) -> Policies:
        return self._policies

    async def handle(self, msg: InboundMessage) -> list[OutboundMessage]:
        """At most `_CONCURRENT` messages are handled at once in a process: under a flood the others wait for a slot
        (cheaply), so the event loop is not shared among hundreds of half-done messages and /healthz, the pollers
        and the scheduler still get their turn."""
        async with self._slots:
            return await self._handle(msg)

    async def _handle(self, msg: InboundMessage) -> list[OutboundMessage]:
        """One message, one transaction. A bug rolls back and the person gets a polite apology; an unreachable
        database raises `TransientFailure` so a channel can leave the update to be redelivered.

        With a `dedupe_key`, a redelivered update is not handled again: the replies come back only if they were
        never confirmed delivered (see `confirm_delivered`). Without one it is still recorded (`_unkeyed_key`), so
        every update of a chat counts for its per-minute limit.
        """
        chat = self._store.keyring.chat_key(msg.channel, msg.external_user_id)
        key = _scoped(msg.dedupe_key, chat)
        recorded = key or self._unkeyed_key(msg, chat)
        screened = Screened(None)
        if key is not None and (earlier := await self._recorded_under_an_older_key(msg)) is not None:
            return earlier
        try:
            if msg.chat_type is not ChatType.PRIVATE:
                return await self._group(msg)
            screened = self.screen(msg.text)  # before the write transaction: SQLite has one writer
            async with self._store.transaction() as repos:
                replies = await self._private(msg, repos, screened, chat if recorded else None)
                # Replies of a keyless update are not kept: nothing can redeliver it or confirm them.
                if recorded and not await repos.inbound.record(recorded, chat, replies if key else ()):
                    raise _Redelivery
                return replies
        except _Redelivery:
            assert key is not None
            async with self._store.transaction() as repos:
                return await repos.inbound.undelivered(key, chat)
        except _TRANSIENT as exc:
            log.warning("conversation_deferred", channel=msg.channel, error=type(exc).__name__)
            raise TransientFailure(type(exc).__name__) from exc
        except SealBroken as exc:  # a stored value moved or altered in the database: refused, said so, audited
            private = msg.chat_type is ChatType.PRIVATE
            return await self._unreadable(
                msg, exc, recorded if private else None, chat, redeliverable=key is not None, verdict=screened.verdict
            )
        except Exception:
            log.exception("conversation_failed", channel=msg.channel)
            return [common.internal_error(self._catalogs.translator(msg.language_hint))]

    @staticmethod
    def _unkeyed_key(msg: InboundMessage, chat: str) -> str | None:
        """A key of its own for an update the platform gave none (a Zalo message without a message id), so it is
        recorded and counted for the per-chat limit like any other: a forged-webhook flood without ids is held back
        too. Random, so never taken for a redelivery. None for the simulator (`_UNCOUNTED_CHANNELS`)."""
        if msg.channel in _UNCOUNTED_CHANNELS:
            return None
        return f"{chat[:24]}:~{secrets.token_hex(16)}"

    async def _unreadable(
        self,
        msg: InboundMessage,
        exc: SealBroken,
        recorded: str | None,
        chat: str,
        *,
        redeliverable: bool,
        verdict: Verdict,
    ) -> Replies:
        """A sealed value would not open (`SealBroken`): the handling transaction was rolled back, so the update is
        recorded here, in a transaction of its own, with the notice as its reply. A redelivery of it is then
        deduplicated (the stored notice again until confirmed, no second audit), and every such update is counted
        for the chat's limit: a tampered chat that keeps writing is held back like any flood. A crisis is never held
        back and gets the safety reply with its hotlines (no alert: whose chat it is cannot be read); a message the
        crisis check is unsure about gets the safety question with the hotlines, as an unlinked chat does.

        Audited once per chat and unreadable place (column and row, never a value) per clock hour, not per message:
        the database was changed by someone with write access, which one entry says as well as thousands."""
        t = self._catalogs.translator(normalize_language(msg.language_hint))
        notice = [
            replace(
                common.say(
                    t._(
                        "Part of this record cannot be read: it was changed outside the assistant, so it is not "
                        "shown. Please let the commune office know."
                    )
                ),
                language=t.language,
            )
        ]
        place = hashlib.sha256(f"{exc.column}\n{exc.row}".encode()).hexdigest()[:16]
        mark = f"!sealed:{chat[:24]}:{place}:{self._clock.now():%Y%m%d%H}"
        audited, replies = False, notice
        try:
            async with self._store.transaction() as repos:
                if verdict is not Verdict.NOTHING:
                    unlinked = await self._context(msg, repos, look_up=False)
                    unlinked.use_language(t.language)
                    said = await support.crisis(unlinked) if verdict is Verdict.CRISIS else await safety.ask(unlinked)
                    replies = notice = [*(replace(r, language=t.language) for r in said), *notice]
                if recorded is not None:
                    limit = self._policies.inbound_limit(staff=False)  # whose chat it is could not be read
                    recent = await repos.inbound.count_since(chat, self._clock.now() - _INBOUND_WINDOW)
                    if not await repos.inbound.record(recorded, chat, notice if redeliverable else ()):
                        return await repos.inbound.undelivered(recorded, chat)  # a redelivery: not audited again
                    if 0 < limit <= recent and verdict is Verdict.NOTHING:
                        replies = []  # a flood: counted, not answered (the notice was said)
                if await repos.inbound.claim(mark):
                    audited = True
                    await repos.audit.record(
                        actor_type="system",
                        actor_id=None,
                        action="sealed_value_rejected",
                        outcome="denied",
                        detail={"channel": msg.channel, "column": exc.column, "row": exc.row},
                    )
        except _TRANSIENT as failure:
            log.warning("conversation_deferred", channel=msg.channel, error=type(failure).__name__)
            raise TransientFailure(type(failure).__name__) from failure
        except Exception:
            log.exception("audit_failed", action="sealed_value_rejected")
        log.warning("sealed_value_rejected", channel=msg.channel, column=exc.column, audited=audited)
        return replies

    async def _recorded_under_an_older_key(self, msg: InboundMessage) -> list[OutboundMessage] | None:
        """During a key rotation, an update first handled under the old key (the platform redelivers it after the
        restart) is a redelivery too: its undelivered replies, or None when it was never seen."""
        older = self._store.keyring.chat_keys(msg.channel, msg.external_user_id)[1:]
        if not older or msg.chat_type is not ChatType.PRIVATE:
            return None
        async with self._store.transaction() as repos:
            for chat in older:
                key = _scoped(msg.dedupe_key, chat)
                if key is not None and await repos.inbound.recorded(key):
                    return await repos.inbound.undelivered(key, chat)
        return None

    def delivery_key(self, msg: InboundMessage) -> str | None:
        """The key an update is recorded under: its platform key scoped to its channel and chat.

        Platform keys are not unique across chats (a Zalo message id; Telegram's update_id restarts after a quiet
        week): unscoped, a colliding update was taken for a redelivery and got another chat's stored replies. The
        chat is a prefix of its keyed hash (96 bits); a platform key too long for the column is hashed."""
        if not msg.dedupe_key:
            return None
        return _scoped(msg.dedupe_key, self._store.keyring.chat_key(msg.channel, msg.external_user_id))

    async def confirm_delivered(self, *delivery_keys: str) -> None:
        """Replies of these updates (keys from `delivery_key`) are out."""
        async with self._store.transaction() as repos:
            await repos.inbound.delivered(*delivery_keys)

    def screen(self, text: str | None) -> Screened:
        """Clean and assess the risk of a crisis in a bounded start of the text (`_RAW_PER_CHARACTER` ×
        `max_text_length` characters; the learned stage reads the first `max_text_length`), so the work per message is
        bounded however long it is, and a crisis in an overlong message is still answered (a phrase beyond that start
        is not seen: a limit README states)."""
        if text is None:
            return Screened(None)
        longest = self._policies.max_text_length
        bound = longest * _RAW_PER_CHARACTER
        cleaned = clean_text(text[:bound])[:bound]  # NFC may lengthen a few characters: cut again
        too_long = len(text) > bound or len(cleaned) > longest
        detector = self._policies.crisis
        verdict = detector.assess(cleaned, longest).verdict if cleaned and detector is not None else Verdict.NOTHING
        return Screened(cleaned[:longest], too_long, verdict)

    async def _group(self, msg: InboundMessage) -> Replies:
        key = self._store.keyring.chat_key(msg.channel, msg.external_chat_id or msg.external_user_id)
        try:
            async with self._store.transaction() as repos:
                first = await repos.chats.note_group(key)
        except IntegrityError:  # another worker noted the same group at the same moment
            first = False
        if not first:
            return []
        texts = [common.group_notice(self._catalogs.translator(lang)) for lang in ("vi", "en")]
        return [OutboundMessage("\n\n".join(texts))]

    async def _private(self, msg: InboundMessage, repos: Repositories, screened: Screened, chat: str | None) -> Replies:
        """`chat`: the chat's keyed hash when the update is recorded (and so counted for the per-chat limit)."""
        if msg.text is not None:
            msg = replace(msg, text=screened.text)
        ctx = await self._context(msg, repos)
        # Staff are not screened: their notes quote what people said.
        verdict = screened.verdict if ctx.staff is None else Verdict.NOTHING
        if chat is not None and verdict is Verdict.NOTHING:  # a crisis, or maybe one, is never held back
            held = await self._over_limit(ctx, chat)
            if held is not None:
                return [replace(reply, language=ctx.t.language) for reply in held]
        if msg.action_ref is not None:
            # "I need help now" is read from the person's own chat even when no longer offered (safety.answered).
            anyway = (safety.Verbs.HELP,) if ctx.participant is not None else ()
            ctx.msg = msg = replace(msg, action=self._resolve_ref(msg, [*ctx.state.offered, *anyway]), action_ref=None)
        if msg.channel in self._typed_choices and msg.text and not screened.too_long and ctx.identity is not None:
            # In a conversation with a counsellor a typed number is an answer; its choices are typed by name.
            choice = menus.chosen(msg.text, ctx.state.choices)
            if choice is not None and not 1 <= choice <= len(ctx.state.offered):
                return [self._menu_again(ctx)]
            if choice is not None:
                ctx.msg = msg = replace(msg, action=ctx.state.offered[choice - 1], text=None)
        replies = await self._crisis(ctx, verdict, screened.too_long) or await self._route(ctx, screened.too_long)
        if ctx.identity is not None:
            shown = menus.shown(replies)  # in the order a channel without buttons numbers them
            if shown:
                ctx.state.offer(shown)
            await repos.conversations.save(ctx.identity.id, ctx.state)
        return [replace(reply, language=ctx.t.language) for reply in replies]

    async def _crisis(self, ctx: Context, verdict: Verdict, too_long: bool) -> Replies | None:
        """Before any flow sees it, whatever state the chat is in: a message about suicide, self-harm, an overdose
        or danger gets the safety reply at once (an overlong one then hears it was too long), then the question the
        person was at (their state is untouched); an open safety check is overtaken by it. A message the crisis
        check is unsure about gets the safety question instead (bot/flows/safety): the question the person was at
        comes back with their answer; words that answer the question just asked are that answer, however they score.
        `verdict` was decided by `screen` before the transaction."""
        if verdict is Verdict.NOTHING or not ctx.msg.text:  # no text left: a typed number chose from the menu
            return None
        if verdict is Verdict.CRISIS:
            await safety.overtaken(ctx)
            replies, then = await support.crisis(ctx), await self._prompt(ctx)
        elif ctx.state.flow == relay.FLOW or await safety.answered(ctx, None) is not None:
            # In a conversation with a counsellor, a person reads the words: no question. Words that answer the
            # question just asked ("tôi ổn", "cần giúp") are that answer.
            return None
        else:
            replies, then = await safety.ask(ctx), []
        if too_long:
            replies = [*replies, common.too_long(ctx.t, self._policies.max_text_length)]
        return [*replies, *then]

    async def _over_limit(self, ctx: Context, chat: str) -> Replies | None:
        """More than the chat's limit of updates in the last minute: the first one over hears once, politely, to slow
        down (audited, counts only); the rest are recorded but not handled. None: within the limit. Every update is
        counted, handled or not, text or press, so a flood stays held back until it stops. An active staff member's
        chat has a higher limit (`Policies.inbound_limit` says why)."""
        staff = ctx.staff is not None and ctx.staff.active
        limit = self._policies.inbound_limit(staff=staff)
        if limit <= 0:
            return None
        recent = await ctx.repos.inbound.count_since(chat, self._clock.now() - _INBOUND_WINDOW)
        if recent < limit:
            return None
        if recent > limit:
            return []
        await ctx.audit("inbound_limited", "denied", detail={"per_minute": limit})
        return [common.slow_down(ctx.t)]

    @staticmethod
    def _menu_again(ctx: Context) -> OutboundMessage:
        """A number that is not on the menu: say so kindly and show the same menu again (state unchanged), every
        choice numbered."""
        buttons = tuple(Button(choice.label, choice.action) for choice in ctx.state.choices)
        text = ctx.t._("There is no such option. Please reply with one of these numbers:")
        return OutboundMessage(text, buttons, ctx.t.language)

    def _resolve_ref(self, msg: InboundMessage, offered: list[str]) -> str:
        """The offered action this reference stands for in this chat, or one that is never offered (stale).

        Ours are ASCII; `compare_digest` raises on other text, so anything else is stale without comparing."""
        ref = msg.action_ref or ""
        if not ref.isascii():
            return STALE
        for action in offered:  # under every configured key: a button offered before a key rotation still works
            for made in self._store.keyring.button_refs(msg.channel, msg.external_user_id, action):
                if hmac.compare_digest(made, ref):
                    return action
        return STALE

    async def _context(self, msg: InboundMessage, repos: Repositories, look_up: bool = True) -> Context:
        """The actor and their records (`look_up` False: an unlinked context, for a chat whose record is unreadable)."""
        ctx = Context(
            msg=msg,
            repos=repos,
            catalogs=self._catalogs,
            t=self._catalogs.translator(normalize_language(msg.language_hint)),
            clock=self._clock,
            tz=self._tz,
            keyring=self._store.keyring,
            policies=self._policies,
            actor=Actor.unlinked(),
        )
        found = await repos.identities.find_for_message(msg.channel, msg.external_user_id) if look_up else None
        if found is None:
            return ctx
        ctx.identity = found.identity
        if found.identity.unreachable:  # they wrote to us: whatever blocked delivery is over
            await reachability.mark(repos, msg.channel, msg.external_user_id, reachable=True)
        ctx.state = repos.conversations.adopt(found.identity.id, found.state)
        if found.participant is not None:
            ctx.participant = repos.participants.from_row(found.participant)
            ctx.actor = Actor(ActorKind.PARTICIPANT, ctx.participant.id, unit_id=ctx.participant.unit_id)
            ctx.use_language(ctx.participant.language)
        elif found.staff is not None:
            ctx.staff = repos.staff.from_row(found.staff)
            if ctx.staff is not None:
                ctx.actor = Actor(ActorKind.STAFF, ctx.staff.id, role=ctx.staff.role, unit_id=ctx.staff.unit_id)
                ctx.use_language(ctx.staff.language)
        return ctx

    async def _route(self, ctx: Context, too_long: bool) -> Replies:
        """Where a message goes, in this fixed order (and nowhere else): input it cannot use; an unlinked chat
        (its code, or help); a button not offered to this chat (stale or forged; a participant's "I need help now"
        is never stale); a command; an answer to the safety question (then the question the person was at); a closed
        record; the flow holding the chat if it is exclusive (onboarding); the flow owning the pressed action; the
        words typed to the flow the chat is in; the home menu. (Group chats, a crisis and the safety question were
        answered before this.)"""
        msg, t = ctx.msg, ctx.t
        if msg.action is None:
            if msg.media is not None:
                return [common.not_text(t), *await self._prompt(ctx)]
            if not msg.text:
                return [common.empty(t), *await self._prompt(ctx)]
            if too_long:
                return [common.too_long(t, self._policies.max_text_length), *await self._prompt(ctx)]

        if ctx.actor.kind is ActorKind.UNLINKED:
            if msg.action is not None:
                await ctx.audit("stale_button", "denied")
                return [common.stale_button(t)]
            return await self._flows.linking.on_text(ctx, msg.text or "") or []

        routed = self._flows.decode(msg.action) if msg.action is not None else None
        # A request for help is never turned away: "I need help now" pressed in a participant's own chat is answered
        # even once other choices have replaced it (after "I'm OK", or a flow's question shown since); "I'm OK" is not.
        help_anyway = msg.action == safety.Verbs.HELP and ctx.participant is not None
        if msg.action is not None and not help_anyway and (msg.action not in ctx.state.offered or routed is None):
            await ctx.audit("stale_button", "denied", detail={"length": len(msg.action)})
            return [common.stale_button(t), *await self._prompt(ctx)]

        if msg.text and msg.text.startswith("/"):
            return await self._command(ctx, msg.text)

        if ctx.participant is not None:  # whatever flow holds the chat, whatever became of the record
            outcome = await safety.answered(ctx, routed.pressed if routed is not None else None)
            if outcome is not None:
                return [*await safety.answer(ctx, outcome), *await self._prompt(ctx)]

        closed = self._closed(ctx)
        if closed is not None:
            return [closed]

        audience = self._audience(ctx)
        current = self._flows.current(audience, ctx.state)
        if routed is not None:
            if current.exclusive:
                return await current.on_action(ctx, routed.pressed)
            if routed.flow.audience is not audience:  # never offered to this chat's kind of person
                await ctx.audit("stale_button", "denied", detail={"length": len(msg.action or "")})
                return [common.stale_button(t), *await self._prompt(ctx)]
            if routed.flow is not current and routed.pressed.verb not in routed.flow.stays:
                current.leave(ctx)
            return await routed.flow.on_action(ctx, routed.pressed)
        replies = await current.on_text(ctx, msg.text or "")
        if replies is not None:
            return replies
        return [common.not_understood(t), *(await self._flows.home(audience).prompt(ctx, True) or [])]

    @staticmethod
    def _audience(ctx: Context) -> Audience:
        return Audience.PARTICIPANT if ctx.participant is not None else Audience.STAFF

    @staticmethod
    def _closed(ctx: Context) -> OutboundMessage | None:
        """A record no longer followed, or an account no longer active, is told so and nothing else."""
        t = ctx.t
        if ctx.participant is not None:
            status, onboarding = ctx.participant.status, ctx.state.flow == ONBOARDING
            if status not in FOLLOWED or (not onboarding and status is not ParticipantStatus.ACTIVE):
                return common.say(t._("Your record is no longer followed in this assistant. Thank you."))
            return None
        if ctx.staff is not None and not ctx.staff.active:
            return common.say(t._("This account is no longer active. Please contact your administrator."))
        if ctx.staff is None:
            return common.internal_error(t)
        return None

    async def _command(self, ctx: Context, text: str) -> Replies:
        command, _, argument = text.partition(" ")
        command = command.split("@")[0].lower()
        if command == "/start" and argument.strip():
            return [common.say(ctx.t._("This chat is already linked.")), *await self._prompt(ctx)]
        if command in ("/start", "/menu"):
            return await self._prompt(ctx, menu=True)
        if command == "/help" and ctx.participant is not None:
            return await support.show(ctx)
        if command == "/login" and ctx.staff is not None:  # anyone else: an unknown command, nothing revealed
            return await staff.console_link(ctx)
        return [common.unknown_command(ctx.t), *await self._prompt(ctx)]

    async def _prompt(self, ctx: Context, menu: bool = False) -> Replies:
        """Where the person is: the question of the flow they are in, or their menu (`menu`: they asked for it)."""
        if ctx.actor.kind is ActorKind.UNLINKED:
            return []
        audience = self._audience(ctx)
        asked = await self._flows.current(audience, ctx.state).prompt(ctx, menu)
        if asked is not None:
            return asked
        return await self._flows.home(audience).prompt(ctx, menu) or []
