from __future__ import annotations

import dataclasses
import pickle
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from playerdesk.bot.dataset import (
    DATA_DIR,
    DataError,
    Example,
    Split,
    load_split,
    parse_line,
    read_examples,
    shipped_languages,
)
from playerdesk.bot.evaluation import evaluate, wilson_interval
from playerdesk.bot.intents import Intent
from playerdesk.bot.nlu import (
    NluModel,
    expected_header,
    load_model,
    load_or_train,
    model_path,
    read_header,
    save_model,
    train,
)
from playerdesk.bot.pipeline import Bot

MAIN_LANGUAGES = ("en", "pl", "sv")

# The splits written apart from the training lines after the first held-out split
# (docs/BOT.md), with their languages: two written each for one weakness, a desk's traffic,
# and the validation split that chooses among versions of the risk detector. Read by
# nothing but the evaluation.
WRITTEN_APART = {
    "heldout-native": {"sv", "de", "es"},
    "heldout-asides": {"en", "pl", "sv", "de", "es"},
    "heldout-desk": {"en", "pl", "sv", "de", "es"},
    "validation": {"en", "pl", "sv", "de", "es"},
}


def written_apart(folder: str) -> list[Example]:
    return [
        example
        for path in sorted((DATA_DIR / folder).glob("*.jsonl"))
        for example in read_examples(path, language=path.stem)
    ]


def _small_training_set() -> list[Example]:
    """A few lines per intent: enough to train quickly."""
    kept: dict[Intent, int] = {}
    small: list[Example] = []
    for example in load_split(Split.TRAIN, ["en"]):
        if kept.get(example.intent, 0) < 8:
            kept[example.intent] = kept.get(example.intent, 0) + 1
            small.append(example)
    return small


def test_the_shipped_data_has_every_intent_in_every_main_language() -> None:
    assert set(MAIN_LANGUAGES) <= set(shipped_languages())
    for code in MAIN_LANGUAGES:
        for split in Split:
            intents = {example.intent for example in load_split(split, [code])}
            assert intents == set(Intent), (code, split)


def test_held_out_lines_are_not_training_lines() -> None:
    """One-word lines ("hej", "thx") may well repeat; longer ones must not."""
    languages = shipped_languages()
    trained = {example.text.casefold() for example in load_split(Split.TRAIN, languages)}
    held_out = load_split(Split.HELDOUT, languages)
    assert held_out
    repeated = [
        example.text
        for example in held_out
        if example.text.casefold() in trained and len(example.text.split()) > 1
    ]
    assert not repeated


@pytest.mark.parametrize("folder", WRITTEN_APART)
def test_lines_written_apart_are_in_no_other_split(folder: str) -> None:
    languages = shipped_languages()
    seen = {example.text.casefold() for split in Split for example in load_split(split, languages)}
    for other in WRITTEN_APART:
        if other != folder:
            seen |= {example.text.casefold() for example in written_apart(other)}
    lines = written_apart(folder)
    assert {example.language for example in lines} == WRITTEN_APART[folder]
    assert not [example.text for example in lines if example.text.casefold() in seen]


def test_bad_lines_are_refused_with_their_place() -> None:
    with pytest.raises(DataError, match=r"x\.jsonl:3: unknown intent"):
        parse_line('{"text": "hi", "intent": "nope"}', language="en", where="x.jsonl:3")
    with pytest.raises(DataError, match="rg_risk"):
        parse_line(
            '{"text": "hi", "intent": "greeting", "rg_risk": "yes"}', language=None, where="x"
        )
    line = parse_line(
        '{"text": "hej", "intent": "greeting", "lang": "sv"}', language="pl", where="x"
    )
    assert line == Example("hej", Intent.GREETING, False, "sv")
    with pytest.raises(DataError, match="development_set"):
        parse_line(
            '{"text": "hi", "intent": "greeting", "development_set": true}',
            language=None,
            where="x",
        )
    marked = parse_line(
        '{"text": "hej", "intent": "greeting", "development_set": "asides"}',
        language="sv",
        where="x",
    )
    assert marked.development_set == "asides"


def test_the_development_sets_are_marked_in_every_language() -> None:
    """The risk threshold's rule leaves their false alarms out (docs/BOT.md): a set that
    lost its marks would raise the threshold, and one marked by mistake would lower it."""
    examples = load_split(Split.TRAIN, shipped_languages())
    marked = Counter((example.language, example.development_set) for example in examples)
    for code in shipped_languages():
        assert marked[code, "look-alikes"] >= 136, code
        assert marked[code, "asides"] >= 190, code
    assert {example.development_set for example in examples} == {None, "look-alikes", "asides"}
    assert sum(count for (_, name), count in marked.items() if name) == 3257


def test_training_is_deterministic_for_a_seed() -> None:
    examples = _small_training_set()
    first = train(examples, languages=["en"], seed=3)
    second = train(examples, languages=["en"], seed=3)
    probe = ["where is my money", "hello there", "I want a break from gambling"]
    assert [first.intents.classify(text) for text in probe] == [
        second.intents.classify(text) for text in probe
    ]
    assert first.risk.scores(probe) == second.risk.scores(probe)


def test_fits_side_by_side_give_the_same_model_as_one_after_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The risk classifier's folds fit in worker processes; its model must be the one a
    single core gives."""
    from playerdesk.bot import features as features_module

    examples = _small_training_set()
    probe = ["where is my money", "I want a break from gambling", "borrowed money to play"]
    monkeypatch.setattr(features_module, "fitting_workers", lambda: 1)
    alone = train(examples, languages=["en"], seed=3)
    monkeypatch.setattr(features_module, "fitting_workers", lambda: 3)
    side_by_side = train(examples, languages=["en"], seed=3)
    assert side_by_side.risk.scores(probe) == alone.risk.scores(probe)
    assert len(set(alone.risk.scores(probe))) > 1


def test_classify_gives_a_calibrated_ranking(nlu_model: NluModel) -> None:
    result = nlu_model.classify("I forgot my password and can't log in", "en")
    assert result.intent is Intent.ACCOUNT_ACCESS
    assert result.ranking[0] == (result.intent, result.confidence)
    probabilities = [probability for _, probability in result.ranking]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0.0 < result.confidence <= 1.0
    assert len(result.ranking) == 3


@pytest.mark.parametrize(
    ("text", "language", "intent"),
    [
        ("hi there", "en", Intent.GREETING),
        (
            "my withdrawal has been pending for four days, where is it",
            "en",
            Intent.WITHDRAWAL_STATUS,
        ),
        ("wpłaciłem 100 zł BLIKIEM i nic nie doszło na konto", "pl", Intent.DEPOSIT_MISSING),
        ("vilka dokument behöver ni för verifieringen?", "sv", Intent.VERIFICATION),
        ("I want to file a formal complaint about how I was treated", "en", Intent.COMPLAINT),
    ],
)
def test_typical_messages(nlu_model: NluModel, text: str, language: str, intent: Intent) -> None:
    assert nlu_model.classify(text, language).intent is intent


def test_saved_model_loads_back_and_a_stale_one_is_retrained(
    nlu_model: NluModel, saved_model_dir: Path, tmp_path: Path
) -> None:
    path = model_path(saved_model_dir)
    assert read_header(path) == expected_header(seed=7)
    loaded, trained = load_or_train(saved_model_dir, seed=7)
    assert not trained
    text = "how do I verify my account"
    assert loaded.classify(text) == nlu_model.classify(text)

    stale_dir = tmp_path / "stale"
    header = nlu_model.header
    stale = dataclasses.replace(nlu_model, header=dataclasses.replace(header, data_digest="0" * 64))
    save_model(stale, model_path(stale_dir))
    assert load_model(model_path(stale_dir), expected=expected_header(seed=7)) is None


def test_a_damaged_model_file_is_not_loaded(tmp_path: Path) -> None:
    path = model_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PLAYERDESK-BOT\n" + pickle.dumps({"format_version": 1}))
    assert read_header(path) is None
    path.write_bytes(b"not a model")
    assert load_model(path, expected=expected_header(seed=7)) is None


# The held-out figures the shipped data gives today (docs/BOT.md), rounded down: a change
# to the data or the model must not fall below them.
_HELD_OUT_ACCURACY_FLOORS = {"en": 0.91, "pl": 0.92, "sv": 0.90}


def test_held_out_evaluation_meets_the_measured_floor(bot: Bot) -> None:
    """The held-out figures must not fall below what the shipped data gives today. In these
    three languages RG recall meets issue 7's 98 % (0.984); over all five it is 0.977, one
    message short; issue 7's targets are judged on this split and the desk split together
    (below)."""
    examples = load_split(Split.HELDOUT, MAIN_LANGUAGES)
    report = evaluate(bot, examples, fallback_language="en")
    for code in MAIN_LANGUAGES:
        figures = report["per_language"][code]
        assert figures["accuracy"] >= _HELD_OUT_ACCURACY_FLOORS[code], (code, figures)
        assert figures["language_accuracy"] >= 0.91, (code, figures)
    assert report["accuracy"] >= 0.90
    assert report["rg_recall"] >= 0.98
    assert report["rg_false_positive_rate"] <= 0.021
    assert report["answered_routine_share"] >= 0.76
    assert report["answered_wrongly_share"] <= 0.023
    assert report["top_confusions"]


def test_the_measure_of_record_meets_issue_7s_targets(bot: Bot) -> None:
    """Issue 7's targets, on the first held-out split and the desk split together, all five
    languages (docs/BOT.md, decided before the desk split was first read)."""
    examples = load_split(Split.HELDOUT, shipped_languages()) + written_apart("heldout-desk")
    report = evaluate(bot, examples, fallback_language="en")
    assert report["messages"] == 1984
    for code in MAIN_LANGUAGES:
        assert report["per_language"][code]["accuracy"] >= 0.90, code
    assert report["rg_positives"] == 392
    assert report["rg_recall"] >= 0.98
    assert report["rg_false_positive_rate"] <= 0.03
    assert report["answered_wrongly_share"] <= 0.03
    assert report["answered_routine_share"] >= 0.45


def test_wilson_intervals_match_the_published_formula() -> None:
    # what (p + z²/2n ∓ z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n) with z = 1.96 gives
    assert wilson_interval(9, 10) == [0.5958, 0.9821]
    assert wilson_interval(0, 10) == [0.0, 0.2775]
    assert wilson_interval(168, 172) == [0.9417, 0.9909]
    assert wilson_interval(0, 0) is None


def test_compiled_probabilities_equal_scikit_learns() -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    from playerdesk.bot.features import CompiledCalibratedSvm, TextFeatures

    examples = _small_training_set()
    texts = [example.text for example in examples]
    features = TextFeatures().fit(texts)
    matrix = features.transform(texts)
    calibrated = CalibratedClassifierCV(LinearSVC(random_state=1), cv=5, method="sigmoid")
    calibrated.fit(matrix, [example.intent.value for example in examples])
    compiled = CompiledCalibratedSvm(calibrated)
    probe = features.transform(
        ["my deposit is missing", "zzz", "hej hej", "I can't stop playing, help"]
    )
    expected = calibrated.predict_proba(probe)
    for index in range(probe.shape[0]):
        assert compiled.probabilities(probe.getrow(index)) == pytest.approx(
            expected[index], abs=1e-5
        )


def _risk_models(examples: list[Example], kinds: list[str]) -> tuple[Any, Any, Any, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    from playerdesk.bot.features import TextFeatures

    texts = [example.text for example in examples]
    risky = [example.rg_risk for example in examples]
    features = TextFeatures().fit(texts)
    matrix = features.transform(texts)
    binary = LinearSVC(class_weight="balanced", random_state=1).fit(matrix, risky)
    kind_model = LinearSVC(random_state=1).fit(matrix, kinds)
    rng = np.random.default_rng(0)
    joiner = LogisticRegression().fit(rng.normal(size=(len(risky), 2)) + np.c_[risky, risky], risky)
    return features, binary, kind_model, joiner


@pytest.mark.parametrize("kinds_of", ["intent and risk", "risk alone"])
def test_the_compiled_risk_model_equals_scikit_learns_arithmetic(kinds_of: str) -> None:
    """P(risk) = sigmoid(joiner over [binary decision, best risky kind - best harmless
    kind]); with only two kinds scikit-learn keeps one row of weights, which must be read
    as both."""
    from playerdesk.bot.features import CompiledRiskModel

    examples = _small_training_set()
    kinds = [
        f"{example.intent.value}|{int(example.rg_risk)}"
        if kinds_of == "intent and risk"
        else f"x|{int(example.rg_risk)}"
        for example in examples
    ]
    features, binary, kind_model, joiner = _risk_models(examples, kinds)
    risky_kinds = [str(kind).endswith("|1") for kind in kind_model.classes_]
    compiled = CompiledRiskModel(
        binary=binary,
        kinds=kind_model,
        risky_kinds=risky_kinds,
        slopes=(float(joiner.coef_[0][0]), float(joiner.coef_[0][1])),
        offset=float(joiner.intercept_[0]),
    )
    probe = features.transform(
        ["my deposit is missing", "zzz", "I can't stop playing, help", "I borrowed money to play"]
    )
    decisions = kind_model.decision_function(probe)
    kind_intercepts = kind_model.intercept_
    if decisions.ndim == 1:
        decisions = np.c_[-decisions, decisions]
        kind_intercepts = np.r_[-kind_intercepts, kind_intercepts]
    mask = np.array(risky_kinds)
    margins = decisions[:, mask].max(axis=1) - decisions[:, ~mask].max(axis=1)
    parts = np.c_[binary.decision_function(probe), margins]
    expected = joiner.predict_proba(parts)[:, list(joiner.classes_).index(True)]
    assert len({round(float(value), 3) for value in expected}) > 1  # not one constant score
    assert compiled.parts(probe) == pytest.approx(parts, abs=1e-4)
    for index in range(probe.shape[0]):
        row = probe.getrow(index)
        assert compiled.probability(row) == pytest.approx(expected[index], abs=1e-5)
        # The pushes of the row's columns and the intercepts make up the logit.
        risky_best = np.flatnonzero(mask)[np.argmax(decisions[index, mask])]
        harmless_best = np.flatnonzero(~mask)[np.argmax(decisions[index, ~mask])]
        intercepts = kind_intercepts[risky_best] - kind_intercepts[harmless_best]
        logit = (
            compiled.contributions(row).sum()
            + compiled.slopes[0] * binary.intercept_[0]
            + compiled.slopes[1] * intercepts
            + compiled.offset
        )
        assert logit == pytest.approx(np.log(expected[index] / (1 - expected[index])), abs=1e-4)


def test_a_risk_model_needs_risky_and_harmless_kinds() -> None:
    from playerdesk.bot.features import CompiledRiskModel

    examples = _small_training_set()
    kinds = [f"{example.intent.value}|{int(example.rg_risk)}" for example in examples]
    _, binary, kind_model, _ = _risk_models(examples, kinds)
    with pytest.raises(ValueError, match="both risky and harmless"):
        CompiledRiskModel(
            binary=binary, kinds=kind_model, risky_kinds=[False] * len(kind_model.classes_)
        )


@dataclasses.dataclass(frozen=True)
class _SplitFloors:
    """A held-out split's figures measured on 2026-11-24 (docs/BOT.md), rounded to floors."""

    accuracy: dict[str, float]
    rg_positives: int
    rg_recall: float
    rg_false_positives: float
    answered_wrongly: float


