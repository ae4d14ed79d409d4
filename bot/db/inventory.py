"""The data inventory: every column of every table, what it holds, why, on what legal basis, who reads it, how long
it stays. Generated from the models (`aftercare privacy inventory`, committed as docs/data-inventory.md) so it
cannot drift: tests/unit/test_data_inventory.py fails when a column or table has no entry here, or an entry names
something that does not exist.

What is sealed at rest comes from bot/db/sealed.py (`SEALED`), who may read from bot/domain/authz.py, the retention
figures from the settings and the scheduler: they are not restated here. Legal bases are the project's reading of
Law 91/2025/QH15, Decree 356/2025, Law 73/2021/QH14 and Decree 116/2021: the controller's legal officer confirms them.

A new column is one word added to the right class string of its table; a new table is one `INVENTORY` entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import MetaData
from sqlmodel import SQLModel

from bot.db import models as _models  # noqa: F401  (registers every table on SQLModel.metadata)
from bot.db.sealed import SEALED
from bot.domain.authz import ROLE_ACTIONS, STAFF_OVER_STAFF, STAFF_RULES, UNIT_RULES, Action, Reach
from bot.domain.consent import PURPOSE_ORDER

WHERE_TO_ADD = "bot/db/inventory.py (INVENTORY)"
REGENERATE = "PYTHONPATH=$PWD .venv/bin/python -m bot privacy inventory --out docs/data-inventory.md"


class Data(StrEnum):
    """How a column's content is classed under Law 91/2025."""

    SENSITIVE = "sensitive"  # health (drug use, tests, counselling, crisis) or law-enforcement measures; free text
    PERSONAL = "personal"  # basic personal data that identifies or describes a person (name, ID, phone, chat id)
    LINKED = "linked"  # a row's ids, dates and states: personal only through the person the row is about
    NONE = "none"  # not personal data (configuration, aggregate counts)


class Whose(StrEnum):
    PARTICIPANT = "a person on a commune's list"
    STAFF = "a staff member"
    ACTIVITY = "who did what: staff and operators, and the person or staff member it was done to"
    CHAT = "a chat (a person or staff member, or a not yet linked stranger)"
    PURGED = "a purged person: pseudonymous (no name, a random id), yet a small commune's few rows can point at someone"
    NOBODY = "nobody (configuration or aggregates)"


# --- legal bases (the project's reading; to be confirmed by the controller's legal officer) ------------------------

TO_CONFIRM = "to be confirmed by the controller's legal officer"
LEGAL_TASK = (
    "the commune's legal task of managing people after drug rehabilitation (Law 73/2021/QH14 on drug prevention and "
    f"control; Decree 116/2021/NĐ-CP), processing for a legal duty under Law 91/2025/QH15 — {TO_CONFIRM}"
)
CONSENT = (
    "the person's consent, asked per purpose in the chat and withdrawable (table `consent`; purposes: "
    f"{', '.join(p.value for p in PURPOSE_ORDER)}); the list itself rests on the commune's legal task — {TO_CONFIRM}"
)
STAFF_DUTY = (
    f"the staff member's public duty for the controller (their assignment to the aftercare work) — {TO_CONFIRM}"
)
SECURITY = (
    "security and accountability of the processing (Law 91/2025/QH15 and Decree 356/2025 duties to protect the data "
    f"and log access) — {TO_CONFIRM}"
)
NOT_PERSONAL = "not personal data"


# --- how long it is kept ---------------------------------------------------------------------------------------------


def _retention_days() -> int:
    from bot.config import Settings

    return int(Settings.model_fields["retention_days"].default)


def _inbound_days() -> int:
    from bot.scheduler.planner import INBOUND_RETENTION

    return INBOUND_RETENTION.days


def _kept(rule: str) -> str:
    """A retention rule with the figures of the code filled in."""
    return rule.format(retention=_retention_days(), inbound=_inbound_days())


PERSON_KEPT = (
    "until `AFTERCARE_RETENTION_DAYS` (default {retention}) after the person leaves the list (term completed, moved "
    "out of the province, removed); then purged, what reports need kept as anonymous rows (issue 18)"
)
STAFF_KEPT = (
    "while the account is open; personal data purged `AFTERCARE_RETENTION_DAYS` (default {retention}) after the "
    "account is closed (issue 18)"
)
CHAT_KEPT = "while the chat is linked; deleted when it is unlinked, and with the person's or staff member's records"


