"""Jinja2 rendering with autoescaping and the agent's language."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from playerdesk.i18n import language_name, negotiate, translations
from playerdesk.web.console.labels import labels
from playerdesk.web.console.sla import format_duration

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"
LANGUAGE_COOKIE = "pd_lang"


def _format_time(value: datetime, *, language: str) -> str:
    """Short, locale-formatted time in UTC (the page says so next to it)."""
    return str(format_datetime(value, "short", tzinfo=UTC, locale=language))


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["labels"] = labels(language)
    env.globals["language_name"] = partial(language_name, in_language=language)
    env.filters["utc_time"] = partial(_format_time, language=language)
    env.filters["duration"] = partial(
        format_duration, days_template=duration_days_template(language)
    )
    return env


def duration_days_template(language: str) -> str:
    _ = translations(language).gettext
    # Translators: a long SLA countdown: {days} days and {hours} hours, kept short.
    return _("{days} d {hours} h")


def request_language(request: Request, *, supported: list[str], default: str) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in supported:
        return str(chosen)
    return negotiate(request.headers.get("accept-language"), supported=supported, default=default)


def render(template: str, *, language: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment(language).get_template(template).render(language=language, **context)
    return HTMLResponse(html, status_code=status_code)
