"""Ticket-core throughput over real HTTP: create tickets, post replies, list the inbox.

Starts `playerdesk serve` as a separate process on a fresh database (SQLite by default,
or --database-url for PostgreSQL), drives it with an async HTTP client at a fixed
concurrency, and prints one JSON object with requests/s and latency percentiles per
operation. Bounded: --requests per operation, loopback only.

    .venv/bin/python bench/api_throughput.py --requests 2000 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def drive(
    name: str, count: int, concurrency: int, call: object
) -> dict[str, float | int | str]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            index = queue.get_nowait()
            started = time.perf_counter()
            ok = await call(index)  # type: ignore[operator]
            latencies.append((time.perf_counter() - started) * 1000)
            errors += 0 if ok else 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "operation": name,
        "requests": count,
        "errors": errors,
        "requests_per_s": round(count / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
    }


async def run(base: str, token: str, requests: int, concurrency: int) -> list[dict[str, object]]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as http:
        ticket_ids: list[int] = []

        async def create(index: int) -> bool:
            response = await http.post(
                "/api/v1/tickets",
                json={
                    "channel": "email",
                    "subject": f"Withdrawal {index} pending",
                    "body": "I requested a withdrawal of 150 EUR yesterday.",
                    "player": {"external_id": f"bench-{index % 500}"},
                },
            )
            if response.status_code == 201:
                ticket_ids.append(response.json()["id"])
                return True
            return False

        async def reply(index: int) -> bool:
            ticket_id = ticket_ids[index % len(ticket_ids)]
            response = await http.post(
                f"/api/v1/tickets/{ticket_id}/messages",
                json={"body": "We are checking it now.", "client_msg_id": str(uuid.uuid4())},
            )
            return response.status_code == 201

        async def list_inbox(_index: int) -> bool:
            response = await http.get("/api/v1/tickets", params={"limit": 25, "status": "open"})
            return response.status_code == 200

        results = [await drive("create_ticket", requests, concurrency, create)]
        results.append(await drive("post_reply", requests, concurrency, reply))
        results.append(await drive("list_tickets", requests, concurrency, list_inbox))
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pd-bench-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{workdir}/bench.db"
    env = {
        **os.environ,
        "PLAYERDESK_DATABASE_URL": database_url,
        "PLAYERDESK_DATA_DIR": str(workdir),
        "PLAYERDESK_LOG_FORMAT": "json",
    }
    cli = [sys.executable, "-m", "playerdesk"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
    email = f"bench-{uuid.uuid4().hex[:8]}@example.test"
    subprocess.run(  # noqa: S603
        [*cli, "create-agent", "--email", email, "--name", "Bench", "--role", "admin"],
        env=env,
        check=True,
        capture_output=True,
    )
    token = subprocess.run(  # noqa: S603
        [*cli, "create-token", "--email", email, "--name", "bench"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()

    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [*cli, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        results = asyncio.run(run(base, token, args.requests, args.concurrency))
    finally:
        server.terminate()
        server.wait(timeout=20)
    engine = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    print(
        json.dumps(
            {
                "benchmark": "api_throughput",
                "database": engine,
                "server_processes": 1,
                "concurrency": args.concurrency,
                "results": results,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