# --- who reads it (from bot/domain/authz.py) -------------------------------------------------------------------------

_REACH = {Reach.ASSIGNED: "their assigned people", Reach.COMMUNE: "their commune", Reach.PROVINCE: "their province"}


def roles_for(action: Action) -> str:
    """The roles the authorisation table lets do `action`, with how far: "cadre (their assigned people), …"."""
    if action in STAFF_RULES:
        reach = {role.value: _REACH[r] for role, r in STAFF_RULES[action].items()}
    elif action in UNIT_RULES:
        reach = {role.value: _REACH[r] for role, r in UNIT_RULES[action].items()}
    elif action in STAFF_OVER_STAFF:
        reach = {role.value: _REACH[r] for role, (r, _) in STAFF_OVER_STAFF[action].items()}
    elif action in ROLE_ACTIONS:
        reach = {role.value: "their own scope" for role in ROLE_ACTIONS[action]}
    else:
        raise KeyError(f"{action} is not in the authorisation table")
    return ", ".join(f"{role} ({how})" for role, how in sorted(reach.items()))


OPERATOR = "the operator on the server (CLI; every read of a record audited)"
THE_PERSON = "the person, their own (in the chat)"


@dataclass(frozen=True)
class Table:
    """One table's entry: the defaults for its columns, and every column named once under its class."""

    whose: Whose
    purpose: str
    basis: str
    kept: str
    readers: tuple[Action | str, ...] = ()
    sensitive: str = ""  # column names, space separated
    personal: str = ""
    linked: str = ""
    none: str = ""
    hashed: str = ""  # columns holding a keyed hash (HMAC-SHA256) instead of the value
    notes: dict[str, str] = field(default_factory=dict)  # per-column remarks

    def classes(self) -> dict[str, Data]:
        out: dict[str, Data] = {}
        for data, names in ((Data.SENSITIVE, self.sensitive), (Data.PERSONAL, self.personal),
                            (Data.LINKED, self.linked), (Data.NONE, self.none)):  # fmt: skip
            for name in names.split():
                out.setdefault(name, data)
        return out

    def named(self) -> list[str]:
        return [n for names in (self.sensitive, self.personal, self.linked, self.none) for n in names.split()]


_IDS = "id participant_id"

