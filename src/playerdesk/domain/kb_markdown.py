"""Article Markdown to safe HTML, and the plain text that search and excerpts read.

CommonMark (markdown-it-py) with tables and strikethrough. Raw HTML in the Markdown is
parsed and then put through the same allow-list as everything else (nh3): what is left is
formatting only, never a script, an event handler, a style or a `javascript:` URL. Links of
the form `[text](kb:<article key>)` become the URL of that article in the same language, or
plain text when there is no such article to link to.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from playerdesk.domain.kb import is_key

LinkForKey = Callable[[str], str | None]

KB_SCHEME = "kb:"

_PARSER = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "hr", "h2", "h3", "h4", "h5", "h6",
        "strong", "em", "b", "i", "u", "s", "del", "ins", "mark", "small", "sub", "sup",
        "kbd", "code", "pre", "blockquote", "abbr",
        "ul", "ol", "li", "dl", "dt", "dd",
        "a", "img",
        "table", "thead", "tbody", "tr", "th", "td", "caption",
        "details", "summary",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "abbr": {"title"},
}
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto", "tel"})
# Removed together with everything inside them.
_DROPPED_WITH_CONTENT = {
    "script", "style", "template", "iframe", "object", "embed", "noscript", "textarea",
    "select", "svg", "math", "title", "head",
}  # fmt: skip

_KB_LINK = re.compile(r"\]\(\s*<?kb:([A-Za-z0-9-]+)")


def linked_keys(markdown: str) -> set[str]:
    """The article keys a Markdown text links to with kb: links."""
    return {key.lower() for key in _KB_LINK.findall(markdown)}


def sanitise_html(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _resolve_links(children: list[Token], link_for_key: LinkForKey) -> list[Token]:
    """kb: links pointed at their article; one that cannot be resolved keeps only its text."""
    kept: list[Token] = []
    open_links: list[bool] = []
    for token in children:
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            if href.lower().startswith(KB_SCHEME):
                key, _, fragment = href[len(KB_SCHEME) :].strip().lower().partition("#")
                url = link_for_key(key) if is_key(key) else None
                if url is None:
                    open_links.append(False)
                    continue
                token.attrSet("href", f"{url}#{fragment}" if fragment else url)
            open_links.append(True)
        elif token.type == "link_close" and open_links and not open_links.pop():
            continue
        kept.append(token)
    return kept


def render_markdown(markdown: str, *, language: str, link_for_key: LinkForKey) -> str:
    """Sanitised HTML for an article body. The page has the article's title as its only
    h1, so a `#` heading in the body becomes an h2. `language` is the article's: kb: links
    are resolved by `link_for_key` in that language."""
    tokens = _PARSER.parse(markdown)
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"
        elif token.type == "inline" and token.children:
            token.children = _resolve_links(token.children, link_for_key)
    rendered = _PARSER.renderer.render(tokens, _PARSER.options, {"language": language})
    return sanitise_html(rendered)


_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|dt|dd|pre|blockquote|tr|caption|summary)>|<br\s*/?>")
_CELL_END = re.compile(r"</t[hd]>")


def plain_text(safe_html: str) -> str:
    """The text of sanitised article HTML, one line per block, for search and excerpts."""
    # As a browser would: runs of white space are one space, blocks end lines.
    marked = " ".join(safe_html.split())
    marked = _CELL_END.sub(lambda match: match.group() + " ", marked)
    marked = _BLOCK_END.sub(lambda match: match.group() + "\n", marked)
    text = html.unescape(
        nh3.clean(marked, tags=set(), clean_content_tags=set(_DROPPED_WITH_CONTENT))
    )
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
