"""The `playerdesk` command, run as a real process against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from playerdesk.settings import Settings


def run_cli(
    settings: Settings, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    process_env = {
        **os.environ,
        "PLAYERDESK_DATABASE_URL": settings.database_url,
        "PLAYERDESK_DATA_DIR": str(settings.data_dir),
        "PLAYERDESK_SECRET_KEY": settings.secret_key,
        "PLAYERDESK_LOG_FORMAT": "json",
        **(env or {}),
    }
    process_env.pop("PLAYERDESK_REDIS_URL", None)
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "playerdesk", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=process_env,
        timeout=120,
        check=False,
    )


def test_create_agent_and_token_then_use_it(settings: Settings, tmp_path: Path) -> None:
    assert run_cli(settings, "migrate").returncode == 0
    created = run_cli(
        settings,
        "create-agent",
        "--email",
        "Ops@Example.test",
        "--name",
        "Ops Admin",
        "--role",
        "admin",
        "--languages",
        "en,pl",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "ops@example.test" in created.stdout

    duplicate = run_cli(
        settings,
        "create-agent",
        "--email",
        "ops@example.test",
        "--name",
        "Again",
    )
    assert duplicate.returncode == 2
    assert "email" in duplicate.stderr

    issued = run_cli(settings, "create-token", "--email", "ops@example.test", "--name", "ci")
    assert issued.returncode == 0, issued.stderr
    lines = issued.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pdt_")  # only the token on stdout

    missing = run_cli(settings, "create-token", "--email", "ghost@example.test", "--name", "x")
    assert missing.returncode == 2 and missing.stdout == ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_over_real_http(settings: Settings) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PLAYERDESK_DATABASE_URL": settings.database_url,
        "PLAYERDESK_DATA_DIR": str(settings.data_dir),
        "PLAYERDESK_LOG_FORMAT": "json",
    }
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "playerdesk", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    output = server.stderr.read().decode() if server.stderr else ""
                    pytest.fail(f"server did not start: {output}")
                time.sleep(0.2)
        assert ready.status_code == 200 and ready.json()["database"] == "ok"
        unauthenticated = httpx.get(f"http://127.0.0.1:{port}/api/v1/tickets", timeout=5)
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["content-type"] == "application/problem+json"
        assert (
            httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5).json()["info"][
                "title"
            ]
            == "PlayerDesk"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_demo_data_is_refused_in_production(settings: Settings) -> None:
    env_settings = settings.model_copy(update={"secret_key": "p" * 40})
    result = run_cli(env_settings, "seed-demo", env={"PLAYERDESK_ENV": "prod"})
    assert result.returncode == 2
    assert "prod" in result.stderr and "Traceback" not in result.stderr


def test_setup_floor_installs_the_standard_floor_once(settings: Settings) -> None:
    assert run_cli(settings, "migrate").returncode == 0
    first = run_cli(settings, "setup-floor")
    assert first.returncode == 0, first.stderr
    assert "Senior" in first.stdout and "routing rules: 8" in first.stdout
    again = run_cli(settings, "setup-floor")
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout
