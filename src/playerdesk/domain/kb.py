"""Knowledge-base rules that need no storage: article statuses, keys and slugs, and the text
handling behind search.

Search works on a normalised text: casefolded, diacritics removed (ł -> l, ø -> o, æ -> ae,
ß -> ss, as well as the accents Unicode decomposes), cut into words of letters and digits.
The index keeps the words as written (normalised); a query word is shortened by a light
suffix stripping for its language ("wypłaty" -> "wyplat", "uttaget" -> "uttag",
"withdrawals" -> "withdrawal") and every shortened form is matched as a prefix, so that
"wypłatę", "wyplata" and "wypłacie" meet "wypłaty", and "uttag" meets "Uttaget" and
"uttagsgräns". Both database engines only find the candidates (prefix matches of any query
word); the order comes from `score`, here, so that SQLite and PostgreSQL rank alike.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class ArticleStatus(StrEnum):
    DRAFT = "draft"  # being written: editors only
    INTERNAL = "internal"  # for agents, never shown to players
    PUBLISHED = "published"  # in the help centre
    ARCHIVED = "archived"  # retired: editors only, kept with its versions


PUBLIC_STATUSES: frozenset[ArticleStatus] = frozenset({ArticleStatus.PUBLISHED})
AGENT_STATUSES: frozenset[ArticleStatus] = frozenset(
    {ArticleStatus.PUBLISHED, ArticleStatus.INTERNAL}
)

MAX_KEY_LENGTH = 100
MAX_SLUG_LENGTH = 120
MAX_TITLE_LENGTH = 200
MAX_SUMMARY_LENGTH = 500
MAX_BODY_LENGTH = 50_000
MAX_CATEGORY_NAME_LENGTH = 100
MAX_CATEGORY_DESCRIPTION_LENGTH = 500
MAX_FEEDBACK_COMMENT_LENGTH = 1000
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8

_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def is_key(value: str, *, max_length: int = MAX_KEY_LENGTH) -> bool:
    """A key or slug: lowercase ASCII letters and digits in words joined by single hyphens."""
    return len(value) <= max_length and _KEY.match(value) is not None


# Normalisation -----------------------------------------------------------------------------

# Letters that Unicode does not decompose into a base letter and a mark.
_SPECIAL_LETTERS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
    }
)
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Casefolded, without diacritics: "Wypłatę ÅTERBETALNING Straße" -> "wyplate
    aterbetalning strasse"."""
    folded = text.casefold().translate(_SPECIAL_LETTERS)
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    """The normalised words of a text, in order."""
    return _WORD.findall(fold(text))


def index_text(text: str) -> str:
    """What the search index stores for a text: its normalised words, space-separated."""
    return " ".join(words(text))


# Light suffix stripping --------------------------------------------------------------------

# (suffix, replacement, shortest stem left). Every rule that applies gives one more form of
# the query word; forms are matched as prefixes, so the shortest form decides recall. The
# lists are deliberately short: inflection endings only, nothing that changes a word's sense.
_Rule = tuple[str, str, int]

_ENGLISH: tuple[_Rule, ...] = (
    ("ies", "y", 3),
    ("ied", "y", 3),
    ("es", "", 4),  # "bonuses" -> "bonus" ("cases" keeps "case" through the "s" rule)
    ("s", "", 3),
    ("ing", "", 4),
    ("ed", "", 4),
    ("ly", "", 4),
)

