"""`playerdesk demo` runs the demo casino back office and points PlayerDesk at it over real
HTTP, unless PLAYERDESK_CASINO_API_URL names a back office already."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from playerdesk import cli
from playerdesk.bot.nlu import NluModel, model_path, save_model
from playerdesk.settings import Settings
from tests.test_cli import run_cli

PG = bool(os.environ.get("PLAYERDESK_TEST_DATABASE_URL"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_configured_back_office_is_used_as_it_is(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"casino_api_url": "https://casino.example", "casino_api_token": "t"}
    )
    updated, tasks = cli._demo_casino(configured)
    assert updated is configured
    assert tasks == []


def test_the_next_port_is_taken_when_the_first_is_busy() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        listener = cli._listen_on_free_port("127.0.0.1", taken, 10)
        with listener:
            port = listener.getsockname()[1]
            assert taken < port < taken + 10
    with socket.socket() as again:
        again.bind(("127.0.0.1", 0))
        again.listen()
        with pytest.raises(OSError, match="no free port"):
            cli._listen_on_free_port("127.0.0.1", again.getsockname()[1], 1)


async def test_the_demo_back_office_runs_as_a_background_task(settings: Settings) -> None:
    unconfigured = settings.model_copy(
        update={"casino_api_url": None, "casino_api_token": None, "casino_api_secret": None}
    )
    updated, [serve] = cli._demo_casino(unconfigured)
    url = updated.casino_api_url
    assert url is not None and re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    assert updated.casino_api_token == cli.DEMO_CASINO_TOKEN

    task = asyncio.create_task(serve(None))  # type: ignore[arg-type]  # the runtime is unused
    try:
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {cli.DEMO_CASINO_TOKEN}"}
        ) as http:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    answer = await http.get("/v1/players", params={"external_id": "290677"})
                    break
                await asyncio.sleep(0.02)
            assert answer.status_code == 200
            assert answer.json()["name"] == "Priya Shah"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    # Stopped with the server: the port is closed again.
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=url) as http:
            await http.get("/v1/players")


@pytest.mark.skipif(PG, reason="the demo runs embedded (SQLite) here")
def test_demo_points_playerdesk_at_the_demo_back_office(
    settings: Settings, tmp_path: Path, nlu_model: NluModel
) -> None:
    """The real command, as `make demo` runs it: the console's player context comes from the
    demo back office over HTTP."""
    # The session's model, current for the shipped data, where the demo looks for it: the
    # demo loads it instead of spending a minute training the same one.
    save_model(nlu_model, model_path(settings.data_dir))
    port = free_port()
    env = {
        **os.environ,
        "PLAYERDESK_ENV": "demo",
        "PLAYERDESK_DATABASE_URL": settings.database_url,
        "PLAYERDESK_DATA_DIR": str(settings.data_dir),
        "PLAYERDESK_LOG_FORMAT": "json",
        # Ports of this test's own: the demo's fixed mail ports may be in use.
        "PLAYERDESK_SMTP_INBOUND": f"127.0.0.1:{free_port()}",
        "PLAYERDESK_SMTP_OUTBOUND": f"smtp://127.0.0.1:{free_port()}",
    }
    for name in (
        "PLAYERDESK_CASINO_API_URL",
        "PLAYERDESK_CASINO_API_TOKEN",
        "PLAYERDESK_REDIS_URL",
    ):
        env.pop(name, None)
    stdout, stderr = tmp_path / "demo.out", tmp_path / "demo.err"
    with stdout.open("w") as output, stderr.open("w") as errors:
        demo = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "playerdesk", "demo", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=errors,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or demo.poll() is not None:
                pytest.fail(f"the demo did not start: {stdout.read_text()}")
            time.sleep(0.3)
        printed = re.search(r"^Back office: +(http://127\.0\.0\.1:\d+)", stdout.read_text(), re.M)
        assert printed, stdout.read_text()
        office = printed.group(1)

        issued = run_cli(
            settings,
            "create-token",
            "--email",
            "admin@demo.playerdesk.test",
            "--name",
            "test",
            env={"PLAYERDESK_ENV": "demo"},
        )
        assert issued.returncode == 0, issued.stderr
        headers = {"Authorization": f"Bearer {issued.stdout.strip()}"}
        tickets = httpx.get(f"{base}/api/v1/tickets?limit=100", headers=headers, timeout=10)
        [held] = [
            t for t in tickets.json()["items"] if t["subject"].startswith("Withdrawal pending")
        ]
        context = None
        for _ in range(50):  # the back office starts with the server; give it a moment
            context = httpx.get(
                f"{base}/api/v1/tickets/{held['id']}/player-context", headers=headers, timeout=10
            ).json()
            if context["account"]["state"] == "available":
                break
            time.sleep(0.2)
        assert context is not None and context["account"]["state"] == "available", context
        assert context["account"]["payments"][0]["status"] == "pending"
        assert context["player"]["external_id"] == "290677"
        assert httpx.get(f"{office}/v1/players?external_id=290677", timeout=5).status_code == 401
    finally:
        demo.terminate()
        returncode = demo.wait(timeout=30)
    # Both servers stopped cleanly (uvicorn ends by re-raising the signal it handled).
    assert returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in stderr.read_text()
