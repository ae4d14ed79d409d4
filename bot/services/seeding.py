"""Seeding a province's communes from the official list after the 2025 reform (the `vietnam-provinces` package: the
General Statistics Office's list of provinces and of the communes, wards and special zones under them).

Unit codes are the official numeric codes, zero-padded as the list writes them: a province's two digits ("01" Thành
phố Hà Nội, "79" Thành phố Hồ Chí Minh), a commune's five ("00070" Phường Hoàn Kiếm). They are stable across renames,
are what provincial paperwork quotes, and cannot collide with each other (two digits against five). Names are written
as officially, with their type: "Phường Hà Đông", "Xã Sóc Sơn", "Đặc khu Bạch Long Vĩ", "Thành phố Hà Nội", and for a
province "Tỉnh Cao Bằng" (the list itself names provinces without their "Tỉnh").

A province is found by its code ("01", "1") or by its name typed with or without diacritics and with or without
"Thành phố"/"TP"/"Tỉnh" ("ha noi", "Hà Nội", "Thành phố Hà Nội", "hanoi"); a word that starts one name only is
enough ("Quảng Ni"); the code of a province unit already set up by hand ("HN") finds the official province of its
name. Several candidates, or none, is a refusal listing them.

Seeding is idempotent: a unit already there is kept as it is (never renamed, never moved): the province when a unit
has its official code, or is a province unit of the same name under a code of the operator's own ("HN"); a commune
when a unit has its official code, or is a commune of that province with the same name. Everything else is created,
in the caller's transaction, and one audit entry says who seeded which province and how many (counts only). A unit
that holds an official code but is something else (a commune's code on a province, or on a commune of another
province) stops the seeding before anything is written.

`who` is the server's operator (the command line: recorded, not restricted) or a staff actor from the console: an
admin of that province only (the authorisation table's Action.MANAGE_UNITS, asked with the province unit as stored),
and only onto a province unit that exists (theirs): an admin creates no province.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, UnitScope, decide
from bot.domain.entities import Unit, UnitLevel
from bot.domain.ids import record_id
from bot.domain.text import fold
from bot.services.access import Refused
from bot.services.operators import Operator

if TYPE_CHECKING:
    from bot.core.i18n import Translator

MAX_QUERY = 100  # longer is no province name; refused without echoing it whole
SHOWN = 40  # characters of a query quoted back in a refusal
_PREFIXES = ("thanh pho ", "tp. ", "tp ", "tp.", "tinh ")
# Names people still type: the usual short forms, and provinces whose name changed with the reform.
_ALIASES = {"hcm": "79", "tphcm": "79", "saigon": "79", "thuathienhue": "46"}
# Provinces merged into another by the 2025 reform (Nghị quyết 202/2025/QH15), and Hà Tây (2008): typed, they are
# refused with the province they are part of now, never seeded as it (that is the whole merged province).
_FORMER = {
    "hagiang": "08", "yenbai": "15", "backan": "19", "vinhphuc": "25", "hoabinh": "25", "bacgiang": "24",
    "thaibinh": "33", "haiduong": "31", "hanam": "37", "namdinh": "37", "quangbinh": "44", "quangnam": "48",
    "kontum": "51", "binhdinh": "52", "ninhthuan": "56", "phuyen": "66", "daknong": "68", "binhthuan": "68",
    "binhduong": "79", "bariavungtau": "79", "vungtau": "79", "binhphuoc": "75", "longan": "80", "tiengiang": "82",
    "bentre": "86", "travinh": "86", "kiengiang": "91", "soctrang": "92", "haugiang": "92", "baclieu": "96",
    "hatay": "01",
}  # fmt: skip


class SeedError(ValueError):
    """The province cannot be seeded as asked: nothing was written. `str()` is the operator's English line;
    `explain(t)` the same in the reader's language (the console)."""

    def __init__(self, kind: str, query: str, candidates: Sequence[OfficialProvince] = (), codes: Sequence[str] = ()):
        self.kind = kind  # "empty" | "unknown" | "ambiguous" | "former" (merged into another) | "conflict"
        self.query = query if len(query) <= SHOWN else query[:SHOWN] + "…"
        self.candidates = tuple(candidates)
        self.codes = tuple(codes)  # conflict: the units holding an official code that is not theirs
        super().__init__(self._english())

    def listed(self) -> str:
        return ", ".join(f"{p.code} {p.name}" for p in self.candidates)

    def _english(self) -> str:
        if self.kind == "empty":
            return "name a province by its code or name, e.g. 01 or 'Hà Nội'"
        if self.kind == "ambiguous":
            return f"'{self.query}' matches several provinces: {self.listed()}; give the code or the full name"
        if self.kind == "former":
            return f"'{self.query}' is no longer a province: it is part of {self.listed()}; seed that province"
        if self.kind == "conflict":
            return (
                f"units {', '.join(self.codes)} hold official codes of {self.query} but are not its communes; "
                "nothing was created"
            )
        hint = f"; did you mean: {self.listed()}" if self.candidates else ""
        return f"no province matches '{self.query}'{hint}"

    def explain(self, t: Translator) -> str:
        if self.kind == "empty":
            return t._("Type a province's name or code, e.g. “Hà Nội” or “01”.")
        if self.kind == "ambiguous":
            return t._(
                "“{query}” matches several provinces: {candidates}. Type the full name or the code.",
                query=self.query,
                candidates=self.listed(),
            )
        if self.kind == "former":
            return t._(
                "“{query}” is no longer a province: it is now part of {candidates}. Please choose that province.",
                query=self.query,
                candidates=self.listed(),
            )
        if self.kind == "conflict":
            return t._(
                "Units {codes} already use official codes of {province} but are not its communes/wards. "
                "Nothing was added.",
                codes=", ".join(self.codes),
                province=self.query,
            )
        if self.candidates:
            return t._(
                "No province matches “{query}”. Did you mean: {candidates}?",
                query=self.query,
                candidates=self.listed(),
            )
        return t._("No province matches “{query}”.", query=self.query)


