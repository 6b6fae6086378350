"""The optional sentence encoder (`bot/encoder.py`): a real Model2Vec folder, written here
by the library from a small vocabulary, read back as an operator's folder would be."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from pydantic import ValidationError

from playerdesk.bot.dataset import Example, Split, load_split
from playerdesk.bot.encoder import EncoderError, SentenceEncoder, load_encoder
from playerdesk.bot.intents import Intent
from playerdesk.bot.nlu import (
    NluModel,
    expected_header,
    load_model,
    load_or_train,
    model_path,
    save_model,
    train,
)
from playerdesk.bot.pipeline import Bot
from playerdesk.cli import main
from playerdesk.settings import Settings

DIMENSIONS = 16


def _small_training_set() -> list[Example]:
    kept: dict[Intent, int] = {}
    small: list[Example] = []
    for example in load_split(Split.TRAIN, ["en", "sv"]):
        if kept.get(example.intent, 0) < 10:
            kept[example.intent] = kept.get(example.intent, 0) + 1
            small.append(example)
    return small


def _write_encoder(folder: Path, *, seed: int) -> tuple[dict[str, int], NDArray[np.float32]]:
    """A Model2Vec model over the training lines' words, saved by the library itself; its
    vocabulary and vectors, to check what the encoder computes."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    words = sorted(
        {
            word
            for example in load_split(Split.TRAIN, ["en", "sv"])
            for word in re.findall(r"\w+", example.text.lower())
        }
    )
    vocabulary = {"[UNK]": 0, **{word: index + 1 for index, word in enumerate(words)}}
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    vectors = np.random.default_rng(seed).normal(size=(len(vocabulary), DIMENSIONS))
    vectors[0] = 0.0  # the unknown token adds nothing
    vectors = vectors.astype(np.float32)
    StaticModel(vectors=vectors, tokenizer=tokenizer, normalize=False).save_pretrained(folder)
    return vocabulary, vectors


@pytest.fixture(scope="module")
def encoder_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("encoder")
    _write_encoder(folder, seed=1)
    return folder


@pytest.fixture(scope="module")
def encoder(encoder_folder: Path) -> SentenceEncoder:
    return load_encoder(encoder_folder)


@pytest.fixture(scope="module")
def encoded_model(encoder: SentenceEncoder) -> NluModel:
    header = expected_header(seed=7, encoder=encoder)
    return train(_small_training_set(), languages=["en", "sv"], header=header, encoder=encoder)


def test_a_sentence_is_the_unit_length_mean_of_its_words(tmp_path: Path) -> None:
    vocabulary, vectors = _write_encoder(tmp_path, seed=3)
    encoder = load_encoder(tmp_path)
    assert encoder.dimensions == DIMENSIONS
    assert encoder.identity.startswith("model2vec:")

    encoded = encoder.encode(["Where is my withdrawal", "qqqq zzzz", "uttag"])
    mean = vectors[[vocabulary[word] for word in ("where", "is", "my", "withdrawal")]].mean(axis=0)
    assert np.allclose(encoded[0], mean / np.linalg.norm(mean), atol=1e-5)
    assert not encoded[1].any()  # no known word: no direction
    assert np.isclose(np.linalg.norm(encoded[2]), 1.0)
    assert encoder.encode([]).shape == (0, DIMENSIONS)


def test_a_missing_or_foreign_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="does not exist"):
        load_encoder(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(EncoderError, match="not a Model2Vec model folder"):
        load_encoder(tmp_path)


def test_other_files_are_another_encoder(encoder: SentenceEncoder, tmp_path: Path) -> None:
    _write_encoder(tmp_path, seed=2)
    assert load_encoder(tmp_path).identity != encoder.identity


def test_the_sentence_vector_joins_the_features(
    encoded_model: NluModel, encoder: SentenceEncoder
) -> None:
    features = encoded_model.features
    text = "my withdrawal is still pending, when does it arrive?"
    row = features.transform_one(text)
    assert np.allclose(row.toarray(), features.transform([text]).toarray(), atol=1e-6)
    dense = row.toarray()[0, -DIMENSIONS:]
    assert np.allclose(dense, encoder.encode([text])[0], atol=1e-6)
    assert encoded_model.header.encoder == encoder.identity
    # The classifiers were fitted on the wider rows and read them.
    assert encoded_model.intents.classify_row(row).intent in set(Intent)
    assert 0.0 <= encoded_model.risk.score_row(row)[0] <= 1.0


def test_a_saved_model_is_used_only_with_its_own_encoder(
    encoded_model: NluModel, encoder: SentenceEncoder, tmp_path: Path
) -> None:
    path = model_path(tmp_path)
    save_model(encoded_model, path)
    text = "hur lång tid tar ett uttag?"

    loaded = load_model(path, expected=expected_header(seed=7, encoder=encoder), encoder=encoder)
    assert loaded is not None
    assert loaded.classify(text) == encoded_model.classify(text)
    # Without the encoder, or with another one, it is stale: `load_or_train` retrains.
    assert load_model(path, expected=expected_header(seed=7)) is None
    reloaded, trained = load_or_train(tmp_path, seed=7, encoder=encoder)
    assert not trained
    assert reloaded.classify(text) == encoded_model.classify(text)


def test_the_bot_loads_with_the_configured_encoder(
    encoded_model: NluModel, encoder_folder: Path, tmp_path: Path
) -> None:
    save_model(encoded_model, model_path(tmp_path))
    bot = Bot.load(
        data_dir=tmp_path,
        languages=["en", "sv"],
        default_language="en",
        encoder_path=encoder_folder,
    )
    assert bot.model.header.encoder == encoded_model.header.encoder
    analysis = bot.analyse("I can't log in, forgot my password", profile_language="en")
    assert analysis.intent == encoded_model.classify("I can't log in, forgot my password")


def test_a_setting_naming_no_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValidationError, match="bot_encoder_path"):
        Settings(bot_encoder_path=tmp_path / "nowhere")
    monkeypatch.setenv("PLAYERDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PLAYERDESK_BOT_ENCODER_PATH", str(tmp_path / "nowhere"))
    assert main(["bot", "train"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error:")
    assert "bot_encoder_path" in error
    assert not model_path(tmp_path).exists()