INVENTORY: dict[str, Table] = {
    # --- a person on the list --------------------------------------------------------------------------------------
    "participant": Table(
        Whose.PARTICIPANT,
        "the commune's register of people under management after rehabilitation (Mẫu 52) and their term",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.VIEW_PARTICIPANT, Action.VIEW_NAMED_LIST, THE_PERSON, OPERATOR),
        sensitive=(
            "term_start term_months expected_end status completed_on left_on retain_from risk_level decision_no_enc "
            "decision_date"
        ),
        personal="name_enc national_id_enc national_id_key address_enc phone_enc birth_year sex",
        linked="id unit_id cadre_id language wording reminder_hour created_at updated_at",
        hashed="national_id_key",
        notes={
            "national_id_key": "finds a duplicate national ID without opening every row",
            "decision_no_enc": "the decision placing the person under management (law enforcement)",
            "wording": "whether the chat names drugs and tests or speaks neutrally",
        },
    ),
    "consent": Table(
        Whose.PARTICIPANT,
        "what the person agreed to, per purpose, and when; append-only history",
        "the controller's duty to show consent was given (Law 91/2025/QH15) — " + TO_CONFIRM,
        PERSON_KEPT,
        (THE_PERSON, "the bot (what may be shared or sent)", OPERATOR),
        linked="id participant_id purpose granted text_version recorded_at",
    ),
    "data_request": Table(
        Whose.PARTICIPANT,
        "a person's request for a copy of their data or a correction, its decision and the copy's one-time link",
        "the person's rights to access and correct their data (Law 91/2025/QH15, Decree 356/2025) — " + TO_CONFIRM,
        PERSON_KEPT,
        (THE_PERSON, Action.DECIDE_DATA_REQUEST, OPERATOR),
        sensitive="text_enc",
        linked=_IDS + " kind status requested_at due_at decided_at decided_by reason overdue_at delivered_at",
        none="link_hash link_until link_used_at",
        notes={"link_hash": "a hash of the one-time download link's random token (the token itself is not kept)"},
    ),
    "obligation": Table(
        Whose.PARTICIPANT,
        "the monthly check-ins and the periodic and random drug tests a person is due to do",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.VIEW_PARTICIPANT, Action.VIEW_TEST_RESULTS, THE_PERSON, OPERATOR),
        sensitive="kind due_on status done_at acknowledged_at",
        linked="id key participant_id created_at",
        notes={"kind": "a random test's row is its audit trail"},
    ),
    "checkin_response": Table(
        Whose.PARTICIPANT,
        "the person's monthly self-report",
        LEGAL_TASK,
        PERSON_KEPT,
        (
            THE_PERSON,
            "the assigned cadre: the reasons for a risk alert, only with the person's consent `share_with_cadre`",
            OPERATOR,
        ),
        sensitive="answers_enc risky",
        linked="id obligation_id participant_id started_at completed_at",
    ),
    "absence": Table(
        Whose.PARTICIPANT,
        "time away from the place of residence (Decree 116/2021 Art. 79: unreported days do not count)",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.VIEW_PARTICIPANT, Action.REPORT_ABSENCE_OR_MOVE, OPERATOR),
        sensitive="starts_on ends_on reported reason_enc",
        linked="id participant_id recorded_by recorded_at",
    ),
    "escalation": Table(
        Whose.PARTICIPANT,
        "a problem someone must act on (missed check-in, positive test, crisis)",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.ACKNOWLEDGE_ESCALATION, Action.ACKNOWLEDGE_RESULT_ALERT, OPERATOR),
        sensitive="kind note_enc",
        linked="id key participant_id unit_id obligation_id cadre_id raised_at acknowledged_at acknowledged_by "
        "officer_notified_at",
    ),
    "referral": Table(
        Whose.PARTICIPANT,
        "a request for help routed to a counselling point",
        CONSENT,
        PERSON_KEPT,
        (Action.HANDLE_REFERRAL, Action.MESSAGE_PARTICIPANT, THE_PERSON, OPERATOR),
        sensitive="kind urgency status source outcome note_enc",
        linked="id participant_id point_id counsellor_id created_at accepted_at first_reply_at closed_at "
        "relay_started_at relay_ended_at",
        notes={"note_enc": "the counsellor's private note"},
    ),
    "relay_message": Table(
        Whose.PARTICIPANT,
        "the conversation between the person and a counsellor or their cadre through the bot",
        CONSENT,
        PERSON_KEPT,
        (Action.HANDLE_REFERRAL, Action.MESSAGE_PARTICIPANT, THE_PERSON),
        sensitive="body_enc",
        linked="id referral_id participant_id sender staff_id sent_at",
    ),
    "referral_event": Table(
        Whose.PARTICIPANT,
        "a referral's status history, for the reports (who, when; never content)",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.HANDLE_REFERRAL, Action.VIEW_REPORT, OPERATOR),
        sensitive="status",
        linked="id referral_id actor_type actor_id at",
    ),
    "safety_check": Table(
        Whose.PARTICIPANT,
        "the question “are you safe?” after an unclear message, until answered (only when and how it ended)",
        "protecting the person's life and health (Law 91/2025/QH15 processing without consent in an emergency) and "
        "their consent — " + TO_CONFIRM,
        PERSON_KEPT,
        (Action.ACKNOWLEDGE_ESCALATION, OPERATOR),
        sensitive="outcome",
        linked="id participant_id open_for asked_at closed_at",
    ),
    "in_person_check": Table(
        Whose.PARTICIPANT,
        "the month's in-person check (kiểm diện)",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.RECORD_IN_PERSON_CHECK, Action.VIEW_PARTICIPANT, OPERATOR),
        sensitive="outcome reason_enc checked_on",
        linked="id participant_id month recorded_by recorded_at",
    ),
    "test_result": Table(
        Whose.PARTICIPANT,
        "a drug test's result (outcome, substance group and place in one ciphertext)",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.VIEW_TEST_RESULTS, THE_PERSON, OPERATOR),
        sensitive="result_enc taken_on",
        linked="id participant_id obligation_id recorded_by recorded_at",
    ),
    "observation": Table(
        Whose.PARTICIPANT,
        "a cadre's note about the person",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.LOG_OBSERVATION, Action.VIEW_PARTICIPANT, OPERATOR),
        sensitive="body_enc risk_flag",
        linked="id participant_id staff_id recorded_at",
    ),
    "quarterly_review": Table(
        Whose.PARTICIPANT,
        "the cadre's end-of-quarter assessment (kiểm điểm cuối quý)",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.WRITE_REVIEW, Action.VIEW_PARTICIPANT, OPERATOR),
        sensitive="assessment_enc",
        linked="id participant_id quarter cadre_id written_at",
    ),
    "field_report": Table(
        Whose.PARTICIPANT,
        "an absence or move a cadre saw, waiting for the officer to confirm it",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.CONFIRM_REPORT, Action.REPORT_ABSENCE_OR_MOVE, OPERATOR),
        sensitive="kind details_enc",
        linked="id participant_id unit_id reported_by reported_at status decided_by decided_at",
    ),
    "transfer": Table(
        Whose.PARTICIPANT,
        "a move to another commune and its hand-over notice (Mẫu 53)",
        LEGAL_TASK,
        PERSON_KEPT,
        (Action.ACCEPT_TRANSFER, Action.MANAGE_LIST, OPERATOR),
        sensitive="from_unit_id to_unit_id moved_on",
        linked="id participant_id status created_by created_at decided_by decided_at",
        notes={"to_unit_id": "where the person now lives"},
    ),
    "outbox": Table(
        Whose.PARTICIPANT,
        "messages the system sends on its own (reminders, alerts, digests): references only, the text is rendered "
        "at send time",
        "the person's consent to reminders (`reminders`) for their messages; the commune's legal task for staff "
        f"alerts — {TO_CONFIRM}",
        PERSON_KEPT + "; a staff member's rows with their account",
        (OPERATOR + " (`outbox dead`: kinds and record ids, no content)",),
        linked="id key kind participant_id staff_id payload urgent due_at next_attempt_at status attempts "
        "leased_until last_error sent_at created_at",
        notes={"payload": "record ids and kinds only, never text"},
    ),
    "invite_code": Table(
        Whose.PARTICIPANT,
        "a single-use code that links a person's or staff member's chat",
        LEGAL_TASK,
        "expires after `AFTERCARE_INVITE_TTL_DAYS`; the row stays with the person's or staff member's records",
        ("nobody: the code is shown once to whoever issues it, only its hash is kept",),
        linked="id code_hash participant_id staff_id created_at expires_at used_at revoked_at",
        hashed="code_hash",
    ),
    # --- chats ------------------------------------------------------------------------------------------------------
    "channel_identity": Table(
        Whose.CHAT,
        "a linked Telegram or Zalo chat: found by its keyed hash, written to by the sealed platform id",
        LEGAL_TASK,
        CHAT_KEPT,
        ("the bot only (to send to the chat); no page or command shows the platform id",),
        personal="external_id_enc chat_key",
        linked="id channel participant_id staff_id linked_at unreachable",
        hashed="chat_key",
    ),
    "conversation_state": Table(
        Whose.CHAT,
        "where a chat is in a conversation and which buttons it was offered (answers in progress)",
        LEGAL_TASK,
        CHAT_KEPT,
        ("the bot only",),
        sensitive="data offered_labels",
        linked="id identity_id flow step offered updated_at",
    ),
    "inbound_update": Table(
        Whose.CHAT,
        "a platform update seen once (no double processing) and the replies not yet delivered",
        SECURITY,
        "{inbound} days, then deleted by the scheduler's daily purge (at most {inbound} days + 1)",
        ("the bot only",),
        sensitive="replies_enc",
        personal="chat_key",
        linked="id key received_at replied_at",
        hashed="chat_key",
    ),
    "link_failure": Table(
        Whose.CHAT,
        "wrong invite codes from an unlinked chat, to stop guessing",
        SECURITY,
        "until the chat links or is locked out",
        ("the bot only",),
        personal="chat_key",
        linked="id at",
        hashed="chat_key",
    ),
    "chat_lockout": Table(
        Whose.CHAT,
        "a chat locked out after too many wrong codes",
        SECURITY,
        "no automatic deletion yet (the lock ends at `until`; the row stays)",
        ("the bot only",),
        personal="chat_key",
        linked="until",
        hashed="chat_key",
    ),
    "group_notice": Table(
        Whose.CHAT,
        "a group chat was told once that the bot works only in private chats",
        SECURITY,
        "no automatic deletion yet",
        ("the bot only",),
        linked="chat_key at",
        hashed="chat_key",
        notes={"chat_key": "a group, not a person"},
    ),
    # --- staff ------------------------------------------------------------------------------------------------------
    "staff_member": Table(
        Whose.STAFF,
        "staff accounts: who works where, in which role",
        STAFF_DUTY,
        STAFF_KEPT,
        (Action.MANAGE_STAFF, OPERATOR),
        personal="name totp_secret_enc",
        linked="id role unit_id point_id language active on_duty created_at totp_last_step deactivated_at purged_at",
        notes={"totp_secret_enc": "an admin's second factor"},
    ),
    "login_link": Table(
        Whose.STAFF,
        "one-time links into the console (only the hash)",
        SECURITY,
        "expires after 10 minutes; the row stays with the staff member's records",
        ("nobody (the link is given once)",),
        linked="id staff_id token_hash created_at expires_at used_at",
        hashed="token_hash",
    ),
    "console_session": Table(
        Whose.STAFF,
        "signed-in browsers (the cookie's hash), so a session can be ended from anywhere",
        SECURITY,
        "ends after `AFTERCARE_CONSOLE_IDLE_MINUTES` idle or `AFTERCARE_CONSOLE_SESSION_HOURS`; the row stays with "
        "the staff member's records",
        ("the console only (to recognise the browser)",),
        linked="id token_hash staff_id created_at last_seen_at expires_at second_factor_at ended_at ended_reason",
        hashed="token_hash",
    ),
    "audit_event": Table(
        Whose.ACTIVITY,
        "who did what to which record, when — never content; the evidence of every read, export and denial",
        SECURITY,
        "kept for accountability (no automatic deletion); a purged person's entries keep action and time, the "
        "subject becomes the anonymous id (issue 18); how long — " + TO_CONFIRM,
        ("admin (their province's share, console audit page)", OPERATOR + " (`audit list`, `audit verify`)"),
        linked=(
            "id at actor_type actor_id action subject_type subject_id outcome detail entry_mac seq chain redaction_mac"
        ),
        notes={"detail": "ids, counts, reasons and the operator's OS account; never names or content"},
    ),
    # --- what the reports keep of purged people (bot/services/retention.py) -------------------------------------
    "anonymous_person": Table(
        Whose.PURGED,
        "a purged person as the reports need them: a random negative id unrelated to the old one, the commune, the "
        "term's dates, the day they left, how many chats",
        LEGAL_TASK,
        "as long as reports on past periods are kept (no automatic deletion) — " + TO_CONFIRM,
        (Action.VIEW_REPORT,),
        linked="id unit_id term_start expected_end completed_on left_on chats_linked chats_unreachable last_entry_at "
        "purged_on",
        notes={"id": "nameless; a small commune's few rows can still point at someone"},
    ),
    "anonymous_fact": Table(
        Whose.PURGED,
        "a purged person's nameless facts for the reports: moves, absences, duties, in-person checks, test outcomes, "
        "requests, crises, review ratings (kind, day, category)",
        LEGAL_TASK,
        "as long as reports on past periods are kept (no automatic deletion) — " + TO_CONFIRM,
        (Action.VIEW_REPORT,),
        sensitive="kind category label flag minutes",
        linked="id person_id day until from_unit to_unit",
        notes={"category": "a test's outcome, a review's rating, a request's kind: health and law-enforcement data"},
    ),
    # --- configuration and aggregates -------------------------------------------------------------------------------
    "unit": Table(
        Whose.NOBODY,
        "provinces and communes, a commune's check-in day and test place",
        NOT_PERSONAL,
        "while in use",
        (Action.MANAGE_UNITS,),
        none="id code name level parent_id checkin_due_day test_place test_hours created_at",
    ),
    "counselling_point": Table(
        Whose.NOBODY,
        "community counselling points and their hours (public contact details)",
        NOT_PERSONAL,
        "while in use",
        (Action.MANAGE_UNITS, "everyone who asks for help in the chat"),
        none="id unit_id name address phone hours created_at",
    ),
    "direct_send": Table(
        Whose.NOBODY,
        "how many replies the bot sent straight to people each second, per channel (a count): the outbox's sender "
        "keeps the bot within the platform's rate",
        NOT_PERSONAL,
        "a minute",
        (OPERATOR,),
        none="channel second sent",
    ),
    "audit_chain_head": Table(
        Whose.NOBODY,
        "the audit log's hash chain: its last sealed entry",
        SECURITY,
        "always (one row)",
        (OPERATOR,),
        none="id seq chain legacy_upto",
    ),
    "encryption_key": Table(
        Whose.NOBODY,
        "each master key that has written here, by its public key id, with a canary sealed under it (a wrong key "
        "is refused at start-up)",
        SECURITY,
        "always (a retired key keeps its row, marked retired)",
        (OPERATOR,),
        none="key_id canary added_at retired_at",
    ),
    "key_rotation": Table(
        Whose.NOBODY,
        "how far a key rotation has gone (each sealed column's cursor, the audit chain re-made under the new key)",
        SECURITY,
        "until the next rotation",
        (OPERATOR,),
        none="part key_id position old_link new_link",
    ),
    "indicator_target": Table(
        Whose.NOBODY,
        "a province's targets for the plans' indicators",
        NOT_PERSONAL,
        "while in use",
        (Action.SET_TARGETS, Action.VIEW_REPORT),
        none="id unit_id indicator target set_at",
        linked="set_by",
    ),
    "handover_count": Table(
        Whose.NOBODY,
        "how many people the facilities handed over to a commune in a month (a count)",
        NOT_PERSONAL,
        "while in use",
        (Action.ENTER_HANDED_OVER, Action.VIEW_REPORT),
        none="id unit_id month people set_at",
        linked="set_by",
    ),
    "report_month": Table(
        Whose.NOBODY,
        "a settled month's report figures (counts, no ids)",
        NOT_PERSONAL,
        "while in use",
        (Action.VIEW_REPORT,),
        none="id unit_id month figures made_at",
        notes={"figures": "counts only; a small commune's small counts can still point at someone"},
    ),
}


