"""Refresh the gettext catalogs: extract from bot/, update vi and en, copy English msgids into the en catalog.

Run with the project's venv: `.venv/bin/python scripts/i18n.py`. Then translate the new entries in
locales/vi/LC_MESSAGES/messages.po (the test suite fails while any Vietnamese entry is empty or fuzzy).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
PYBABEL = Path(sys.executable).with_name("pybabel")
KEYWORDS = ["-k", "_", "-k", "N_", "-k", "n_:1,2"]


def run(*args: str) -> None:
    subprocess.run([str(PYBABEL), *args], check=True, cwd=ROOT, capture_output=True)


def main() -> None:
    run(
        "extract",
        "-F",
        "babel.cfg",
        *KEYWORDS,
        "--no-location",
        "--sort-output",
        "--project",
        "aftercare-bot",
        "-o",
        str(POT),
        "bot",
    )
    for lang in ("vi", "en"):
        po = LOCALES / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            run("update", "-i", str(POT), "-d", str(LOCALES), "-l", lang, "--no-fuzzy-matching", "--ignore-obsolete")
        else:
            run("init", "-i", str(POT), "-d", str(LOCALES), "-l", lang)
    english = polib.pofile(str(LOCALES / "en" / "LC_MESSAGES" / "messages.po"))
    for entry in english:
        if entry.msgid_plural and not any(entry.msgstr_plural.values()):
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        elif not entry.msgid_plural and not entry.msgstr:
            entry.msgstr = entry.msgid
    english.save()
    vietnamese = polib.pofile(str(LOCALES / "vi" / "LC_MESSAGES" / "messages.po"))
    todo = [e.msgid for e in vietnamese if not e.translated() or "fuzzy" in e.flags]
    print(f"{len(vietnamese)} messages; {len(todo)} Vietnamese entries to translate")
    for msgid in todo:
        print("  -", msgid.splitlines()[0][:100])


if __name__ == "__main__":
    main()
