"""The text features both classifiers share, and linear models compiled for one message.

Word uni- and bigrams of the normalised text with the lexicon's concept tokens, and
character n-grams (`char_wb`, 2-5), each TF-IDF weighted (sublinear tf); with an optional
sentence-embedding encoder (`encoder.py`), its unit-length sentence vector as further, dense
columns. Fitted once on the training texts; the intent and risk classifiers read the same
matrix, so a message is vectorised once.

scikit-learn's `predict_proba` validates its input at every step, which costs more than
the arithmetic for a single message (a calibrated 20-class model: ~100 validations). The
trained models are therefore compiled to plain arrays (`CompiledCalibratedSvm`,
`CompiledRiskModel`) that compute the same probabilities from the sparse row directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from playerdesk.bot.encoder import SentenceEncoder
from playerdesk.bot.lexicon import concept_text
from playerdesk.bot.text import WORD_TOKENS, normalise

_Fitted = TypeVar("_Fitted")


def concept_words(text: str) -> str:
    """What the word n-grams see: the normalised text and the concepts it names."""
    return concept_text(normalise(text))


class TextFeatures:
    def __init__(self, *, encoder: SentenceEncoder | None = None) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.words = TfidfVectorizer(
            preprocessor=concept_words,
            lowercase=False,
            token_pattern=WORD_TOKENS,
            ngram_range=(1, 2),
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.chars = TfidfVectorizer(
            preprocessor=normalise,
            lowercase=False,
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.word_terms: list[str] = []
        # The encoder is not saved with the model (it is the operator's folder); a loaded
        # model gets it back through `attach_encoder`, checked by its identity.
        self.encoder = encoder
        self.encoder_identity = encoder.identity if encoder is not None else None

    def attach_encoder(self, encoder: SentenceEncoder | None) -> None:
        identity = encoder.identity if encoder is not None else None
        if identity != self.encoder_identity:
            raise ValueError("the features were fitted with another sentence encoder")
        self.encoder = encoder

    def _encoder(self) -> SentenceEncoder | None:
        if self.encoder_identity is not None and self.encoder is None:
            raise RuntimeError("the features need their sentence encoder: attach_encoder")
        return self.encoder

    def fit(self, texts: Sequence[str]) -> TextFeatures:
        self.words.fit(texts)
        self.chars.fit(texts)
        self.word_terms = [str(term) for term in self.words.get_feature_names_out()]
        return self

    @property
    def word_count(self) -> int:
        return len(self.word_terms)

    def transform(self, texts: Sequence[str]) -> Any:
        """A sparse CSR matrix: the word columns first, then the character columns, then
        the sentence vector's when there is an encoder."""
        from scipy.sparse import csr_matrix, hstack

        blocks = [self.words.transform(texts), self.chars.transform(texts)]
        encoder = self._encoder()
        if encoder is not None:
            blocks.append(csr_matrix(encoder.encode(texts)))
        return hstack(blocks, format="csr")

    def transform_one(self, text: str) -> Any:
        """`transform([text])` for one message, the same numbers without scikit-learn's
        per-call validation and matrix plumbing (most of a message's time before): the
        fitted analyzers, vocabularies and idf weights are applied directly."""
        encoder = self._encoder()
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self.__dict__["_fast"] = _FastTfidf.of(self)
        dense = encoder.encode([text])[0] if encoder is not None else None
        return fast.row(text, dense=dense)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_fast", None)  # rebuilt from the fitted vectorisers after loading
        state["encoder"] = None
        return state