_POLISH: tuple[_Rule, ...] = (
    # case and number endings of nouns
    ("ami", "", 3),
    ("ach", "", 3),
    ("om", "", 3),
    ("ow", "", 3),
    ("em", "", 3),
    ("ie", "", 3),
    ("a", "", 3),
    ("e", "", 3),
    ("i", "", 3),
    ("o", "", 3),
    ("u", "", 3),
    ("y", "", 3),
    # locative and dative alternations: "wypłacie" ~ "wypłata", "koncie" ~ "konto",
    # "gotówce" ~ "gotówka", "kasjerze" ~ "kasjer", "nodze" ~ "noga"
    ("cie", "t", 3),
    ("dzie", "d", 3),
    ("ce", "k", 3),
    ("dze", "g", 3),
    ("rze", "r", 3),
    # adjectives
    ("ego", "", 3),
    ("emu", "", 3),
    ("ej", "", 3),
    ("ym", "", 3),
    ("ich", "", 3),
    ("ych", "", 3),
    ("ymi", "", 3),
    ("imi", "", 3),
    # verbs: infinitive and verbal nouns ("wypłacić", "weryfikowanie")
    ("ac", "", 4),
    ("ic", "", 4),
    ("yc", "", 4),
    ("ec", "", 4),
    ("anie", "", 4),
    ("enie", "", 4),
)

_SWEDISH: tuple[_Rule, ...] = (
    ("arnas", "", 3),
    ("ernas", "", 3),
    ("ornas", "", 3),
    ("arna", "", 3),
    ("erna", "", 3),
    ("orna", "", 3),
    ("ens", "", 3),
    ("ets", "", 3),
    ("et", "", 3),
    ("en", "", 3),
    ("an", "", 3),
    ("na", "", 3),
    ("ar", "", 3),
    ("er", "", 3),
    ("or", "", 3),
    ("ade", "", 3),
    ("at", "", 3),
    ("s", "", 3),
    ("a", "", 3),
    ("e", "", 3),
    ("t", "", 4),  # "kontot" -> "konto"
    ("n", "", 4),  # "konton" -> "konto"
)

_RULES: dict[str, tuple[_Rule, ...]] = {"en": _ENGLISH, "pl": _POLISH, "sv": _SWEDISH}


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _word_set(
        "a an the and or of to in on for is are was were be been it its my me i you your "
        "how what when where why which who do does did can could will would should with at "
        "by from this that as not no have has had get got so if there their they we our"
    ),
    "pl": _word_set(
        "a i w we z ze na do nie sie jak co czy to jest sa o od po za mi mnie moje moj moja "
        "jaki jaka jakie kiedy dlaczego gdzie ile ale lub oraz byc by tak ten ta te juz "
        "mam moge"
    ),
    "sv": _word_set(
        "och att det i pa en ett ar som for med av till om hur vad nar varfor var jag min "
        "mitt mina du din ditt kan inte har den de ska vara sa man mig vi er"
    ),
}


