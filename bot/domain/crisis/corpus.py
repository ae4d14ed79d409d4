"""The labelled crisis corpus (tests/fixtures/crisis/*.tsv): what the patterns are checked against, what the learned
stage is trained on and what bench/crisis measures.

One message per line, `label<TAB>kind<TAB>form<TAB>text`; `#` starts a comment; a blank line ends a group — the same
message written several ways (with and without diacritics, teen code, repeated letters, English). A group is never
split between training and evaluation, so a score never comes from having seen the same message in another spelling.

- label: `yes` (a crisis: answer at once), `no` (an innocent look-alike), `ambiguous` (a person reading it would ask).
- kind: for `yes` and `ambiguous` the crisis it is or may be (`YES_KINDS`); for `no` what it is about (`NO_KINDS`).
- form: `vi` (with diacritics), `plain` (the same typed without them), `teen` (ko, k, mik, j, z, dc…), `repeat`
  (letters repeated), `en` (English as typed in a hurry), `mix` (teen code mixed with English).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.domain.text import fold


class Label(StrEnum):
    YES = "yes"
    NO = "no"
    AMBIGUOUS = "ambiguous"


YES_KINDS = ("ideation", "passive", "plan", "self_harm", "overdose", "medical", "danger")
NO_KINDS = (
    "idiom", "sport", "game", "news", "media", "cooking", "work", "medicine", "health", "recovery", "everyday",
)  # fmt: skip
FORMS = ("vi", "plain", "teen", "repeat", "en", "mix")
REQUIRED_FORMS = frozenset({"vi", "plain", "teen", "repeat", "en"})
LONGEST = 400  # characters; a corpus line is a chat message, not an essay


@dataclass(frozen=True, slots=True)
class Example:
    label: Label
    kind: str
    form: str
    text: str
    group: str  # "<file stem>:<line of the group's first message>"


def read(paths: Iterable[Path]) -> list[Example]:
    """Every example of the files, in order; raises ValueError on the first malformed line."""
    examples: list[Example] = []
    for path in sorted(paths):
        examples += _read_one(path)
    return examples


def _read_one(path: Path) -> list[Example]:
    examples: list[Example] = []
    group: str | None = None
    for number, raw in enumerate(path.read_text("utf-8").splitlines(), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            group = None
            continue
        if line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 4:
            raise ValueError(f"{path.name}:{number}: expected label<TAB>kind<TAB>form<TAB>text")
        label, kind, form, text = parts
        if label not in set(Label):
            raise ValueError(f"{path.name}:{number}: unknown label {label!r}")
        kinds = NO_KINDS if label == Label.NO else YES_KINDS
        if kind not in kinds:
            raise ValueError(f"{path.name}:{number}: kind {kind!r} is not one of {', '.join(kinds)}")
        if form not in FORMS:
            raise ValueError(f"{path.name}:{number}: form {form!r} is not one of {', '.join(FORMS)}")
        if not text.strip() or len(text) > LONGEST:
            raise ValueError(f"{path.name}:{number}: empty or longer than {LONGEST} characters")
        group = group or f"{path.stem}:{number}"
        examples.append(Example(Label(label), kind, form, text.strip(), group))
    return examples


def problems(examples: list[Example]) -> list[str]:
    """What makes a corpus unfit to train or measure on: a group mixing labels or kinds, missing a required form,
    a `plain` message with diacritics, the same message twice."""
    found: list[str] = []
    groups: dict[str, list[Example]] = {}
    for example in examples:
        groups.setdefault(example.group, []).append(example)
    for name, members in groups.items():
        if len({(m.label, m.kind) for m in members}) != 1:
            found.append(f"{name}: one group, several labels or kinds")
        missing = REQUIRED_FORMS - {m.form for m in members}
        if missing:
            found.append(f"{name}: missing forms {', '.join(sorted(missing))}")
        for member in members:
            if member.form == "plain" and fold(member.text) != " ".join(member.text.casefold().split()):
                found.append(f"{name}: 'plain' has diacritics: {member.text}")
    seen: dict[str, str] = {}
    for example in examples:
        key = " ".join(example.text.casefold().split())
        if key in seen and seen[key] != example.group:
            found.append(f"{example.group}: the same message as {seen[key]}: {example.text}")
        seen.setdefault(key, example.group)
    return found
