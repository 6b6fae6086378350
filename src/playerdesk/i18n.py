"""gettext for every user-visible string. Catalogs ship as .po files and are compiled in
memory with Babel on first use, so there is no build step and no binary in the repository.

English is the source language: its strings live in the code, so it needs no catalog.
`make messages` re-extracts the strings and updates the Polish and Swedish catalogs.
"""

from __future__ import annotations

import gettext
import io
import math
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "playerdesk"
SOURCE_LANGUAGE = "en"


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog for a language (fuzzy entries are left out, as msgfmt does)."""
    path = catalog_path(language)
    if language == SOURCE_LANGUAGE or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return min(quality, 1.0) if math.isfinite(quality) else 0.0
    return 1.0


def negotiate(accept_language: str | None, *, supported: list[str], default: str) -> str:
    """Pick the best supported language from an Accept-Language header.

    Only the primary subtag is compared ("pl-PL" means "pl"); ties in quality keep the
    header's order; "q=0" rules a language out; anything unparsable counts for nothing.
    """
    if not accept_language:
        return default
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, *params = part.split(";")
        primary = tag.strip().split("-")[0].lower()
        quality = _quality(params)
        if primary in supported and quality > 0:
            weighted.append((-quality, position, primary))
    return min(weighted)[2] if weighted else default


@cache
def language_name(code: str, *, in_language: str) -> str:
    """A language's name as readers of `in_language` write it ("Polish", "polski", "polska"),
    capitalised for use as a label; the code itself when CLDR does not know it."""
    try:
        name = Locale.parse(code).get_display_name(Locale.parse(in_language))
    except (ValueError, UnknownLocaleError):
        return code
    return (name[:1].upper() + name[1:]) if name else code
