"""Knowledge-base text rules: normalisation, query words and their forms, ranking, excerpts,
slugs, Markdown rendering and sanitising, and the demo files' front matter."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playerdesk.demo_kb import parse_front_matter
from playerdesk.domain.kb import (
    SearchDocument,
    excerpt,
    fold,
    index_text,
    is_key,
    query_terms,
    score,
    slugify,
    word_forms,
    words,
)
from playerdesk.domain.kb_markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    linked_keys,
    plain_text,
    render_markdown,
)


def matches(query: str, text: str, *, language: str) -> bool:
    """Whether every query word finds a word of the text, as search does."""
    indexed = index_text(text).split()
    return all(
        any(term.matches(word) for word in indexed)
        for term in query_terms(query, language=language)
    )


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Wypłatę", "wyplate"),
        ("ŁÓDŹ żółć", "lodz zolc"),
        ("Uttag ÅÄÖ", "uttag aao"),
        ("Øre Ærø", "ore aero"),
        ("Straße", "strasse"),
        ("Œuvre Þór", "oeuvre thor"),
        ("Crème brûlée", "creme brulee"),
    ],
)
def test_fold_drops_case_and_diacritics(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_words_are_letters_and_digits() -> None:
    assert words("E-mail: support@casino.example, 2FA (24h)!") == [
        "e",
        "mail",
        "support",
        "casino",
        "example",
        "2fa",
        "24h",
    ]


@pytest.mark.parametrize(
    ("query", "text", "language"),
    [
        ("wypłaty", "Ile trwa wypłata?", "pl"),
        ("wypłatę", "Ile trwa wypłata?", "pl"),
        ("wyplata", "Dlaczego moja wypłata czeka", "pl"),
        ("WYPŁACIE", "Informacje o wypłatach", "pl"),
        ("koncie", "Jak zamknąć konto", "pl"),
        ("weryfikacji", "Weryfikacja konta", "pl"),
        ("uttaget", "Hur lång tid tar ett uttag?", "sv"),
        ("uttag", "Uttaget behandlas inom 24 timmar", "sv"),
        ("uttag", "Din uttagsgräns", "sv"),
        ("kontot", "Öppna ett konto", "sv"),
        ("insattning", "Insättningen syns inte", "sv"),
        ("withdrawals", "How long does a withdrawal take?", "en"),
        ("withdrawing", "Withdrawal times", "en"),
        ("bonuses", "Your welcome bonus", "en"),
        ("verified", "Verification documents", "en"),
        ("withdr", "Withdrawal times", "en"),
    ],
)
def test_inflected_forms_and_prefixes_meet(query: str, text: str, language: str) -> None:
    assert matches(query, text, language=language)


@pytest.mark.parametrize(
    ("query", "text", "language"),
    [
        ("deposit", "How long does a withdrawal take?", "en"),
        ("wpłata", "Ile trwa wypłata?", "pl"),  # a deposit is not a withdrawal
        ("insättning", "Hur lång tid tar ett uttag?", "sv"),
    ],
)
def test_other_words_do_not_meet(query: str, text: str, language: str) -> None:
    assert not matches(query, text, language=language)


def test_stop_words_are_dropped_unless_nothing_else_is_left() -> None:
    assert [
        term.word for term in query_terms("How long does a withdrawal take?", language="en")
    ] == [
        "long",
        "withdrawal",
        "take",
    ]
    assert [term.word for term in query_terms("jak się", language="pl")] == ["jak", "sie"]
    assert query_terms("  ?!  ", language="en") == []


def test_word_forms_keep_only_the_shortest_prefixes() -> None:
    assert word_forms("uttaget", language="sv") == {"uttag"}
    assert word_forms("wypłacie".replace("ł", "l"), language="pl") == {"wyplac", "wyplat"}
    assert word_forms("cases", language="en") == {"case"}


@given(st.text(max_size=200), st.sampled_from(["en", "pl", "sv", "de"]))
def test_every_form_is_a_clean_prefix(query: str, language: str) -> None:
    for term in query_terms(query, language=language):
        assert term.forms
        for form in term.forms:
            assert form.isascii() and form.isalnum() and form == form.lower()
        # Only endings are stripped (or replaced by a shorter one): no form outgrows its word.
        assert all(len(form) <= len(term.word) for form in term.forms)


def test_title_outweighs_summary_outweighs_body() -> None:
    terms = query_terms("bonus", language="en")
    in_title = SearchDocument(title="bonus rules", summary="", body="wagering explained")
    in_summary = SearchDocument(title="rules", summary="bonus", body="wagering explained")
    in_body = SearchDocument(title="rules", summary="", body="bonus bonus bonus bonus bonus")
    title_score, summary_score, body_score = score(terms, [in_title, in_summary, in_body])
    assert title_score > summary_score > body_score > 0


def test_a_document_needs_half_of_the_query_words() -> None:
    terms = query_terms("withdrawal pending bank", language="en")
    one = SearchDocument(title="bank holidays", summary="", body="")
    two = SearchDocument(title="pending withdrawal", summary="", body="")
    assert score(terms, [one, two])[0] == 0
    assert score(terms, [one, two])[1] > 0


def test_excerpt_shows_the_passage_around_the_first_match() -> None:
    text = " ".join(f"word{index}" for index in range(60)) + " Wypłatę zlecisz w panelu konta."
    result = excerpt(text, query_terms("wyplata", language="pl"))
    assert "Wypłatę zlecisz" in result
    assert result.startswith("… ")
    assert excerpt("Short text.", query_terms("missing", language="en")) == "Short text."


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("How long does a withdrawal take?", "how-long-does-a-withdrawal-take"),
        ("Ile trwa wypłata?", "ile-trwa-wyplata"),
        ("Hur lång tid tar ett uttag?", "hur-lang-tid-tar-ett-uttag"),
        ("???", "article"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug
    assert is_key(slug)


def test_keys() -> None:
    assert is_key("withdrawals-times")
    assert not is_key("Withdrawals")
    assert not is_key("a--b")
    assert not is_key("-a")
    assert not is_key("a" * 101)


# Markdown --------------------------------------------------------------------------------

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    "<iframe src=https://evil.example></iframe>",
    '<svg onload="alert(1)"><circle/></svg>',
    "<div style=\"background:url('javascript:alert(1)')\">x</div>",
    '<form action="https://evil.example"><input name=x></form>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '<a href="vbscript:msgbox(1)">v</a>',
    "<object data=evil.swf></object><embed src=evil.swf>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    '<p onclick="alert(1)" onmouseover=alert(1)>p</p>',
    "<<script>script>alert(1)<</script>/script>",
]


class _Elements(HTMLParser):
    """Every element and attribute of an HTML fragment, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def assert_harmless(html: str) -> None:
    elements = _Elements()
    elements.feed(html)
    elements.close()
    assert elements.tags <= ALLOWED_TAGS
    for tag, name, value in elements.attributes:
        assert name in ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}, (tag, name)
        if name in ("href", "src"):
            assert url_scheme(value) in ("", "http", "https", "mailto", "tel"), value


# A browser drops tabs and newlines anywhere in a URL and control characters and spaces
# around it; what comes before the first ":" is a scheme only if it has a scheme's shape
# ("onerror=javascript:x" is a relative path).
_URL_NOISE = re.compile(r"[\t\n\r]|^[\x00-\x20]+|[\x00-\x20]+$")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")


def url_scheme(url: str) -> str:
    cleaned = _URL_NOISE.sub("", url)
    found = _SCHEME.match(cleaned)
    return found.group(1).lower() if found else ""


def test_url_schemes_are_read_as_a_browser_reads_them() -> None:
    assert url_scheme(" java\tscript:alert(1)") == "javascript"
    assert url_scheme("\x01JaVaScRiPt:x") == "javascript"
    assert url_scheme("onerror=javascript:") == ""
    assert url_scheme("/help/en/a") == ""
    assert url_scheme("https://example.com") == "https"


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_never_lets_script_through(attack: str) -> None:
    html = render_markdown(f"Text before.\n\n{attack}\n\nAfter.", language="en", link_for_key=_none)
    assert_harmless(html)
    assert "<script" not in html.lower()
    assert "Text before." in html and "After." in html


@given(st.text(max_size=300))
def test_any_text_renders_to_harmless_html(markdown: str) -> None:
    assert_harmless(render_markdown(markdown, language="en", link_for_key=_none))


@given(
    st.lists(
        st.sampled_from(
            [
                "<a href=",
                "javascript:",
                "<img src=x ",
                "onerror=",
                "alert(1)",
                ">",
                '"',
                "'",
                "](",
                "[",
                ")",
                "<script>",
                "</",
                "&#x09;",
                " ",
                "\n",
                "kb:",
                "style=",
            ]
        ),
        max_size=30,
    )
)
def test_pieces_of_attacks_render_to_harmless_html(pieces: list[str]) -> None:
    assert_harmless(render_markdown("".join(pieces), language="en", link_for_key=_none))


def _none(key: str) -> str | None:
    return None


def test_kb_links_point_at_the_article_or_stay_text() -> None:
    targets = {"withdrawals-pending": "/help/pl/withdrawals/dlaczego-wyplata-czeka"}
    html = render_markdown(
        "Zobacz [oczekujące](kb:withdrawals-pending#powody) i [brak](kb:nothing-here).",
        language="pl",
        link_for_key=targets.get,
    )
    assert '<a href="/help/pl/withdrawals/dlaczego-wyplata-czeka#powody"' in html
    assert "brak" in html and "kb:" not in html
    assert html.count("<a ") == 1


def test_headings_start_at_h2_and_formatting_survives() -> None:
    html = render_markdown(
        "# Title\n\n## Part\n\n**bold** *em* `code`\n\n- one\n- two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |",
        language="en",
        link_for_key=_none,
    )
    assert "<h1" not in html
    assert "<h2>Title</h2>" in html and "<h2>Part</h2>" in html
    for tag in ("<strong>bold</strong>", "<em>em</em>", "<code>code</code>", "<li>one</li>"):
        assert tag in html
    assert "<table>" in html


def test_plain_text_has_the_words_without_markup() -> None:
    html = render_markdown(
        "## Times\n\nA **withdrawal** takes *24 hours* &amp; more.\n\n<script>secret()</script>",
        language="en",
        link_for_key=_none,
    )
    assert plain_text(html) == "Times\nA withdrawal takes 24 hours & more."


def test_linked_keys() -> None:
    assert linked_keys("[a](kb:One-two) [b](<kb:three>) [c](https://x.example)") == {
        "one-two",
        "three",
    }


def test_front_matter() -> None:
    fields, body = parse_front_matter(
        "\ufeff---\r\nkey: withdrawals-times\r\ntitle: Ile trwa wypłata: krótko?\r\n---\r\n"
        "Body **here**.\r\n"
    )
    assert fields == {"key": "withdrawals-times", "title": "Ile trwa wypłata: krótko?"}
    assert body == "Body **here**.\n"
    with pytest.raises(ValueError, match="closing"):
        parse_front_matter("---\nkey: x\nsummary: y")
    with pytest.raises(ValueError, match="name: value"):
        parse_front_matter("---\njust words\n---\n")