# Floors, not targets: a change must not catch fewer of a split's risks nor raise more of its
# false alarms unless the trade is weighed and written down (docs/BOT_HISTORY.md). The
# harmless lines of the native and asides splits are look-alikes by design, so the detector
# raises more false alarms there than issue 7 allows; on the desk split, too (0.032; 0.028
# together with the first split, the measure of record); the validation split's harmless
# lines are about one in six look-alikes. The pattern gate and threshold of session 22 cost
# the first split two false alarms (15 -> 17 of 748; its English, Polish and Swedish files
# 0.015 -> 0.020) for two more risk messages on each of the desk and asides splits, and 2 to
# 5 fewer false alarms on each of the other splits.
_WRITTEN_APART_FLOORS = {
    "heldout-native": _SplitFloors(
        accuracy={"sv": 0.95, "de": 0.92, "es": 0.97},
        rg_positives=177,
        rg_recall=0.994,
        rg_false_positives=0.048,
        answered_wrongly=0.003,
    ),
    "heldout-asides": _SplitFloors(
        accuracy={"en": 0.96, "pl": 0.96, "sv": 0.96, "de": 0.96, "es": 0.96},
        rg_positives=389,
        rg_recall=0.922,
        rg_false_positives=0.129,
        answered_wrongly=0.035,
    ),
    "heldout-desk": _SplitFloors(
        accuracy={"en": 0.94, "pl": 0.95, "sv": 0.97, "de": 0.96, "es": 0.98},
        rg_positives=220,
        rg_recall=0.986,
        rg_false_positives=0.033,
        answered_wrongly=0.009,
    ),
    "validation": _SplitFloors(
        accuracy={"en": 0.95, "pl": 0.95, "sv": 0.98, "de": 0.94, "es": 0.96},
        rg_positives=394,
        rg_recall=0.967,
        rg_false_positives=0.054,
        answered_wrongly=0.012,
    ),
}


