"""The monthly self-report: its questions, their allowed answers, and which answers need a person's attention.

Every question can be skipped; answers are stored encrypted and shown to the cadre only with the participant's
consent. A risky answer never blocks or scolds: it leads to an offer of support.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    NEEDS: Question(NEEDS, ("training", "job", "health", "papers"), many=True),
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
