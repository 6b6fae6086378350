"""Intent classification, and the trained models' life cycle.

One model over all languages (measured against one model per language in
docs/BOT.md; players mix languages, and a shared model needs no language first): TF-IDF
word uni- and bigrams of the normalised text plus the concept tokens of `bot/lexicon.py`,
character n-grams (`char_wb`, 2-5) and the vector of an optional sentence encoder; a linear
SVM with probabilities calibrated by cross-validation (sigmoid). Training is deterministic
for a seed and takes seconds.

The trained models (intent and risk classifiers) are kept in one file under the data
directory, with a header: a model built by another format version, another scikit-learn,
from other training data, other feature code or another sentence encoder is stale, and
`load_or_train` builds a new one. The file is a pickle of our own objects, only ever read
from our own data directory.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playerdesk.bot.dataset import (
    Example,
    Split,
    files_digest,
    load_split,
    shipped_languages,
    split_files,
)
from playerdesk.bot.encoder import SentenceEncoder
from playerdesk.bot.features import CompiledCalibratedSvm, TextFeatures, fitting_workers
from playerdesk.bot.intents import Intent
from playerdesk.bot.protection import RiskClassifier

FORMAT_VERSION = 4
DEFAULT_SEED = 7
MODEL_FILE = "bot-model.pkl"
_MAGIC = b"PLAYERDESK-BOT\n"


@dataclass(frozen=True, slots=True)
class IntentResult:
    intent: Intent
    confidence: float
    # The most likely intents, best first, with their probabilities.
    ranking: tuple[tuple[Intent, float], ...]


class IntentClassifier:
    """A linear SVM per intent (one-vs-rest) over the shared features, calibrated by
    5-fold cross-validation (sigmoid), compiled for single messages."""

    def __init__(self, features: TextFeatures, *, seed: int = DEFAULT_SEED, c: float = 1.0):
        self.features = features
        self.seed = seed
        self.c = c
        self.intents: tuple[Intent, ...] = ()
        self._model: CompiledCalibratedSvm | None = None

    def fit(self, matrix: Any, intents: Sequence[Intent]) -> IntentClassifier:
        """Fits on the rows of `features.transform(texts)` and their intents."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        # One SVM fitted on all the lines, its sigmoids fitted on 5-fold out-of-fold scores:
        # on the training split's cross-validation it is right more often than the average
        # of five SVMs that each saw four fifths of the lines, and a fifth of the work per
        # message.
        calibrated = CalibratedClassifierCV(
            LinearSVC(C=self.c, random_state=self.seed),
            cv=5,
            method="sigmoid",
            ensemble=False,
            n_jobs=fitting_workers(),
        )
        # n_jobs: the five calibration folds fit in joblib's worker processes, one per core,
        # as in `features.fit_side_by_side`.
        calibrated.fit(matrix, [intent.value for intent in intents])
        self._model = CompiledCalibratedSvm(calibrated)
        self.intents = tuple(Intent(label) for label in self._model.classes)
        return self

    def probabilities(self, row: Any) -> list[float]:
        if self._model is None:
            raise RuntimeError("the intent classifier is not trained")
        return [float(value) for value in self._model.probabilities(row)]

    def classify_row(self, row: Any, *, top: int = 3) -> IntentResult:
        ranked = sorted(
            zip(self.intents, self.probabilities(row), strict=True),
            key=lambda pair: pair[1],
            reverse=True,
        )
        best, confidence = ranked[0]
        return IntentResult(intent=best, confidence=confidence, ranking=tuple(ranked[:top]))

    def classify(self, text: str, *, top: int = 3) -> IntentResult:
        return self.classify_row(self.features.transform([text]), top=top)

    def classify_many(self, texts: Sequence[str], *, top: int = 3) -> list[IntentResult]:
        if not texts:
            return []
        matrix = self.features.transform(texts)
        return [self.classify_row(matrix.getrow(i), top=top) for i in range(matrix.shape[0])]


@dataclass(frozen=True, slots=True)
class ModelHeader:
    format_version: int
    sklearn_version: str
    data_digest: str
    seed: int
    languages: tuple[str, ...]
    # The sentence encoder's identity (`SentenceEncoder.identity`), None without one.
    encoder: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "sklearn_version": self.sklearn_version,
            "data_digest": self.data_digest,
            "seed": self.seed,
            "languages": list(self.languages),
            "encoder": self.encoder,
        }


@dataclass(slots=True)
class NluModel:
    """The trained classifiers, their shared features, and what they were trained from."""

    header: ModelHeader
    features: TextFeatures
    intents: IntentClassifier
    risk: RiskClassifier
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def vectorise(self, text: str) -> Any:
        """One message as a row of the shared features (for `classify_row`, `detect`)."""
        return self.features.transform_one(text)

    def classify(self, text: str, language: str | None = None) -> IntentResult:
        """The intent of `text`; `language` is accepted for callers that know it, the
        shared model does not need it."""
        del language
        return self.intents.classify_row(self.vectorise(text))


def _sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)