@dataclass(frozen=True)
class ColumnEntry:
    column: str
    data: Data
    at_rest: str
    note: str


def _at_rest() -> dict[tuple[str, str], str]:
    return {(s.table, s.column): f"sealed for `{s.sealed_for}`" for s in SEALED}


def problems(metadata: MetaData | None = None) -> list[str]:
    """What does not match the models (`metadata`, the application's by default): every column of every table must
    be named once; nothing else may be."""
    found: list[str] = []
    tables = (metadata or SQLModel.metadata).tables
    for name, table in sorted(tables.items()):
        entry = INVENTORY.get(name)
        if entry is None:
            found.append(f"table {name} is not in the data inventory: add an entry to {WHERE_TO_ADD}")
            continue
        named = entry.named()
        for column in table.columns:
            if column.name not in named:
                found.append(
                    f"column {name}.{column.name} is not classified: add it to one of sensitive/personal/linked/none "
                    f"of {name!r} in {WHERE_TO_ADD}"
                )
        columns = {c.name for c in table.columns}
        for column in sorted(set(named) - columns):
            found.append(f"{name}.{column} is classified in {WHERE_TO_ADD} but the table has no such column")
        for column in sorted({c for c in named if named.count(c) > 1}):
            found.append(f"{name}.{column} is classified more than once in {WHERE_TO_ADD}")
        for column in entry.hashed.split() + list(entry.notes):
            if column not in columns:
                found.append(f"{name}.{column} is named in {WHERE_TO_ADD} but the table has no such column")
    for name in sorted(set(INVENTORY) - set(tables)):
        found.append(f"{WHERE_TO_ADD} describes table {name}, which does not exist")
    for spec in SEALED:
        entry = INVENTORY.get(spec.table)
        if entry is not None and entry.classes().get(spec.column) in (Data.NONE, None):
            found.append(f"{spec.name} is sealed but classed as not personal in {WHERE_TO_ADD}")
    return found


