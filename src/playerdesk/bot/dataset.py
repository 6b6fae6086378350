"""The bot's training data and its held-out evaluation split (docs/BOT.md).

One JSON object per line: `{"text": ..., "intent": ..., "rg_risk": ...}`, optionally
`"lang"`; a file named after a language code (`pl.jsonl`) gives its lines that language.
`"translated_from": "en"` marks a line translated from a line of that language's file; it
is a note on where the line came from and changes nothing in training.
`"development_set": "look-alikes"` or `"asides"` marks a line of a set written to be hard
(harmless lines in a risk's words; a risk told in passing beside the same question without
it): the model learns from it like any line, but the risk threshold's rule does not count
its false alarms, because such lines are far commoner there than in a desk's traffic
(docs/BOT.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from playerdesk.bot.intents import Intent

DATA_DIR = Path(__file__).resolve().parent / "data"


class Split(StrEnum):
    TRAIN = "train"
    HELDOUT = "heldout"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: Intent
    rg_risk: bool
    language: str | None
    development_set: str | None = None


class DataError(ValueError):
    """A line of a data file that is not a valid example."""


def parse_line(line: str, *, language: str | None, where: str) -> Example:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not JSON ({exc.msg})") from exc
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected an object")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: `text` must be a non-empty string")
    try:
        intent = Intent(str(record.get("intent")))
    except ValueError as exc:
        raise DataError(f"{where}: unknown intent {record.get('intent')!r}") from exc
    rg_risk = record.get("rg_risk", False)
    if not isinstance(rg_risk, bool):
        raise DataError(f"{where}: `rg_risk` must be true or false")
    lang = record.get("lang", language)
    if lang is not None and not isinstance(lang, str):
        raise DataError(f"{where}: `lang` must be a string")
    development_set = record.get("development_set")
    if development_set is not None and not isinstance(development_set, str):
        raise DataError(f"{where}: `development_set` must be a string")
    return Example(
        text=text,
        intent=intent,
        rg_risk=rg_risk,
        language=lang,
        development_set=development_set,
    )


def read_examples(path: Path, *, language: str | None = None) -> list[Example]:
    """The examples of one JSON-lines file; blank lines are skipped."""
    examples: list[Example] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                examples.append(parse_line(line, language=language, where=f"{path}:{number}"))
    return examples


def split_files(split: Split, languages: Iterable[str]) -> list[Path]:
    """The shipped files of a split for these languages, those that exist."""
    folder = DATA_DIR / split.value
    return [path for code in languages if (path := folder / f"{code}.jsonl").is_file()]


def shipped_languages() -> tuple[str, ...]:
    """The languages with a shipped training file, sorted."""
    return tuple(sorted(path.stem for path in (DATA_DIR / Split.TRAIN.value).glob("*.jsonl")))


def load_split(split: Split, languages: Iterable[str]) -> list[Example]:
    examples: list[Example] = []
    for path in split_files(split, languages):
        examples.extend(read_examples(path, language=path.stem))
    return examples


def files_digest(paths: Sequence[Path]) -> str:
    """A digest of these files' names and contents: a model trained on other data is stale."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