@dataclass(frozen=True, slots=True)
class OfficialUnit:
    code: str  # "00070"
    name: str  # "Phường Hoàn Kiếm"


@dataclass(frozen=True, slots=True)
class OfficialProvince:
    code: str  # "01"
    name: str  # "Thành phố Hà Nội", "Tỉnh Cao Bằng"
    key: str  # the name folded, without its type or spaces: "hanoi"
    words: tuple[str, ...]  # the name folded, without its type: ("ha", "noi")


@dataclass(frozen=True, slots=True)
class SeedResult:
    province_code: str  # the province unit's code: the official one, or the operator's own ("HN")
    official_code: str
    name: str  # the province unit's name
    created: int  # communes created now
    existing: int  # communes already there (kept as they were)
    province_created: bool
    dry_run: bool = False
    created_codes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The CLI's JSON."""
        out: dict[str, object] = {
            "province": self.province_code,
            "name": self.name,
            "created": self.created,
            "existing": self.existing,
            "province_created": self.province_created,
        }
        if self.dry_run:
            out["dry_run"] = True
        return out

    def summary(self, t: Translator) -> str:
        """One line for the console's flash after seeding."""
        return t._(
            "{province}: {created} communes/wards added, {existing} were already there.",
            province=self.name,
            created=self.created,
            existing=self.existing,
        )


def _key(text: str) -> tuple[str, ...]:
    """A typed or official province name as words: folded, punctuation dropped, its type ("Tỉnh", "Thành phố",
    "TP") taken off."""
    folded = fold(text.replace("_", " ").replace("-", " ")) + " "
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            folded = folded[len(prefix) :]
            break
    return tuple("".join(ch for ch in folded if ch.isalnum() or ch == " ").split())


def _name_key(name: str) -> str:
    """A commune's name compared exactly (diacritics matter: "Xã Hòa An" is not "Xã Hóa An"), case and spacing not."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


@cache
def official_provinces() -> tuple[OfficialProvince, ...]:
    """The 34 provinces of the official list, by code (imported on first use: the list is large)."""
    from vietnam_provinces import Province, VietNamDivisionType

    found = []
    for p in sorted(Province.iter_all(), key=lambda p: int(p.code)):
        name = p.name if p.division_type is VietNamDivisionType.THANH_PHO_TRUNG_UONG else f"Tỉnh {p.name}"
        words = _key(name)
        found.append(OfficialProvince(f"{int(p.code):02d}", name, "".join(words), words))
    return tuple(found)


@cache
def official_communes(province_code: str) -> tuple[OfficialUnit, ...]:
    """The communes, wards and special zones of one province, by code."""
    from vietnam_provinces import Ward

    wards = Ward.iter_by_province(int(province_code))  # type: ignore[arg-type]
    return tuple(OfficialUnit(f"{int(w.code):05d}", w.name) for w in sorted(wards, key=lambda w: int(w.code)))


def official_source() -> str:
    """Which list a seeding used (recorded in its audit entry)."""
    import vietnam_provinces

    return f"vietnam-provinces {vietnam_provinces.__version__} ({vietnam_provinces.__data_version__})"


def match_province(query: str, provinces: Iterable[Unit] = ()) -> OfficialProvince:
    """The official province a typed code or name means; `provinces` are the province units already set up (their
    own codes, "HN", find the province of their name). Raises SeedError: empty, unknown or ambiguous."""
    typed = query.strip()
    if not typed:
        raise SeedError("empty", query)
    if len(typed) > MAX_QUERY:
        raise SeedError("unknown", typed)
    official = official_provinces()
    if typed.isdigit():  # a code: ASCII digits of a number (not "²", not "٣")
        number = record_id(typed)
        if number is None:
            raise SeedError("unknown", typed)
        code = f"{number:02d}"
        for province in official:
            if province.code == code:
                return province
        raise SeedError("unknown", typed)
    for unit in provinces:
        if unit.level is UnitLevel.PROVINCE and unit.code == typed.upper():
            try:
                return match_province(unit.name)
            except SeedError:
                raise SeedError("unknown", typed) from None
    words = _key(typed)
    if not words:  # only a type: "Thành phố" (or "TP") means the six cities, "Tỉnh" the other provinces
        cities = fold(typed).startswith(("thanh pho", "tp"))
        raise SeedError("ambiguous", typed, [p for p in official if p.name.startswith("Thành phố") == cities])
    compact = "".join(words)
    exact = [p for p in official if p.key == compact]
    if len(exact) == 1:
        return exact[0]
    if compact in _ALIASES:
        return next(p for p in official if p.code == _ALIASES[compact])
    if compact in _FORMER:
        raise SeedError("former", typed, [p for p in official if p.code == _FORMER[compact]])
    partial = [p for p in official if _starts_words(p.words, words)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise SeedError("ambiguous", typed, partial)
    close = difflib.get_close_matches(compact, [p.key for p in official], n=4, cutoff=0.7)
    raise SeedError("unknown", typed, [p for p in official if p.key in close])


def _starts_words(name: tuple[str, ...], typed: tuple[str, ...]) -> bool:
    """Typed words are consecutive words of the name, the last one possibly cut short ("quang ni" → Quảng Ninh)."""
    for start in range(len(name) - len(typed) + 1):
        window = name[start : start + len(typed)]
        if window[:-1] == typed[:-1] and window[-1].startswith(typed[-1]):
            return True
    return False


def _may_seed(actor: Actor, province: Unit | None) -> str | None:
    """Why a console user may not seed this province (None: they may): MANAGE_UNITS over the province unit as stored
    (an admin of this very province); a province not set up yet is the operator's to create."""
    if province is None:
        return "no such province"
    decision = decide(actor, Action.MANAGE_UNITS, UnitScope(province.id, province.parent_id))
    return None if decision else decision.reason