def _readers(entry: Table) -> list[str]:
    return [f"{roles_for(r)} — `{r.value}`" if isinstance(r, Action) else r for r in entry.readers]


def inventory() -> list[dict[str, Any]]:
    """The inventory as plain data, tables in the order of `INVENTORY`, columns in the table's order."""
    if found := problems():
        raise ValueError("the data inventory does not match the models:\n" + "\n".join(found))
    rest = _at_rest()
    out: list[dict[str, Any]] = []
    for name, entry in INVENTORY.items():
        classes, hashed = entry.classes(), set(entry.hashed.split())
        columns = []
        for column in SQLModel.metadata.tables[name].columns:
            at_rest = rest.get((name, column.name)) or ("keyed hash" if column.name in hashed else "clear")
            columns.append(
                {
                    "column": column.name,
                    "data": classes[column.name].value,
                    "at_rest": at_rest,
                    "note": entry.notes.get(column.name, ""),
                }
            )
        out.append(
            {
                "table": name,
                "whose": entry.whose.value,
                "purpose": entry.purpose,
                "basis": entry.basis,
                "readers": _readers(entry),
                "kept": _kept(entry.kept),
                "columns": columns,
            }
        )
    return out


def as_json() -> str:
    return json.dumps({"tables": inventory()}, ensure_ascii=False, indent=2) + "\n"


