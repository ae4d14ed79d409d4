"""The monthly self-report: its questions, their allowed answers, and which answers need a person's attention.

Every question can be skipped; answers are stored encrypted and shown to the cadre only with the participant's
consent. A risky answer never blocks or scolds: it leads to an offer of support.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

MOOD, CRAVINGS, USE, WORK, NEEDS, CALL = "mood", "cravings", "use", "work", "needs", "call"
QUESTION_ORDER: tuple[str, ...] = (MOOD, CRAVINGS, USE, WORK, NEEDS, CALL)
SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    options: tuple[str, ...]
    many: bool = False  # several options may be chosen, then "done"


QUESTIONS: dict[str, Question] = {
    MOOD: Question(MOOD, ("1", "2", "3", "4", "5")),
    CRAVINGS: Question(CRAVINGS, ("none", "little", "strong")),
    USE: Question(USE, ("no", "yes", "private")),
    WORK: Question(WORK, ("working", "studying", "looking", "not_working")),
    NEEDS: Question(NEEDS, ("training", "job", "livelihood", "health", "papers"), many=True),
    CALL: Question(CALL, ("yes", "no")),
}


def next_question(answers: dict[str, object]) -> str | None:
    """The first question not yet answered or skipped; None when the check-in is complete."""
    for key in QUESTION_ORDER:
        if key not in answers:
            return key
    return None


def valid_answer(key: str, value: str) -> bool:
    question = QUESTIONS.get(key)
    return question is not None and (value in question.options or value == SKIPPED)


def risk_reasons(answers: dict[str, object]) -> set[str]:
    """Which answers mean the cadre should hear about this check-in soon."""
    reasons = set()
    if answers.get(CRAVINGS) == "strong":
        reasons.add("cravings")
    if answers.get(USE) == "yes":
        reasons.add("use")
    if answers.get(CALL) == "yes":
        reasons.add("call")
    return reasons


# A need stated in the check-in becomes a support request of this kind (the kinds of bot/flows/support's menu).
NEED_KINDS: Mapping[str, str] = {
    "training": "training",
    "job": "job",
    "livelihood": "livelihood",
    "health": "health",
    "papers": "papers",
}
# What became of the stated needs, kept with the answers (not a question: `next_question` never asks it).
NEEDS_FATE = "needs_fate"
NEEDS_OFFERED = "needs_offered"  # the kinds the person was asked to pass on (a "yes" covers these only)


class NeedsFate(StrEnum):
    CONSENTED = "consented"  # passed on at once, under the standing consent to referrals
    ASKED = "asked"  # no standing consent: the person was asked whether to pass them on, no answer yet
    PASSED_ON = "passed_on"  # "yes" to that question: a one-time permission for these requests
    KEPT = "kept"  # "no": nothing was passed on


def stated_needs(answers: Mapping[str, object]) -> tuple[str, ...]:
    """The request kinds the person chose in the needs question, in the question's order (none when skipped)."""
    chosen = answers.get(NEEDS)
    if not isinstance(chosen, list):
        return ()
    return tuple(NEED_KINDS[value] for value in QUESTIONS[NEEDS].options if value in chosen)


def needs_to_request(stated: Collection[str], open_kinds: Collection[str]) -> tuple[list[str], list[str]]:
    """(kinds to request now, kinds already waiting in an open request of the person): never a second open request of
    one kind, so a need stated every month while it is being followed up stays one request."""
    new = [kind for kind in stated if kind not in open_kinds]
    return new, [kind for kind in stated if kind in open_kinds]
