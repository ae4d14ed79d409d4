"""Refresh the gettext catalogs: extract from bot/, update vi and en, copy English msgids into the en catalog.

Run with the project's venv: `.venv/bin/python scripts/i18n.py`. Then translate the new entries in
locales/vi/LC_MESSAGES/messages.po (the test suite fails while any Vietnamese entry is empty or fuzzy).

The glossary (locales/GLOSSARY.md: one Vietnamese word per role and concept, one register per reader) is written
into the header comment of the template and of both catalogs on every run, so it is in front of whoever translates
and a regeneration never loses it. `# TRANSLATORS:` comments in the code reach the entry below them. Entries under
msgctxt "staff" are the staff wording of prompts both audiences see (bot/core/staff_words.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polib
from babel import Locale

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
GLOSSARY = LOCALES / "GLOSSARY.md"
PYBABEL = Path(sys.executable).with_name("pybabel")
KEYWORDS = ["-k", "_", "-k", "N_", "-k", "n_:1,2", "-k", "pgettext:1c,2"]
HOLDER = "the Đồng Hành developers"


def run(*args: str) -> None:
    subprocess.run([str(PYBABEL), *args], check=True, cwd=ROOT, capture_output=True)


def header_comment() -> str:
    """Babel's header (it fills in the upper-case words, and names the language in each catalog), then the glossary."""
    lines = [
        "Translations template for PROJECT.",
        "Copyright (C) YEAR ORGANIZATION",
        "This file is distributed under the same license as the PROJECT project.",
        "",
        *GLOSSARY.read_text(encoding="utf-8").rstrip().splitlines(),
        "",
    ]
    return "\n".join(f"# {line}".rstrip() for line in lines)


def catalog(lang: str, template: polib.POFile) -> polib.POFile:
    """A language's catalog with the template's header comment (the glossary), saved by polib like the English one.

    Babel keeps the header comment a catalog had, and reading one it drops repeated and indented lines; polib keeps
    them. Both catalogs are saved by polib, so a run does not rewrap every entry either."""
    po = polib.pofile(str(LOCALES / lang / "LC_MESSAGES" / "messages.po"))
    po.header = template.header.replace("Translations template", f"{Locale.parse(lang).english_name} translations", 1)
    return po


def main() -> None:
    run(
        "extract",
        "-F",
        "babel.cfg",
        *KEYWORDS,
        "--add-comments",
        "TRANSLATORS:",
        "--no-location",
        "--sort-output",
        "--project",
        "aftercare-bot",
        "--copyright-holder",
        HOLDER,
        "--header-comment",
        header_comment(),
        "-o",
        str(POT),
        "bot",
    )
    for lang in ("vi", "en"):
        po = LOCALES / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            run(
                "update",
                "-i",
                str(POT),
                "-d",
                str(LOCALES),
                "-l",
                lang,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
            )
        else:
            run("init", "-i", str(POT), "-d", str(LOCALES), "-l", lang)
    template = polib.pofile(str(POT))
    english = catalog("en", template)
    for entry in english:
        if entry.msgid_plural and not any(entry.msgstr_plural.values()):
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        elif not entry.msgid_plural and not entry.msgstr:
            entry.msgstr = entry.msgid
    english.save()
    vietnamese = catalog("vi", template)
    vietnamese.save()
    todo = [e for e in vietnamese if not e.translated() or "fuzzy" in e.flags]
    print(f"{len(vietnamese)} messages; {len(todo)} Vietnamese entries to translate")
    for entry in todo:
        context = f"[{entry.msgctxt}] " if entry.msgctxt else ""
        print("  -", context + entry.msgid.splitlines()[0][:100])


if __name__ == "__main__":
    main()
