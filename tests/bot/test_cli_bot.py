"""`playerdesk bot ...` through main(), with the session's model in the data directory."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from playerdesk.bot.dataset import DATA_DIR
from playerdesk.bot.encoder import SentenceEncoder
from playerdesk.bot.nlu import NluModel, expected_header, model_path, read_header
from playerdesk.cli import main

ISSUE_FIELDS = ["id", "language", "intent", "confidence", "rg_risk", "handoff", "action", "reply"]


@pytest.fixture
def bot_env(saved_model_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("PLAYERDESK_DATA_DIR", str(saved_model_dir))
    # An empty knowledge base: questions it would answer are handed over.
    monkeypatch.setenv("PLAYERDESK_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'pd.db'}")
    monkeypatch.setenv("PLAYERDESK_LANGUAGES", "en,pl,sv")
    monkeypatch.setenv("PLAYERDESK_LOG_FORMAT", "json")
    return saved_model_dir


def test_ask_prints_the_decision(bot_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "bot",
                "ask",
                "Jag vill sätta en insättningsgräns på 500 kr i veckan",
                "--player",
                "p-1",
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["language"] == "sv"
    assert answer["rg_risk"] is True
    assert answer["handoff"] is True
    assert answer["action"] is None  # no back-office lookup
    assert answer["answer_source"] == "protection_tools"
    assert "Spelpaus" in answer["reply"]
    assert answer["evidence"]

    assert main(["bot", "ask", "hej", "--lang", "sv"]) == 0
    greeting = json.loads(capsys.readouterr().out)
    assert greeting["language"] == "sv"
    assert greeting["language_source"] == "profile"
    assert greeting["handoff"] is False
    assert greeting["reply"].startswith("Hej! Jag är kundtjänstens assistent.")


def test_ask_jsonl_answers_line_by_line(
    bot_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        {"id": 1, "text": "I forgot my password", "player": "p-7"},
        {"id": "b", "text": "I want to talk to a human agent please"},
        {"id": 3, "text": 5},
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(json.dumps(x) for x in lines)))
    assert main(["bot", "ask", "--jsonl"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(out) == 3
    assert list(out[0])[: len(ISSUE_FIELDS)] == ISSUE_FIELDS
    assert out[0]["id"] == 1
    assert out[0]["intent"] == "account_access"
    # No back office is configured: the knowledge base (empty here) cannot answer either.
    assert out[0]["action"] is None
    assert out[0]["handoff"] is True
    assert out[0]["handoff_reasons"] == ["no_answer"]
    assert out[1]["handoff"] is True
    assert out[1]["reply"].startswith("I'm passing this to a colleague")
    assert "asked_for_agent" in out[1]["handoff_reasons"]
    assert out[2] == {"line": 3, "error": 'expected {"id", "text"}'}


def test_eval_prints_the_figures(bot_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bot", "eval", str(DATA_DIR / "heldout" / "pl.jsonl")]) == 0
    figures = json.loads(capsys.readouterr().out)
    for key in [
        "accuracy",
        "macro_f1",
        "rg_recall",
        "rg_false_positive_rate",
        "language_accuracy",
        "answered_routine_share",
        "answered_wrongly_share",
        "top_confusions",
        "per_language",
    ]:
        assert key in figures
    assert figures["messages"] == figures["per_language"]["pl"]["messages"] > 0
    intervals = figures["intervals_95"]
    assert set(intervals) == {
        "accuracy",
        "rg_recall",
        "rg_false_positive_rate",
        "answered_routine_share",
        "answered_wrongly_share",
    }
    for name, (low, high) in intervals.items():
        # a range that holds the figure and has a width, even where the figure is 1.0
        assert 0.0 <= low <= figures[name] <= high <= 1.0, (name, figures[name], low, high)
        assert high - low > 0.01, (name, low, high)


def test_eval_of_a_broken_file_fails(
    bot_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "x.jsonl"
    broken.write_text('{"text": "hi", "intent": "greeting"}\n{"text": "hi"\n')
    assert main(["bot", "eval", str(broken)]) == 2
    assert "x.jsonl:2" in capsys.readouterr().err


def test_train_writes_a_current_model(
    nlu_model: NluModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Training itself is the session fixture's (the same `train_shipped`): not twice.
    trained_with: list[tuple[int, SentenceEncoder | None]] = []

    def train_once(*, seed: int, encoder: SentenceEncoder | None) -> NluModel:
        trained_with.append((seed, encoder))
        return nlu_model

    monkeypatch.setattr("playerdesk.bot.nlu.train_shipped", train_once)
    monkeypatch.setenv("PLAYERDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PLAYERDESK_LOG_FORMAT", "json")
    assert main(["bot", "train", "--seed", "7"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["intents"] == 20
    assert summary["examples"] == sum(summary["per_language"].values())
    header = read_header(model_path(tmp_path))
    assert header is not None
    assert header.seed == 7
    assert trained_with == [(7, None)]  # no encoder configured
    assert header == expected_header(seed=7)