async def seed_province(repos: Repositories, who: Operator | Actor, query: str, *, dry_run: bool = False) -> SeedResult:
    """Create the province (the operator only) and every official commune under it that is not there yet, in the
    caller's transaction; `dry_run` counts without writing. Raises SeedError (nothing written) or, for a console user
    who may not, Refused after recording the denial (the caller commits it)."""
    units = await repos.units.all()
    official = match_province(query, units)
    province = _province_unit(official, units)
    if isinstance(who, Actor):
        reason = _may_seed(who, province)
        if reason is not None:
            await _audit(repos, who, "denied:manage_units", province, {"province": official.code, "reason": reason},
                         outcome="denied")  # fmt: skip
            raise Refused("not allowed")
    by_code = {u.code: u for u in units}
    children = {_name_key(u.name): u for u in units if province is not None and u.parent_id == province.id}
    wanted: list[OfficialUnit] = []
    conflicts: list[str] = []
    existing = 0
    for commune in official_communes(official.code):
        held = by_code.get(commune.code)
        if held is not None:
            if held.level is UnitLevel.COMMUNE and province is not None and held.parent_id == province.id:
                existing += 1
            else:
                conflicts.append(commune.code)
        elif _name_key(commune.name) in children:
            existing += 1
        else:
            wanted.append(commune)
    if conflicts:
        raise SeedError("conflict", official.name, codes=conflicts)
    result = SeedResult(
        province.code if province else official.code,
        official.code,
        province.name if province else official.name,
        len(wanted),
        existing,
        province is None,
        dry_run,
        [c.code for c in wanted],
    )
    if dry_run:
        return result
    if province is None:
        province = await repos.units.add(official.code, official.name, UnitLevel.PROVINCE, None)
    for commune in wanted:
        await repos.units.add(commune.code, commune.name, UnitLevel.COMMUNE, province.id)
    detail = {
        "province": official.code,
        "province_created": result.province_created,
        "created": result.created,
        "existing": result.existing,
        "source": official_source(),
    }
    await _audit(repos, who, "units_seeded", province, detail)
    return result


def _province_unit(official: OfficialProvince, units: Sequence[Unit]) -> Unit | None:
    """The unit that is this province already: the one with its official code, else a province unit of the same
    name under a code of the operator's own. None: to be created."""
    for unit in units:
        if unit.code == official.code:
            if unit.level is not UnitLevel.PROVINCE:
                raise SeedError("conflict", official.name, codes=[unit.code])
            return unit
    same_name = [u for u in units if u.level is UnitLevel.PROVINCE and "".join(_key(u.name)) == official.key]
    if len(same_name) > 1:
        raise SeedError("conflict", official.name, codes=[u.code for u in same_name])
    return same_name[0] if same_name else None


async def _audit(
    repos: Repositories,
    who: Operator | Actor,
    action: str,
    province: Unit | None,
    detail: dict[str, object],
    outcome: str = "ok",
) -> None:
    """Who seeded (or tried to) which province, and how many: counts only."""
    subject_id = province.id if province else None
    if isinstance(who, Operator):
        await who.record(repos, action, subject_type="unit", subject_id=subject_id, outcome=outcome, detail=detail)
        return
    await repos.audit.record(
        actor_type=who.kind.value,  # "staff" from the console
        actor_id=who.id,
        action=action,
        outcome=outcome,
        subject_type="unit",
        subject_id=subject_id,
        detail=detail,
    )
