"""The risk classifier's threshold by the rule of `bot/protection.py`, printed as JSON.

The training split's lines are scored out of fold (5 folds, stratified by intent, language
and risk, shuffled with seed 0): each fold's features and risk classifier are fitted on the
other four. The threshold is the lowest, in steps of 0.01, at which the patterns (where the
classifier gives at least `PATTERN_GATE`) or the classifier flag at most `--false-positives`
(2.5 %) of the lines without risk written as a desk's traffic: the lines of a development
set (`"development_set"`, written to be hard) are scored and learnt from, but their false
alarms are not counted, because look-alikes are far commoner there than on a desk. The
JSON also gives the out-of-fold recall there, over the desk's lines and over the
development sets' apart. Run it after the training lines or the patterns change and set
`CLASSIFIER_THRESHOLD` to what it prints (docs/BOT.md):

    .venv/bin/python scripts/bot_risk_threshold.py
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from sklearn.model_selection import StratifiedKFold

from playerdesk.bot.dataset import Split, load_split, shipped_languages
from playerdesk.bot.features import TextFeatures
from playerdesk.bot.protection import PATTERN_GATE, RiskClassifier, match_signals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--false-positives", type=float, default=0.025)
    args = parser.parse_args()

    examples = load_split(Split.TRAIN, shipped_languages())
    texts = [example.text for example in examples]
    risky = np.array([example.rg_risk for example in examples])
    written_hard = np.array([example.development_set is not None for example in examples])
    matched = np.array([bool(match_signals(text)) for text in texts])
    scores = np.zeros(len(texts))
    strata = [f"{e.intent.value}|{e.language}|{e.rg_risk}" for e in examples]
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for fitted, scored in folds.split(texts, strata):
        features = TextFeatures().fit([texts[i] for i in fitted])
        classifier = RiskClassifier(features, seed=7).fit(
            features.transform([texts[i] for i in fitted]),
            [risky[i] for i in fitted],
            intents=[examples[i].intent.value for i in fitted],
        )
        scores[scored] = classifier.scores([texts[i] for i in scored])
    patterns_count = matched & (scores >= PATTERN_GATE)
    for step in range(1, 100):
        threshold = step / 100
        flagged = patterns_count | (scores >= threshold)
        false_positives = float(flagged[~risky & ~written_hard].mean())
        if false_positives <= args.false_positives:
            result = {
                "threshold": threshold,
                "out_of_fold_false_positives": round(false_positives, 4),
                "out_of_fold_recall": round(float(flagged[risky & ~written_hard].mean()), 4),
                "development_sets_false_positives": round(
                    float(flagged[~risky & written_hard].mean()), 4
                ),
                "development_sets_recall": round(float(flagged[risky & written_hard].mean()), 4),
                "lines": len(texts),
                "development_set_lines": int(written_hard.sum()),
            }
            print(json.dumps(result))
            return
    print(json.dumps({"threshold": None, "lines": len(texts)}))


if __name__ == "__main__":
    main()