_LEGEND = """\
# Data inventory

Generated from the models by `aftercare privacy inventory` (bot/db/inventory.py) — do not edit by hand; a test fails
when this file and the code disagree. Regenerate with:

    {regenerate}

Every row of the tables about *a person on a commune's list* reveals that the person is under management after drug
rehabilitation, so those rows are protected as sensitive personal data (Law 91/2025/QH15, Decree 356/2025) whatever
the column: role- and scope-based access on the server, every read of a record audited, the most sensitive fields
sealed. The controller is the People's Committee that keeps the list (the commune's, the province's for its own
staff and the system); legal bases marked "to be confirmed" are the project's reading, not legal advice.

Column classes: **sensitive** — health (drug use, tests, counselling, crisis) or law-enforcement measures, and free
text; **personal** — basic personal data identifying or describing someone (name, ID, phone, address, chat id);
**linked** — ids, dates and states, personal only through the person the row is about; **none** — not personal data.
*At rest*: **sealed** — AES-256-GCM bound to the table, column and row (bot/db/crypto.py, the list in
bot/db/sealed.py); **keyed hash** — HMAC-SHA256, the value itself is not stored; **clear** — plain in the database
(protected by access control, disk encryption and backups kept apart from the key).

Readers named with a `code` are taken from the authorisation table (bot/domain/authz.py); the operator on the server
can read everything and every read of a person's record is audited.

| table | about | sensitive columns | personal columns | sealed | keyed hash |
|---|---|---|---|---|---|
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown() -> str:
    tables = inventory()
    lines = [_LEGEND.format(regenerate=REGENERATE).rstrip("\n")]
    for t in tables:
        count = {d: sum(1 for c in t["columns"] if c["data"] == d) for d in Data}
        sealed = sum(1 for c in t["columns"] if c["at_rest"].startswith("sealed"))
        hashed = sum(1 for c in t["columns"] if c["at_rest"] == "keyed hash")
        lines.append(
            f"| [{t['table']}](#{t['table']}) | {_cell(t['whose'])} | {count[Data.SENSITIVE]} | "
            f"{count[Data.PERSONAL]} | {sealed} | {hashed} |"
        )
    for t in tables:
        lines += [
            "",
            f"## {t['table']}",
            "",
            f"- **About:** {t['whose']}",
            f"- **Purpose:** {t['purpose']}",
            f"- **Legal basis:** {t['basis']}",
            f"- **Who can read it:** {'; '.join(t['readers'])}",
            f"- **Kept:** {t['kept']}",
            "",
            "| column | data | at rest | note |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{c['column']}` | {c['data']} | {_cell(c['at_rest'])} | {_cell(c['note'])} |" for c in t["columns"]
        ]
    return "\n".join(lines) + "\n"