class _FastTfidf:
    """One fitted TfidfVectorizer pair (l2 norm, sublinear tf) applied to a single text."""

    def __init__(
        self, parts: list[tuple[Any, dict[str, int], NDArray[np.float64], int]], *, dense: int
    ) -> None:
        self.parts = parts  # (analyzer, vocabulary, idf, column offset)
        self.sparse_width = sum(len(vocabulary) for _, vocabulary, _, _ in parts)
        self.width = self.sparse_width + dense

    @classmethod
    def of(cls, features: TextFeatures) -> _FastTfidf:
        parts = []
        offset = 0
        for vectorizer in (features.words, features.chars):
            vocabulary = {str(term): int(index) for term, index in vectorizer.vocabulary_.items()}
            idf = np.asarray(vectorizer.idf_, dtype=np.float64)
            parts.append((vectorizer.build_analyzer(), vocabulary, idf, offset))
            offset += len(vocabulary)
        encoder = features.encoder
        return cls(parts, dense=encoder.dimensions if encoder is not None else 0)

    def row(self, text: str, *, dense: NDArray[np.float32] | None = None) -> Any:
        from scipy.sparse import csr_matrix

        indices: list[NDArray[np.int64]] = []
        values: list[NDArray[np.float64]] = []
        for analyzer, vocabulary, idf, offset in self.parts:
            counts: dict[int, int] = {}
            for term in analyzer(text):
                column = vocabulary.get(term)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log([counts[column] for column in columns])) * idf[columns]
            weights /= np.sqrt(np.dot(weights, weights))
            indices.append(columns + offset)
            values.append(weights)
        if dense is not None:
            # The vector's non-zero columns, as `csr_matrix` keeps them in `transform`.
            kept = np.flatnonzero(dense)
            indices.append(kept + self.sparse_width)
            values.append(dense[kept].astype(np.float64))
        data = np.concatenate(values).astype(np.float32) if values else np.zeros(0, np.float32)
        columns_all = np.concatenate(indices) if indices else np.zeros(0, np.int64)
        return csr_matrix(
            (data, columns_all, np.array([0, len(data)])), shape=(1, self.width), dtype=np.float32
        )


def _row_dot(weights: NDArray[np.float32], row: Any) -> NDArray[np.float64]:
    """`row @ weights` for one sparse row: only the row's few columns are touched."""
    if row.nnz == 0:
        return np.zeros(weights.shape[1], dtype=np.float64)
    picked = weights[row.indices].astype(np.float64)
    result: NDArray[np.float64] = np.asarray(row.data, dtype=np.float64) @ picked
    return result


def fitting_workers() -> int:
    """How many model fits run side by side: the cores this process may use, as joblib
    counts them (CPU affinity and a container's CPU quota included)."""
    from joblib import cpu_count

    return int(cpu_count())


def fit_side_by_side(fits: Sequence[Callable[[], _Fitted]]) -> list[_Fitted]:
    """Runs independent model fits in worker processes, one per core, and returns their
    results in the order given. Processes, not threads: liblinear seeds one random number
    generator per process, so fits on threads would draw from each other's sequence and
    training would no longer be the same for a seed. joblib hands the workers the training
    matrix as a shared memory map, not a copy."""
    from joblib import Parallel, delayed

    workers = min(len(fits), fitting_workers())
    if workers <= 1:
        return [fit() for fit in fits]
    results: list[_Fitted] = Parallel(n_jobs=workers)(delayed(fit)() for fit in fits)
    return results


class CompiledCalibratedSvm:
    """A fitted `CalibratedClassifierCV` (sigmoid, one-vs-rest linear SVMs, ensemble) as
    arrays: per fold the SVM's weights and intercepts and the per-class sigmoid."""

    def __init__(self, calibrated: Any) -> None:
        folds = calibrated.calibrated_classifiers_
        self.classes: list[str] = [str(label) for label in calibrated.classes_]
        class_count = len(self.classes)
        fold_weights: list[NDArray[Any]] = []
        intercepts: list[NDArray[Any]] = []
        slopes: list[NDArray[Any]] = []
        offsets: list[NDArray[Any]] = []
        for fold in folds:
            svm = fold.estimator
            if [str(label) for label in svm.classes_] != self.classes or class_count < 3:
                raise ValueError("every fold must see every class (three or more)")
            fold_weights.append(np.asarray(svm.coef_, dtype=np.float32).T)
            intercepts.append(np.asarray(svm.intercept_, dtype=np.float64))
            slopes.append(np.array([c.a_ for c in fold.calibrators], dtype=np.float64))
            offsets.append(np.array([c.b_ for c in fold.calibrators], dtype=np.float64))
        # features x (folds * classes): one gather per message for all folds
        self.weights = np.ascontiguousarray(np.hstack(fold_weights), dtype=np.float32)
        self.intercepts = np.concatenate(intercepts)
        self.slopes = np.concatenate(slopes)
        self.offsets = np.concatenate(offsets)
        self.folds = len(folds)

    def probabilities(self, row: Any) -> NDArray[np.float64]:
        decisions = _row_dot(self.weights, row) + self.intercepts
        per_class = 1.0 / (1.0 + np.exp(self.slopes * decisions + self.offsets))
        per_fold = per_class.reshape(self.folds, len(self.classes))
        sums = per_fold.sum(axis=1, keepdims=True)
        uniform = np.full_like(per_fold, 1.0 / len(self.classes))
        normalised = np.where(sums > 0, per_fold / np.where(sums > 0, sums, 1.0), uniform)
        # sklearn clips rounding noise above 1 after normalising
        result: NDArray[np.float64] = np.clip(normalised, 0.0, 1.0).mean(axis=0)
        return result


