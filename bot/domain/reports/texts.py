"""The words of a report (its sections, figures, indicators and their definitions) are read by staff only — the
console's report pages, the XLSX and the PDF — so they may name tests; no pushed message uses them
(tests/unit/test_catalogs.py holds both to that)."""

from __future__ import annotations

from bot.domain.reports import figures, indicators

STAFF_VIEW_MSGIDS: frozenset[str] = frozenset(
    {*figures.SECTION_NAMES.values(), *figures.LABELS.values(), *figures.DEFINITIONS.values(),
     *indicators.LABELS.values(), *indicators.DEFINITIONS.values()}
)  # fmt: skip