def word_forms(word: str, *, language: str) -> frozenset[str]:
    """The forms of a normalised query word to match as prefixes: the word itself and what
    each suffix rule of the language leaves of it (minimal: no form is a prefix of another,
    since the shorter one already matches everything the longer one would)."""
    forms = {word}
    for suffix, replacement, shortest in _RULES.get(language, _ENGLISH):
        if word.endswith(suffix) and len(word) - len(suffix) >= shortest:
            forms.add(word[: len(word) - len(suffix)] + replacement)
    return frozenset(
        form
        for form in forms
        if not any(other != form and form.startswith(other) for other in forms)
    )


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One word of a query: found when a word of the text starts with any of its forms."""

    word: str
    forms: frozenset[str]

    def matches(self, word: str) -> bool:
        return any(word.startswith(form) for form in self.forms)


def query_terms(query: str, *, language: str) -> list[QueryTerm]:
    """The words of a search query, normalised, without stop words (unless nothing else is
    left), each with its forms; at most MAX_QUERY_WORDS, repeats dropped."""
    found = words(query[:MAX_QUERY_LENGTH])
    stopwords = _STOPWORDS.get(language, frozenset())
    meaningful = [word for word in found if word not in stopwords] or found
    terms: list[QueryTerm] = []
    seen: set[str] = set()
    for word in meaningful:
        if word in seen:
            continue
        seen.add(word)
        terms.append(QueryTerm(word=word, forms=word_forms(word, language=language)))
        if len(terms) == MAX_QUERY_WORDS:
            break
    return terms


def all_forms(terms: Sequence[QueryTerm]) -> list[str]:
    """Every prefix to look up in the index, in a stable order."""
    return sorted({form for term in terms for form in term.forms})


# Ranking -----------------------------------------------------------------------------------

TITLE_WEIGHT = 10.0
SUMMARY_WEIGHT = 4.0
BODY_WEIGHT = 1.0
_SATURATION = 1.2


@dataclass(frozen=True, slots=True)
class SearchDocument:
    """An article as the index holds it: normalised words of each part."""

    title: str
    summary: str
    body: str


def _prefix_pattern(term: QueryTerm) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(form) for form in sorted(term.forms))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})")


def _saturated(count: int) -> float:
    return count * (_SATURATION + 1) / (count + _SATURATION)


def score(
    terms: Sequence[QueryTerm],
    documents: Sequence[SearchDocument],
) -> list[float]:
    """A relevance score for each document (0: not a match). Title above summary above body,
    each with a saturating term frequency; words found in fewer of the documents count more;
    a document must hold at least half of the query's words, and the share it holds weighs
    in squared. Same documents, same scores, whichever engine found them."""
    if not terms or not documents:
        return [0.0] * len(documents)
    patterns = [_prefix_pattern(term) for term in terms]
    counts = [
        [
            (
                len(pattern.findall(document.title)),
                len(pattern.findall(document.summary)),
                len(pattern.findall(document.body)),
            )
            for pattern in patterns
        ]
        for document in documents
    ]
    total = len(documents)
    document_frequency = [
        sum(1 for per_document in counts if sum(per_document[index]) > 0)
        for index in range(len(terms))
    ]
    needed = math.ceil(len(terms) / 2)
    scores: list[float] = []
    for per_document in counts:
        matched = 0
        value = 0.0
        for index, (in_title, in_summary, in_body) in enumerate(per_document):
            if in_title + in_summary + in_body == 0:
                continue
            matched += 1
            rarity = math.log(1 + total / document_frequency[index]) + 0.1
            value += rarity * (
                TITLE_WEIGHT * _saturated(in_title)
                + SUMMARY_WEIGHT * _saturated(in_summary)
                + BODY_WEIGHT * _saturated(in_body)
            )
        if matched < needed:
            scores.append(0.0)
            continue
        coverage = matched / len(terms)
        scores.append(round(value * coverage * coverage, 4))
    return scores


# Excerpts ----------------------------------------------------------------------------------

_TEXT_WORD = re.compile(r"\w+")
EXCERPT_WORDS = 28
_WORDS_BEFORE = 8


def excerpt(text: str, terms: Iterable[QueryTerm], *, max_words: int = EXCERPT_WORDS) -> str:
    """A short plain-text passage of `text` around the first word a query term matches (the
    start of the text when none does), with "…" where it was cut."""
    found = list(_TEXT_WORD.finditer(text))
    if not found:
        return ""
    term_list = list(terms)
    first = 0
    for position, match in enumerate(found):
        if any(term.matches(part) for part in words(match.group()) for term in term_list):
            first = position
            break
    start = max(0, first - _WORDS_BEFORE) if first else 0
    end = min(len(found), start + max_words)
    start = max(0, min(start, end - max_words))
    begin_at = found[start].start()
    end_at = found[end - 1].end()
    # Keep a closing punctuation mark that belongs to the last word.
    while end_at < len(text) and text[end_at] in ".,;:!?)»”\"'":
        end_at += 1
    passage = " ".join(text[begin_at:end_at].split())
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(found) else ""
    return f"{prefix}{passage}{suffix}"


# Slugs -------------------------------------------------------------------------------------

SLUG_TARGET_LENGTH = 80


def slugify(title: str, *, max_length: int = SLUG_TARGET_LENGTH) -> str:
    """A URL slug from a title: normalised words joined by hyphens, cut at a word boundary."""
    slug = ""
    for word in words(title):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or "article"