# The modules that shape the model (how data lines become examples, the labels, the
# features, the classifiers): a change to one of them makes a saved model stale.
_MODEL_SOURCES = (
    "dataset.py",
    "intents.py",
    "text.py",
    "lexicon.py",
    "encoder.py",
    "features.py",
    "nlu.py",
    "protection.py",
)


def expected_header(
    *, seed: int = DEFAULT_SEED, encoder: SentenceEncoder | None = None
) -> ModelHeader:
    """The header a model trained now on the shipped data (and `encoder`) would have."""
    codes = shipped_languages()
    here = Path(__file__).resolve().parent
    sources = [here / name for name in _MODEL_SOURCES]
    return ModelHeader(
        format_version=FORMAT_VERSION,
        sklearn_version=_sklearn_version(),
        data_digest=files_digest([*split_files(Split.TRAIN, codes), *sources]),
        seed=seed,
        languages=codes,
        encoder=encoder.identity if encoder is not None else None,
    )


def train(
    examples: Sequence[Example],
    *,
    languages: Sequence[str],
    seed: int = DEFAULT_SEED,
    header: ModelHeader | None = None,
    encoder: SentenceEncoder | None = None,
) -> NluModel:
    """Trains the intent and risk classifiers on `examples` (with `encoder`'s vectors
    among the features when there is one)."""
    if not examples:
        raise ValueError("no training examples")
    started = time.perf_counter()
    texts = [example.text for example in examples]
    features = TextFeatures(encoder=encoder).fit(texts)
    matrix = features.transform(texts)
    intents = IntentClassifier(features, seed=seed).fit(
        matrix, [example.intent for example in examples]
    )
    risk = RiskClassifier(features, seed=seed).fit(
        matrix,
        [example.rg_risk for example in examples],
        intents=[example.intent.value for example in examples],
    )
    counts: dict[str, int] = {}
    for example in examples:
        key = example.language or "unknown"
        counts[key] = counts.get(key, 0) + 1
    if header is None:
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()
        header = ModelHeader(
            FORMAT_VERSION,
            _sklearn_version(),
            digest,
            seed,
            tuple(languages),
            encoder.identity if encoder is not None else None,
        )
    return NluModel(
        header=header,
        features=features,
        intents=intents,
        risk=risk,
        counts=counts,
        seconds=time.perf_counter() - started,
    )


def train_shipped(*, seed: int = DEFAULT_SEED, encoder: SentenceEncoder | None = None) -> NluModel:
    """Trains on all shipped training files: every language the bot has data for, so a
    message in a language the desk does not serve is still understood and handed over."""
    header = expected_header(seed=seed, encoder=encoder)
    examples = load_split(Split.TRAIN, header.languages)
    return train(examples, languages=header.languages, seed=seed, header=header, encoder=encoder)


def save_model(model: NluModel, path: Path) -> None:
    """Writes the model atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    with temporary.open("wb") as out:
        out.write(_MAGIC)
        pickle.dump(model.header.as_dict(), out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(model, out, protocol=pickle.HIGHEST_PROTOCOL)
    temporary.replace(path)


def read_header(path: Path) -> ModelHeader | None:
    """The header of a saved model, or None when there is no readable one."""
    try:
        with path.open("rb") as source:
            if source.read(len(_MAGIC)) != _MAGIC:
                return None
            raw = pickle.load(source)  # noqa: S301 - our own file in our own data directory
    except (OSError, pickle.UnpicklingError, EOFError):
        return None
    try:
        return ModelHeader(
            format_version=int(raw["format_version"]),
            sklearn_version=str(raw["sklearn_version"]),
            data_digest=str(raw["data_digest"]),
            seed=int(raw["seed"]),
            languages=tuple(raw["languages"]),
            encoder=None if raw["encoder"] is None else str(raw["encoder"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def load_model(
    path: Path, *, expected: ModelHeader, encoder: SentenceEncoder | None = None
) -> NluModel | None:
    """The saved model if it is current (same header as `expected`), else None; `encoder`
    is the one `expected` names, given back to the model's features."""
    if read_header(path) != expected:
        return None
    try:
        with path.open("rb") as source:
            source.read(len(_MAGIC))
            pickle.load(source)  # noqa: S301 - the header, checked above
            model = pickle.load(source)  # noqa: S301 - our own file in our own data directory
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    if not isinstance(model, NluModel):
        return None
    model.features.attach_encoder(encoder)
    return model


def model_path(data_dir: Path) -> Path:
    return data_dir / "bot" / MODEL_FILE


def load_or_train(
    data_dir: Path, *, seed: int = DEFAULT_SEED, encoder: SentenceEncoder | None = None
) -> tuple[NluModel, bool]:
    """The saved model when current, else a newly trained and saved one; the flag says
    whether it was trained now."""
    path = model_path(data_dir)
    expected = expected_header(seed=seed, encoder=encoder)
    model = load_model(path, expected=expected, encoder=encoder)
    if model is not None:
        return model, False
    model = train_shipped(seed=seed, encoder=encoder)
    save_model(model, path)
    return model, True
