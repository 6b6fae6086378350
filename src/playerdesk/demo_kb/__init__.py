"""The demo's knowledge base: categories and articles shipped as files, loaded through the
knowledge-base service like an editor would write them.

`categories.json` maps each category key to its position and its name and description per
language; `<language>/<article key>.md` holds one article: front matter of plain
`name: value` lines between two `---` lines (key, category, status, title, summary), then
the Markdown body. The same key in several languages makes the articles translations of each
other. Loading is safe to repeat: a category or an article (key and language) that exists
already is left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from playerdesk.db.models import KbArticle, KbCategory
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import DomainError
from playerdesk.domain.kb import slugify
from playerdesk.domain.permissions import Actor
from playerdesk.services import kb

DEMO_KB_DIR = Path(__file__).parent
CATEGORIES_FILE = "categories.json"
DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "pl", "sv")
REQUIRED_FIELDS = ("key", "category", "status", "title")


class DemoKnowledgeBaseError(ValueError):
    """A shipped file that cannot be loaded; the message names the file."""


@dataclass(frozen=True, kw_only=True)
class ArticleFile:
    path: Path
    language: str
    key: str
    category: str
    status: str
    title: str
    summary: str
    body: str


@dataclass(frozen=True, kw_only=True)
class LoadReport:
    categories_created: int
    articles_created: int
    articles_present: int


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """`---`, plain `name: value` lines, `---`, then the body. Values are taken as written
    (no quoting, one line each); blank lines and lines starting with `#` are skipped."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise ValueError("the file does not start with a --- line")
    fields: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if stripped == "---":
            return fields, "\n".join(lines[number:]).strip() + "\n"
        if not stripped or stripped.startswith("#"):
            continue
        name, colon, value = stripped.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"line {number} is not 'name: value'")
        fields[name.strip().lower()] = value.strip()
    raise ValueError("the front matter has no closing --- line")


def read_article_file(path: Path, *, language: str) -> ArticleFile:
    try:
        fields, body = parse_front_matter(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DemoKnowledgeBaseError(f"{path}: {exc}") from exc
    missing = [name for name in REQUIRED_FIELDS if not fields.get(name)]
    if missing:
        raise DemoKnowledgeBaseError(f"{path}: missing {', '.join(missing)}")
    return ArticleFile(
        path=path,
        language=language,
        key=fields["key"],
        category=fields["category"],
        status=fields["status"],
        title=fields["title"],
        summary=fields.get("summary", ""),
        body=body,
    )


def article_files(directory: Path, *, languages: Sequence[str]) -> list[ArticleFile]:
    found: list[ArticleFile] = []
    for language in languages:
        folder = directory / language
        if folder.is_dir():
            found.extend(
                read_article_file(path, language=language) for path in sorted(folder.glob("*.md"))
            )
    return found


def _category_fields(key: str, entry: object, *, languages: Sequence[str]) -> kb.CategoryFields:
    if not isinstance(entry, dict):
        raise DemoKnowledgeBaseError(f"{CATEGORIES_FILE}: {key} is not an object")
    texts = {
        language: kb.CategoryText(
            name=str(entry[language].get("name", "")),
            description=str(entry[language].get("description", "")),
        )
        for language in languages
        if isinstance(entry.get(language), dict)
    }
    return kb.CategoryFields(key=key, position=int(entry.get("position", 0)), texts=texts)


def _unique_slug(title: str, *, key: str, taken: set[str]) -> str:
    slug = slugify(title)
    if slug in taken:
        slug = key
    taken.add(slug)
    return slug


async def seed_knowledge_base(
    uow: UnitOfWork,
    *,
    actor: Actor,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    directory: Path = DEMO_KB_DIR,
) -> LoadReport:
    """Create the categories and articles of `directory` that do not exist yet (each one
    its own transaction, through the service). Slugs are made from the titles."""
    categories = json.loads((directory / CATEGORIES_FILE).read_text(encoding="utf-8"))
    if not isinstance(categories, dict):
        raise DemoKnowledgeBaseError(f"{CATEGORIES_FILE}: not an object of categories")
    existing_categories = set((await uow.session.scalars(select(KbCategory.key))).all())
    categories_created = 0
    for key, entry in categories.items():
        if key in existing_categories:
            continue
        category = _category_fields(key, entry, languages=languages)
        try:
            await kb.create_category(uow, actor=actor, fields=category, languages=languages)
        except DomainError as exc:
            raise DemoKnowledgeBaseError(f"{CATEGORIES_FILE}: {key}: {exc.detail}") from exc
        categories_created += 1

    files = article_files(directory, languages=languages)
    stored = await uow.session.execute(select(KbArticle.key, KbArticle.language, KbArticle.slug))
    present: set[tuple[str, str]] = set()
    slugs: dict[str, set[str]] = {language: set() for language in languages}
    for key, language, slug in stored:
        present.add((key, language))
        slugs.setdefault(language, set()).add(slug)
    created = 0
    for article in files:
        if (article.key, article.language) in present:
            continue
        fields = kb.ArticleFields(
            category_key=article.category,
            language=article.language,
            key=article.key,
            slug=_unique_slug(article.title, key=article.key, taken=slugs[article.language]),
            title=article.title,
            summary=article.summary,
            body_markdown=article.body,
            status=article.status,
        )
        try:
            await kb.create_article(uow, actor=actor, fields=fields, languages=languages)
        except DomainError as exc:
            raise DemoKnowledgeBaseError(f"{article.path}: {exc.detail} ({exc.field})") from exc
        present.add((article.key, article.language))
        created += 1
    return LoadReport(
        categories_created=categories_created,
        articles_created=created,
        articles_present=len(present),
    )
