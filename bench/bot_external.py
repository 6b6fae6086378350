"""The bot on real text nobody here wrote: Banking77 and CLINC150 (issue 7), as JSON.

Reads `../shared/eval/` at run time (its README gives sources and licences); nothing of
those data sets is kept in the repository.

- `banking77`: the test items of the 27 Banking77 intents mapped to ours
  (`casino_intents.csv`; "top up" is a deposit): intent accuracy of the classifier, and
  through the whole pipeline the shares handed off, answered right and answered wrongly.
- `clinc150_oos`: the 1,000 out-of-scope test queries; `answered_in_scope_share` is the
  share the bot answers as if they were in scope (no hand-off, an intent other than
  `out_of_scope`). `clinc150_other_domains` does the same for CLINC150's in-scope test
  queries, which are of other domains (travel, cooking, ...) and so out of ours too.

Aims (issue 7): Banking77-mapped accuracy >= 75 %, out-of-scope answered <= 10 %.

    .venv/bin/python bench/bot_external.py
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playerdesk.bot.dataset import shipped_languages
from playerdesk.bot.encoder import configured_encoder
from playerdesk.bot.intents import Intent
from playerdesk.bot.nlu import load_or_train
from playerdesk.bot.pipeline import Bot

DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"


def _banking77(bot: Bot, eval_dir: Path) -> dict[str, Any]:
    folder = eval_dir / "banking77"
    with (folder / "casino_intents.csv").open(encoding="utf-8", newline="") as source:
        mapping = {
            row["banking77_label"]: Intent(row["playerdesk_intent"])
            for row in csv.DictReader(source)
        }
    with (folder / "test.csv").open(encoding="utf-8", newline="") as source:
        items = [
            (row["text"], mapping[row["category"]])
            for row in csv.DictReader(source)
            if row["category"] in mapping
        ]
    correct = handed_off = answered_right = answered_wrong = 0
    per_intent: dict[str, list[int]] = {}
    confusions: Counter[tuple[str, str]] = Counter()
    for text, expected in items:
        analysis = bot.analyse(text, profile_language="en")
        predicted = analysis.intent.intent
        hit = predicted is expected
        correct += hit
        tally = per_intent.setdefault(expected.value, [0, 0])
        tally[0] += hit
        tally[1] += 1
        if not hit:
            confusions[(expected.value, predicted.value)] += 1
        if analysis.decision.handoff:
            handed_off += 1
        elif hit:
            answered_right += 1
        else:
            answered_wrong += 1
    count = len(items)
    return {
        "items": count,
        "mapped_labels": len(mapping),
        "accuracy": round(correct / count, 4),
        "handed_off_share": round(handed_off / count, 4),
        "answered_right_share": round(answered_right / count, 4),
        "answered_wrongly_share": round(answered_wrong / count, 4),
        "per_intent_accuracy": {
            name: round(hits / total, 4) for name, (hits, total) in sorted(per_intent.items())
        },
        "top_confusions": [
            {"expected": expected, "predicted": predicted, "count": n}
            for (expected, predicted), n in confusions.most_common(8)
        ],
    }


def _out_of_scope(bot: Bot, queries: Sequence[str]) -> dict[str, Any]:
    answered = 0
    as_intent: Counter[str] = Counter()
    for text in queries:
        analysis = bot.analyse(text, profile_language="en")
        intent = analysis.intent.intent
        if not analysis.decision.handoff and intent is not Intent.OUT_OF_SCOPE:
            answered += 1
            as_intent[intent.value] += 1
    return {
        "queries": len(queries),
        "answered_in_scope_share": round(answered / len(queries), 4),
        "answered_as": dict(as_intent.most_common(8)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--data-dir", type=Path, help="where the model is kept")
    parser.add_argument("--encoder", type=Path, help="a sentence encoder's folder (optional)")
    args = parser.parse_args()
    encoder = configured_encoder(args.encoder)
    with tempfile.TemporaryDirectory() as scratch:
        model, trained = load_or_train(args.data_dir or Path(scratch), encoder=encoder)
    bot = Bot(model, languages=shipped_languages())
    clinc = json.loads((args.eval_dir / "clinc150" / "data_full.json").read_text("utf-8"))
    result = {
        "benchmark": "bot_external",
        "model_trained_now": trained,
        "encoder": model.header.encoder,
        "banking77": _banking77(bot, args.eval_dir),
        "clinc150_oos": _out_of_scope(bot, [text for text, _label in clinc["oos_test"]]),
        "clinc150_other_domains": _out_of_scope(bot, [text for text, _label in clinc["test"]]),
        "aims": {"banking77_accuracy_min": 0.75, "oos_answered_max": 0.10},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
