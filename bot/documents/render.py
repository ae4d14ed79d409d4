"""HTML to PDF with the fonts a Debian machine has (fonts-noto-core, fonts-liberation2, DejaVu), from templates in
bot/documents/templates. Nothing is fetched while rendering: the only resources a document may use are data: URIs
(the QR codes), so a name typed as an <img> or a url() can neither reach the network nor read a file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"

# Vietnamese needs a font with its stacked diacritics (ấ, ệ, ữ…): Noto (fonts-noto-core) has them all, DejaVu too.
# Liberation (fonts-liberation2) lacks most of them, and Times New Roman is rarely installed on a server: a font
# missing glyphs would mix two typefaces inside one word, so neither is in the stack. CSS, written into <style> as is.
SERIF = Markup('"Noto Serif", "DejaVu Serif", serif')
SANS = Markup('"Noto Sans", "DejaVu Sans", sans-serif')


@cache
def _env() -> Environment:
    """Built on first use: the scheduler imports the completion service, and a tick that prints nothing should not
    load Jinja2."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    pdf: bytes
    pages: int


def html(template: str, **context: Any) -> str:
    return _env().get_template(template).render(serif=SERIF, sans=SANS, **context)


def pdf(markup: str, *, title: str) -> Rendered:
    import weasyprint  # a second to import: only a process that prints pays it

    inline_only = weasyprint.URLFetcher(allowed_protocols=("data",), allow_redirects=False)
    document = weasyprint.HTML(string=markup, url_fetcher=inline_only).render()
    document.metadata.title = title
    document.metadata.authors = []
    return Rendered(document.write_pdf(), len(document.pages))
