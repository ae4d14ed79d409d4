"""A counselling point's opening hours, written the way a commune office writes them ("T2-T6 7:30-11:30,13:30-17:00;
T7 8:00-11:00"), so the bot can tell a person outside those hours when someone will answer.

Days: T2…T7 and CN (Vietnamese), or mon…sun; a range (T2-T6), a list (T2,T4) or "daily"/"hằng ngày". Parts are
separated by ";". An empty text means "no fixed hours" (a counsellor answers whenever one is on duty). A text that does
not parse is refused when the point is configured (`parse` raises), never guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from bot.core.i18n import N_, Translator
from bot.domain.text import fold

_DAY_TOKENS: dict[str, int] = {
    "t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6,
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip
_EVERY_DAY = {"daily", "hang ngay", "moi ngay", "ca tuan"}
DAY_NAMES = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
_SPAN = re.compile(r"^(\d{1,2})[:h.](\d{2})\s*[-–]\s*(\d{1,2})[:h.](\d{2})$")


class OpeningHoursError(ValueError):
    """The hours text cannot be read; the message says which part."""


@dataclass(frozen=True, slots=True)
class Span:
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Weekday (Monday = 0) → the spans the point is open; no days at all means no fixed hours."""

    days: tuple[tuple[Span, ...], ...] = ((),) * 7

    @property
    def fixed(self) -> bool:
        return any(self.days)

    def is_open(self, at: datetime, tz: tzinfo) -> bool:
        if not self.fixed:
            return True
        local = at.astimezone(tz)
        return any(span.start <= local.time() < span.end for span in self.days[local.weekday()])

    def next_opening(self, at: datetime, tz: tzinfo) -> datetime | None:
        """The next moment the point opens after `at` (now, if open); None without fixed hours."""
        if not self.fixed:
            return None
        if self.is_open(at, tz):
            return at
        local = at.astimezone(tz)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            for span in self.days[day.weekday()]:
                start = datetime.combine(day, span.start, tzinfo=tz)
                if start > local:
                    return start
        return None  # unreachable: a fixed week has an opening within 7 days

    def describe(self, t: Translator) -> str:
        """ "T2–T6 07:30–11:30, 13:30–17:00; T7 08:00–11:00": consecutive days with the same hours are joined."""
        parts: list[str] = []
        weekday = 0
        while weekday < 7:
            spans = self.days[weekday]
            last = weekday
            while last + 1 < 7 and self.days[last + 1] == spans:
                last += 1
            if spans:
                days = t._(DAY_NAMES[weekday]) + ("" if last == weekday else "–" + t._(DAY_NAMES[last]))
                hours = ", ".join(f"{s.start:%H:%M}–{s.end:%H:%M}" for s in spans)
                parts.append(f"{days} {hours}")
            weekday = last + 1
        return "; ".join(parts)


def parse(text: str) -> OpeningHours:
    days: list[list[Span]] = [[] for _ in range(7)]
    for part in filter(None, (p.strip() for p in text.split(";"))):
        which, _, spans = _split_days(part)
        for raw in filter(None, (s.strip() for s in spans.split(","))):
            span = _span(raw, part)
            for weekday in which:
                days[weekday].append(span)
    return OpeningHours(tuple(tuple(sorted(d, key=lambda s: s.start)) for d in days))


def _split_days(part: str) -> tuple[list[int], str, str]:
    folded = fold(part).strip()
    for phrase in sorted(_EVERY_DAY, key=len, reverse=True):
        if folded.startswith(phrase + " "):
            return list(range(7)), phrase, folded.removeprefix(phrase).strip()
    head, _, spans = folded.partition(" ")
    which: list[int] = []
    for token in head.split(","):
        first, dash, last = token.replace("–", "-").partition("-")
        if first not in _DAY_TOKENS or (dash and last not in _DAY_TOKENS):
            raise OpeningHoursError(f"unknown day in {part!r}: use T2…T7, CN (or mon…sun)")
        a, b = _DAY_TOKENS[first], _DAY_TOKENS[last] if dash else _DAY_TOKENS[first]
        if b < a:
            raise OpeningHoursError(f"days go backwards in {part!r}")
        which += range(a, b + 1)
    if not spans.strip():
        raise OpeningHoursError(f"no hours in {part!r}")
    return which, head, spans


def _span(raw: str, part: str) -> Span:
    match = _SPAN.match(raw.replace(" ", ""))
    if match is None:
        raise OpeningHoursError(f"cannot read the hours {raw!r} in {part!r}: write 7:30-11:30")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise OpeningHoursError(f"no such time in {raw!r}")
    start, end = time(h1, m1), time(23, 59, 59) if h2 == 24 else time(h2, m2)
    if end <= start:
        raise OpeningHoursError(f"closes before it opens in {raw!r}")
    return Span(start, end)


def read(text: str) -> OpeningHours:
    """For display and routing: what `parse` reads, or no fixed hours for a text stored before hours were parsed."""
    try:
        return parse(text)
    except OpeningHoursError:
        return OpeningHours()
