"""Reading a PDF the console or the CLI produced, as a person holding the paper would: its pages, its text, and what
each QR code on it says (pypdf takes the embedded images out, zxing-cpp reads them like a phone camera)."""

from __future__ import annotations

import io
import unicodedata

import zxingcpp
from pypdf import PdfReader


def reader(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    return PdfReader(io.BytesIO(pdf))


def text(pdf: bytes) -> str:
    """Every page's text, NFC (as Vietnamese is compared everywhere else)."""
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in reader(pdf).pages))


def page_texts(pdf: bytes) -> list[str]:
    return [unicodedata.normalize("NFC", page.extract_text()) for page in reader(pdf).pages]


def qr_codes(pdf: bytes) -> list[str]:
    """What each distinct embedded image decodes to, one entry per image that is a QR code. WeasyPrint shares one
    resource dictionary between pages, so images are collected across pages and counted once by their name."""
    seen: dict[str, str] = {}
    for page in reader(pdf).pages:
        for image in page.images:
            if image.name in seen:
                continue
            found = zxingcpp.read_barcodes(image.image)
            seen[image.name] = found[0].text if found else ""
    return [value for value in seen.values() if value]
