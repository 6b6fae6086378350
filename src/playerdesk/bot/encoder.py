"""An optional sentence-embedding encoder read from a local folder (issue 7; off unless
`PLAYERDESK_BOT_ENCODER_PATH` names one).

The folder holds a Model2Vec static model (`model.safetensors`, `tokenizer.json`,
`config.json`, as `StaticModel.save_pretrained` writes it). Its sentence vectors join the
TF-IDF features of `features.py` as dense columns, so both classifiers read them.

Why Model2Vec: a static model embeds a message by looking up one vector per token and
averaging them, about a tenth of a millisecond on this machine's CPU and without PyTorch,
which keeps a message within issue 7's 5 ms budget; multilingual models distilled from
sentence transformers exist in that format; and the `model2vec` package reads the folder
with `safetensors` and `tokenizers` (an optional dependency: `playerdesk[embeddings]`).
Nothing is ever downloaded: the folder must exist before the library is asked to read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from playerdesk.bot.dataset import files_digest


class EncoderError(Exception):
    """The configured encoder cannot be used; the message says why."""


class SentenceEncoder:
    """One sentence vector per text, of unit length (a text without a known token: zeros)."""

    def __init__(self, model: Any, *, identity: str) -> None:
        self.model = model
        # Names the model's files by content: a classifier trained with another encoder is
        # stale (`nlu.ModelHeader.encoder`).
        self.identity = identity
        self.dimensions = int(model.dim)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = np.asarray(
            self.model.encode(list(texts), normalize=False, use_multiprocessing=False),
            dtype=np.float32,
        ).reshape(len(texts), self.dimensions)
        lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
        result: NDArray[np.float32] = np.divide(
            vectors, lengths, out=np.zeros_like(vectors), where=lengths > 0
        )
        return result


def load_encoder(path: Path) -> SentenceEncoder:
    """The Model2Vec model in the folder `path`."""
    if not path.is_dir():
        raise EncoderError(f"{path}: the sentence-embedding encoder's folder does not exist")
    try:
        from model2vec import StaticModel
    except ImportError as exc:
        raise EncoderError(
            "the sentence-embedding encoder needs the model2vec package: "
            "pip install 'playerdesk[embeddings]'"
        ) from exc
    try:
        # An existing folder is read as it is; only a name that is not a folder would make
        # the library look on the Hugging Face hub, and that was ruled out above.
        model = StaticModel.from_pretrained(path)
    except (OSError, ValueError, KeyError) as exc:
        raise EncoderError(f"{path}: not a Model2Vec model folder ({exc})") from exc
    files = [item for item in path.rglob("*") if item.is_file()]
    return SentenceEncoder(model, identity="model2vec:" + files_digest(files))


def configured_encoder(path: Path | None) -> SentenceEncoder | None:
    """The encoder in the folder a setting names, or None when it names none."""
    return load_encoder(path) if path is not None else None
