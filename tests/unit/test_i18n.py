"""Language negotiation and the completeness of the Polish and Swedish catalogs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from playerdesk.domain.enums import Channel, Priority, TicketStatus
from playerdesk.i18n import catalog_path, language_name, negotiate, translations
from playerdesk.web.console.labels import labels

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIR = ROOT / "src" / "playerdesk"
TRANSLATED = ["pl", "sv"]
SUPPORTED = ["en", "pl", "sv"]
# %(name)s / %s / %d style and {name} style; "%%" and "{{" are escapes, not placeholders.
PLACEHOLDER = re.compile(r"%%|\{\{|\}\}|%\([A-Za-z_]\w*\)[sdifr]|%[sdifr]|\{[A-Za-z_]\w*\}")
ESCAPES = frozenset({"%%", "{{", "}}"})

MessageKey = tuple[str | None, str]


def extracted_messages() -> dict[MessageKey, str | tuple[str, ...]]:
    """Every translatable string in the source, found with the settings of babel.cfg."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[MessageKey, str | tuple[str, ...]] = {}
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(SOURCE_DIR), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        singular = message if isinstance(message, str) else message[0]
        found[(context, singular)] = message
    return found


def load_catalog(language: str) -> Catalog:
    with catalog_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def entries(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def placeholders(text: str) -> list[str]:
    return sorted(token for token in PLACEHOLDER.findall(text) if token not in ESCAPES)


# Negotiation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("pl", "pl"),
        ("sv-SE", "sv"),
        ("PL-pl", "pl"),
        ("pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7", "pl"),
        ("en;q=0.5, sv", "sv"),
        ("de-DE, sv;q=0.3, pl;q=0.6", "pl"),
        ("de, fr;q=0.9", "en"),
        ("*", "en"),
        ("sv;q=0, pl;q=0.1", "pl"),
        ("sv;q=0", "en"),
        ("sv;q=abc, pl;q=0.2", "pl"),
        ("pl;q=0.8, sv;q=0.8", "pl"),
        ("sv ; q=0.9 , pl ; q=0.4", "sv"),
        ("pl;level=1;q=0.2, sv;q=0.5", "sv"),
        ("sv;q=inf, pl;q=0.9", "pl"),
        ("sv;q=5, pl", "sv"),
        (",,;;q=,", "en"),
    ],
)
def test_negotiate(header: str | None, expected: str) -> None:
    assert negotiate(header, supported=SUPPORTED, default="en") == expected


def test_negotiate_returns_the_given_default_and_only_supported_languages() -> None:
    assert negotiate("pl", supported=["en", "sv"], default="sv") == "sv"
    assert negotiate("en", supported=["en", "sv"], default="sv") == "en"


@pytest.mark.parametrize(
    ("code", "in_language", "expected"),
    [
        ("pl", "en", "Polish"),
        ("pl", "pl", "Polski"),
        ("sv", "sv", "Svenska"),
        ("en", "sv", "Engelska"),
        ("xx", "en", "xx"),
    ],
)
def test_language_name(code: str, in_language: str, expected: str) -> None:
    assert language_name(code, in_language=in_language) == expected


# Catalogs -------------------------------------------------------------------------------


def test_the_extraction_finds_the_console_strings() -> None:
    # Guards the test below: an extraction that finds nothing would make it pass vacuously.
    found = extracted_messages()
    assert (None, "Sign in") in found
    assert (None, "Signed in as %(name)s") in found
    assert ("ticket status", "On hold") in found
    assert found[(None, "Too many failed attempts. Try again in {minutes} minute.")] == (
        "Too many failed attempts. Try again in {minutes} minute.",
        "Too many failed attempts. Try again in {minutes} minutes.",
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_source_string_is_translated(language: str) -> None:
    catalog = load_catalog(language)
    missing: list[MessageKey] = []
    for (context, singular), message in extracted_messages().items():
        entry = catalog.get(singular, context=context)
        if entry is None:
            missing.append((context, singular))
            continue
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected_forms = catalog.num_plurals if isinstance(message, tuple) else 1
        if len(forms) != expected_forms or not all(form and form.strip() for form in forms):
            missing.append((context, singular))
    assert missing == [], f"untranslated in {language}; run `make messages` and translate"


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_has_no_fuzzy_or_stale_entries(language: str) -> None:
    catalog = load_catalog(language)
    source = set(extracted_messages())

    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    assert [message.id for message in entries(catalog) if message.fuzzy] == []
    stale = [
        (message.context, message.id)
        for message in entries(catalog)
        if (message.context, message.id if isinstance(message.id, str) else message.id[0])
        not in source
    ]
    assert stale == [], "strings no longer in the source; run `make messages`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder(language: str) -> None:
    broken: list[str] = []
    for message in entries(load_catalog(language)):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = placeholders(ids[-1])
        assert all(placeholders(msgid) == wanted for msgid in ids)
        broken.extend(form for form in forms if placeholders(form) != wanted)
    assert broken == []


def test_placeholder_pattern() -> None:
    assert placeholders("Hi %(name)s, %d new in {minutes} min") == ["%(name)s", "%d", "{minutes}"]
    assert placeholders("100%% sure, {{literal}}, %%s") == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_declares_its_language_and_plural_rule(language: str) -> None:
    catalog = load_catalog(language)

    assert str(catalog.locale) == language
    assert catalog.num_plurals == {"pl": 3, "sv": 2}[language]


# Compiled translations ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "count", "ending"),
    [
        ("en", 1, "in 1 minute."),
        ("en", 5, "in 5 minutes."),
        ("pl", 1, "za 1 minutę."),
        ("pl", 3, "za 3 minuty."),
        ("pl", 5, "za 5 minut."),
        ("pl", 12, "za 12 minut."),
        ("pl", 22, "za 22 minuty."),
        ("sv", 1, "om 1 minut."),
        ("sv", 15, "om 15 minuter."),
    ],
)
def test_plural_forms(language: str, count: int, ending: str) -> None:
    text = translations(language).ngettext(
        "Too many failed attempts. Try again in {minutes} minute.",
        "Too many failed attempts. Try again in {minutes} minutes.",
        count,
    )
    assert text.format(minutes=count).endswith(ending)


def test_unknown_and_source_languages_fall_back_to_the_english_text() -> None:
    assert translations("en").gettext("Sign in") == "Sign in"
    assert translations("de").gettext("Sign in") == "Sign in"
    assert translations("pl").gettext("Sign in") == "Zaloguj się"
    assert translations("sv").pgettext("ticket status", "New") == "Nytt"


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_every_status_priority_and_channel_has_a_label(language: str) -> None:
    table = labels(language)

    assert set(table.statuses) == {status.value for status in TicketStatus}
    assert set(table.priorities) == {priority.value for priority in Priority}
    assert set(table.channels) == {channel.value for channel in Channel}
    assert all(table.statuses.values())
    assert table.status("some_future_status") == "some_future_status"


def test_status_labels_are_really_translated() -> None:
    english = labels("en").statuses
    for language in TRANSLATED:
        translated = labels(language).statuses
        assert all(translated[key] != english[key] for key in english), language