@pytest.mark.parametrize("folder", WRITTEN_APART)
def test_splits_written_apart_meet_their_measured_floors(bot: Bot, folder: str) -> None:
    floors = _WRITTEN_APART_FLOORS[folder]
    report = evaluate(bot, written_apart(folder), fallback_language="en")
    for code, floor in floors.accuracy.items():
        assert report["per_language"][code]["accuracy"] >= floor, (code, report)
    assert report["rg_positives"] == floors.rg_positives
    assert report["rg_recall"] >= floors.rg_recall
    assert report["rg_false_positive_rate"] <= floors.rg_false_positives
    assert report["answered_wrongly_share"] <= floors.answered_wrongly


def test_one_message_features_equal_scikit_learns(nlu_model: NluModel) -> None:
    """`vectorise` (the fast path for one message) gives `transform`'s very row."""
    texts = [example.text for example in load_split(Split.HELDOUT, shipped_languages())]
    for text in [*texts, "", "   ", "!!!", "a", "ŁÓDŹ łódź", "x" * 3000]:
        expected = nlu_model.features.transform([text])
        got = nlu_model.vectorise(text)
        expected.sort_indices()
        got.sort_indices()
        assert got.shape == expected.shape
        assert got.indices.tolist() == expected.indices.tolist(), text
        assert np.allclose(got.toarray(), expected.toarray(), atol=1e-6), text
    # The cached fast path is rebuilt after loading, never saved with the model.
    copy = pickle.loads(pickle.dumps(nlu_model))  # noqa: S301 (our own object)
    assert "_fast" not in copy.features.__dict__
    assert copy.vectorise("hello").nnz == nlu_model.vectorise("hello").nnz