class CompiledRiskModel:
    """The risk classifier's two linear SVMs and the logistic regression that joins them,
    as arrays (`protection.RiskClassifier`).

    - `binary`: risk or not; its decision is `w.x + c`.
    - `kinds`: one-vs-rest over the kinds of line (an intent with or without a risk); its
      margin is the best risky kind's decision minus the best harmless kind's.

    P(risk) = 1 / (1 + exp(-(a * binary + b * margin + offset))): `slopes` (a, b) and
    `offset` are the joining logistic regression's coefficients and intercept."""

    def __init__(
        self,
        *,
        binary: Any,
        kinds: Any,
        risky_kinds: Sequence[bool],
        slopes: tuple[float, float] = (1.0, 0.0),
        offset: float = 0.0,
    ) -> None:
        kind_weights = np.asarray(kinds.coef_, dtype=np.float64)
        kind_intercepts = np.asarray(kinds.intercept_, dtype=np.float64)
        if kind_weights.shape[0] == 1:
            # Two kinds: scikit-learn keeps one row, the second kind's decision.
            kind_weights = np.vstack([-kind_weights, kind_weights])
            kind_intercepts = np.concatenate([-kind_intercepts, kind_intercepts])
        risky = np.asarray(risky_kinds, dtype=bool)
        if len(risky) != kind_weights.shape[0] or risky.all() or not risky.any():
            raise ValueError("the kinds must be both risky and harmless, one flag per kind")
        # features x (1 + kinds): one gather per message for both models
        self.weights = np.ascontiguousarray(
            np.hstack([np.asarray(binary.coef_, dtype=np.float64).T, kind_weights.T]),
            dtype=np.float32,
        )
        self.intercepts = np.concatenate(
            [np.asarray(binary.intercept_, dtype=np.float64), kind_intercepts]
        )
        self.risky = risky
        self.slopes = np.array(slopes, dtype=np.float64)
        self.offset = float(offset)

    def parts(self, matrix: Any) -> NDArray[np.float64]:
        """Per row of a sparse matrix: the binary decision and the kinds' margin, what the
        joining logistic regression reads."""
        decisions = np.asarray(matrix @ self.weights, dtype=np.float64) + self.intercepts
        kinds = decisions[:, 1:]
        margins = kinds[:, self.risky].max(axis=1) - kinds[:, ~self.risky].max(axis=1)
        return np.column_stack([decisions[:, 0], margins])

    def _best_kinds(self, row: Any) -> tuple[NDArray[np.float64], int, int]:
        """The row's decisions and the columns of its best risky and best harmless kind."""
        decisions = _row_dot(self.weights, row) + self.intercepts
        kinds = decisions[1:]
        risky_best = int(np.flatnonzero(self.risky)[np.argmax(kinds[self.risky])])
        harmless_best = int(np.flatnonzero(~self.risky)[np.argmax(kinds[~self.risky])])
        return decisions, risky_best + 1, harmless_best + 1

    def probability(self, row: Any) -> float:
        decisions, risky_column, harmless_column = self._best_kinds(row)
        margin = decisions[risky_column] - decisions[harmless_column]
        logit = self.slopes[0] * decisions[0] + self.slopes[1] * margin + self.offset
        return float(1.0 / (1.0 + np.exp(-logit)))

    def contributions(self, row: Any) -> NDArray[np.float64]:
        """Each of the row's non-zero columns' push towards a risk: exact for the logit,
        which is linear once the best risky and harmless kinds are known."""
        _, risky_column, harmless_column = self._best_kinds(row)
        picked = self.weights[row.indices].astype(np.float64)
        weights = self.slopes[0] * picked[:, 0] + self.slopes[1] * (
            picked[:, risky_column] - picked[:, harmless_column]
        )
        result: NDArray[np.float64] = weights * np.asarray(row.data, dtype=np.float64)
        return result
