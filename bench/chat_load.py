"""Live-chat load: N players and M agents talking over real websockets to a running server.

Starts `playerdesk serve` (one or two processes, optionally `playerdesk worker`) on a fresh
database, creates M agents over the API, signs each in through the real console login form
and opens its console socket; starts N anonymous widget sessions, each of which opens its
conversation with a first message. The bench assigns every conversation to an agent
(PATCH with an admin token) and that agent's console `watch`es it. None of that is timed.

Then an open-loop scheduler sends `--rate` messages per second for `--duration` seconds,
regardless of answers, alternating the two directions (so each direction gets rate/2):

- player -> agent: the widget sends `message.send`; timed until the assigned agent's
  console socket receives `message.posted` with the same client_msg_id;
- agent -> player: the agent replies as the console does, with a `message.send` frame on
  its console socket (`--agent-replies http`: over the REST API with its session cookie and
  CSRF token, the console's fallback while its socket reconnects); timed from the send until
  the widget receives `message.new`. Replies go to the conversations whose player wrote half
  a round earlier.

A message not received within `--deadline` seconds of its send is lost. Prints one JSON
object: the set-up, per direction messages/s, p50/p95/p99/max latency in ms, lost, errors,
and the CPU used by the bench and by each server process. Bounded: every wait has a
timeout, the run stops by itself; loopback only. Server processes are killed on any exit.

    .venv/bin/python bench/chat_load.py --players 100 --agents 10 --rate 20 --duration 60
    .venv/bin/python bench/chat_load.py --players 1000 --agents 20 --rate 200 --duration 60 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/pd_bench --reset-database \\
        --private-redis --web-processes 2 --worker

`--private-redis` starts a redis-server of the bench's own (db 12 on a free port): Redis
pub/sub channels are per server, not per db, so `--redis-url redis://127.0.0.1:6379/12`
would mix the bench's events with those of anything else using that Redis server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import datetime as dt
import gc
import hmac
import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

MAX_WATCHED_PER_CONSOLE = 50  # the console socket's limit (web/chat/console_socket.py)
WATCH_INTERVAL_S = 0.07  # stay under the console socket's 20 frames/s flood limit
HEARTBEAT_S = 30
SETUP_CONCURRENCY = 25
LOGIN_CONCURRENCY = 4  # argon2 verification is CPU-heavy on purpose
STEP_TIMEOUT_S = 30
AGENT_PASSWORD = "bench-password-" + secrets.token_hex(8)
CSRF_FIELD = re.compile(r'name="csrf[-_]token"\s+(?:value|content)="([^"]+)"')
SECRET_KEY = secrets.token_hex(32)  # the servers' PLAYERDESK_SECRET_KEY, shared by all
TYPE_PREFIX = '{"type": "'


SETUP_RETRIES = [0]  # set-up requests retried after a transport error (keep-alive races)


async def setup_call(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    """A set-up request (never timed), retried once if the connection broke under it."""
    try:
        return await client.request(method, url, **kw)
    except httpx.TransportError:
        SETUP_RETRIES[0] += 1
        await asyncio.sleep(0.5)
        return await client.request(method, url, **kw)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def csrf_for(nonce: str) -> str:
    """The console's CSRF token for a nonce cookie (web/deps.py: csrf_token_for)."""
    return hmac.new(SECRET_KEY.encode(), f"csrf:{nonce}".encode(), "sha256").hexdigest()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def frame_type(text: str) -> str | None:
    """The `type` of a server frame without parsing it (the server writes it first)."""
    if text.startswith(TYPE_PREFIX):
        end = text.find('"', len(TYPE_PREFIX))
        if end > 0:
            return text[len(TYPE_PREFIX) : end]
    return None


# --- bookkeeping ---------------------------------------------------------------------------


@dataclass
class Sample:
    sent: float
    receiver: int  # the index of the player or agent that must receive it
    received: float | None = None
    error: str = ""  # why it failed: an HTTP status, an exception name or a frame's code


@dataclass
class Direction:
    name: str
    samples: dict[str, Sample] = field(default_factory=dict)
    duplicates: int = 0
    misdelivered: int = 0
    # Until the sender's own answer: the socket's `message.ack`, or the REST call's response.
    request_ms: list[float] = field(default_factory=list)
    acked_by: str = "ack"

    def start(self, client_msg_id: str, receiver: int) -> Sample:
        sample = Sample(sent=time.perf_counter(), receiver=receiver)
        self.samples[client_msg_id] = sample
        return sample

    def arrived(self, client_msg_id: object, receiver: int) -> None:
        now = time.perf_counter()
        sample = self.samples.get(client_msg_id) if isinstance(client_msg_id, str) else None
        if sample is None:
            return
        if sample.receiver != receiver:
            self.misdelivered += 1
        elif sample.received is not None:
            self.duplicates += 1
        else:
            sample.received = now

    def outstanding(self) -> int:
        return sum(1 for s in self.samples.values() if s.received is None and not s.error)

    def report(self, *, window_s: float, deadline_s: float) -> dict[str, Any]:
        # Each message counts once: an error (even if it arrived after all), else delivered
        # within the deadline, else lost.
        latencies = [
            (s.received - s.sent) * 1000
            for s in self.samples.values()
            if not s.error and s.received is not None and s.received - s.sent <= deadline_s
        ]
        kinds = Counter(s.error for s in self.samples.values() if s.error)
        errors = sum(kinds.values())
        sent = len(self.samples)
        result: dict[str, Any] = {
            "sent": sent,
            "delivered": len(latencies),
            "lost": sent - errors - len(latencies),
            "errors": errors,
            "error_kinds": dict(kinds),
            "duplicates": self.duplicates,
            "misdelivered": self.misdelivered,
            "sent_per_s": round(sent / window_s, 1),
            "delivered_per_s": round(len(latencies) / window_s, 1),
        }
        if latencies:
            result |= {
                "p50_ms": round(percentile(latencies, 0.50), 2),
                "p95_ms": round(percentile(latencies, 0.95), 2),
                "p99_ms": round(percentile(latencies, 0.99), 2),
                "max_ms": round(max(latencies), 2),
            }
        if self.request_ms:
            label = self.acked_by
            result |= {
                f"{label}_p50_ms": round(percentile(self.request_ms, 0.50), 2),
                f"{label}_p99_ms": round(percentile(self.request_ms, 0.99), 2),
            }
        return result


@dataclass
class Counters:
    frame_errors: int = 0  # `error` frames from the server
    socket_closed: int = 0  # a socket closed during the run
    setup_failures: int = 0
    closing: bool = False  # the bench is closing its sockets: closes are expected now


# --- participants --------------------------------------------------------------------------


class Agent:
    def __init__(self, index: int, email: str, base: str, counters: Counters) -> None:
        self.index, self.email, self.base, self.counters = index, email, base, counters
        self.http = httpx.AsyncClient(base_url=base, timeout=STEP_TIMEOUT_S)
        self.csrf = ""
        self.socket: ClientConnection | None = None
        self.watching: dict[int, asyncio.Future[None]] = {}
        self.welcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.watch_lock = asyncio.Lock()
        self.inbound: Direction | None = None
        self.acks: dict[str, asyncio.Future[str | None]] = {}  # client_msg_id -> error code
        self.frames = 0
        self.id = 0

    async def login(self) -> None:
        """The real console form: CSRF nonce cookie + hidden field, then the inbox page."""
        page = await setup_call(self.http, "GET", "/console/login")
        token = CSRF_FIELD.search(page.text)
        if page.status_code != 200 or token is None:
            raise RuntimeError(f"login page: {page.status_code}")
        answer = await setup_call(
            self.http,
            "POST",
            "/console/login",
            data={"email": self.email, "password": AGENT_PASSWORD, "csrf_token": token[1]},
        )
        if answer.status_code != 303 or "pd_session" not in self.http.cookies:
            raise RuntimeError(f"login failed: {answer.status_code}")
        # The API wants the page's CSRF token in X-CSRF-Token: read it from the page the
        # login lands on; if that page shows none, derive it from the fresh nonce cookie
        # exactly as the server does (the bench set the server's secret key).
        landing = await setup_call(self.http, "GET", answer.headers.get("location", "/console"))
        token = CSRF_FIELD.search(landing.text) if landing.status_code == 200 else None
        self.csrf = token[1] if token else csrf_for(self.http.cookies["pd_csrf"])
        me = await setup_call(self.http, "GET", "/api/v1/agents/me")
        self.id = int(me.json()["id"])

    async def open_console(self, ws_base: str) -> None:
        self.socket = await connect(
            f"{ws_base}/ws/console",
            additional_headers={"Cookie": f"pd_session={self.http.cookies['pd_session']}"},
            origin=self.base,  # type: ignore[arg-type]
            open_timeout=STEP_TIMEOUT_S,
        )
        await self.socket.send(json.dumps({"type": "hello"}))

    async def read(self) -> None:
        assert self.socket is not None
        try:
            async for text in self.socket:
                self.frames += 1
                assert isinstance(text, str)
                kind = frame_type(text)
                if kind in ("inbox.activity", "ticket.updated", "ticket.created", "presence"):
                    continue  # every console hears about every conversation: skip unparsed
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "message.posted" and self.inbound is not None:
                    message = frame["message"]
                    if message.get("author") == "player":
                        self.inbound.arrived(message.get("client_msg_id"), self.index)
                elif kind == "watching":
                    waiter = self.watching.get(frame.get("ticket_id"))
                    if waiter is not None and not waiter.done():
                        waiter.set_result(None)
                elif kind == "welcome" and not self.welcome.done():
                    self.welcome.set_result(None)
                elif kind == "message.ack":
                    ack = self.acks.pop(frame.get("client_msg_id"), None)
                    if ack is not None and not ack.done():
                        ack.set_result(None)
                elif kind == "error":
                    ack = self.acks.pop(frame.get("client_msg_id"), None)
                    if ack is not None and not ack.done():
                        ack.set_result(str(frame.get("code")))
                    else:
                        self.counters.frame_errors += 1
        except ConnectionClosed:
            if not self.counters.closing:
                self.counters.socket_closed += 1

    async def watch(self, ticket_id: int) -> None:
        assert self.socket is not None
        waiter = asyncio.get_running_loop().create_future()
        self.watching[ticket_id] = waiter
        async with self.watch_lock:  # paced: the console socket closes on floods
            await self.socket.send(json.dumps({"type": "watch", "ticket_id": ticket_id}))
            await asyncio.sleep(WATCH_INTERVAL_S)
        await asyncio.wait_for(waiter, STEP_TIMEOUT_S)

    async def heartbeat(self, stop: asyncio.Event) -> None:
        assert self.socket is not None
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEARTBEAT_S)
            if not stop.is_set():
                with contextlib.suppress(ConnectionClosed):
                    await self.socket.send(json.dumps({"type": "heartbeat"}))

    async def reply(self, ticket_id: int, body: str, client_msg_id: str) -> str | None:
        """The console's reply over the REST API: None when stored, else what went wrong."""
        response = await self.http.post(
            f"/api/v1/tickets/{ticket_id}/messages",
            json={"body": body, "kind": "reply", "client_msg_id": client_msg_id},
            headers={"X-CSRF-Token": self.csrf},
        )
        return None if response.status_code == 201 else f"http:{response.status_code}"

    async def reply_on_socket(self, ticket_id: int, body: str, client_msg_id: str) -> str | None:
        """The console's reply as a `message.send` frame, answered by `message.ack` or `error`."""
        assert self.socket is not None
        waiter: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.acks[client_msg_id] = waiter
        frame = {"type": "message.send", "ticket_id": ticket_id, "client_msg_id": client_msg_id}
        await self.socket.send(json.dumps({**frame, "body": body, "kind": "reply"}))
        try:
            return await waiter
        finally:
            self.acks.pop(client_msg_id, None)

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close(), 5)
        await self.http.aclose()


class Player:
    def __init__(self, index: int, base: str, ws_base: str, counters: Counters) -> None:
        self.index, self.base, self.ws_base, self.counters = index, base, ws_base, counters
        self.socket: ClientConnection | None = None
        self.ticket_id = 0
        self.agent: Agent | None = None
        self.acks: dict[str, asyncio.Future[int]] = {}
        self.welcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.inbound: Direction | None = None
        self.outbound: Direction | None = None

    async def open(self, http: httpx.AsyncClient) -> None:
        session = await setup_call(
            http,
            "POST",
            f"{self.base}/widget/v1/session",
            json={"visitor_token": None, "language": "en"},
        )
        if session.status_code != 200:
            raise RuntimeError(f"widget session: {session.status_code}")
        self.socket = await connect(
            f"{self.ws_base}/ws/widget?token={session.json()['token']}",
            open_timeout=STEP_TIMEOUT_S,
        )
        await self.socket.send(json.dumps({"type": "hello", "last_seen_id": 0}))

    def message_frame(self, client_msg_id: str, body: str) -> str:
        frame: dict[str, Any] = {
            "type": "message.send",
            "client_msg_id": client_msg_id,
            "body": body,
        }
        if self.ticket_id:
            frame["ticket_id"] = self.ticket_id  # the conversation the widget believes it is in
        return json.dumps(frame)

    async def first_message(self) -> int:
        """Opens the conversation; returns its ticket id."""
        assert self.socket is not None
        client_msg_id = uuid.uuid4().hex
        ack = asyncio.get_running_loop().create_future()
        self.acks[client_msg_id] = ack
        await self.socket.send(self.message_frame(client_msg_id, "Hi, I need help with a deposit"))
        self.ticket_id = await asyncio.wait_for(ack, STEP_TIMEOUT_S)
        return self.ticket_id

    async def read(self) -> None:
        assert self.socket is not None
        try:
            async for text in self.socket:
                assert isinstance(text, str)
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "message.new" and self.inbound is not None:
                    message = frame["message"]
                    if message.get("author") == "agent":
                        self.inbound.arrived(message.get("client_msg_id"), self.index)
                elif kind == "message.ack":
                    self.acked(frame)
                elif kind == "welcome" and not self.welcome.done():
                    self.welcome.set_result(None)
                elif kind == "error":
                    self.counters.frame_errors += 1
                    sample = (
                        self.outbound.samples.get(frame.get("client_msg_id", ""))
                        if self.outbound
                        else None
                    )
                    if sample is not None:
                        sample.error = f"frame:{frame.get('code')}"
        except ConnectionClosed:
            if not self.counters.closing:
                self.counters.socket_closed += 1

    def acked(self, frame: dict[str, Any]) -> None:
        client_msg_id = frame.get("client_msg_id")
        waiter = self.acks.pop(client_msg_id, None) if isinstance(client_msg_id, str) else None
        if waiter is not None and not waiter.done():
            waiter.set_result(int(frame["message"]["ticket_id"]))
        elif self.outbound is not None and isinstance(client_msg_id, str):
            sample = self.outbound.samples.get(client_msg_id)
            if sample is not None:
                self.outbound.request_ms.append((time.perf_counter() - sample.sent) * 1000)

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close(), 5)


# --- processes -----------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Child side of Popen: get SIGTERM if the bench dies, however it dies (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Process:
    role: str
    popen: subprocess.Popen[bytes]
    log: Path


class Processes:
    """Everything the bench starts; `stop` kills it all, and runs on any exit."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.items: list[Process] = []

    def start(self, role: str, argv: list[str], env: dict[str, str]) -> Process:
        log = self.workdir / f"{role}.log"
        with log.open("wb") as sink:
            popen = subprocess.Popen(  # noqa: S603 - our own interpreter or redis-server
                argv,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # no threads yet, so this is safe
            )
        process = Process(role=role, popen=popen, log=log)
        self.items.append(process)
        return process

    def stop(self) -> None:
        """The servers first, then what they depend on (Redis), so none logs a lost bus."""
        for group in ([p for p in self.items if p.role != "redis"], self.items):
            for process in group:
                if process.popen.poll() is None:
                    process.popen.terminate()
            for process in group:
                try:
                    process.popen.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.popen.kill()
                    process.popen.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving `database` (their title names it)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            found[int(entry.name)] = cpu_seconds(int(entry.name))
    return found


class CpuMeter:
    """CPU used during the timed window, as % of one core: the bench itself, each process it
    started, the PostgreSQL backends of the bench database, and the whole machine."""

    def __init__(self, processes: list[Process], database: str | None) -> None:
        self.processes, self.database = processes, database
        self.wall = time.perf_counter()
        self.own = time.process_time()
        self.children = {p.role: cpu_seconds(p.popen.pid) for p in processes}
        self.backends = postgres_backends(database) if database else {}
        self.machine = machine_busy()

    def report(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.wall
        busy, total = machine_busy()

        def percent(seconds: float) -> float:
            return round(100 * seconds / wall, 1)

        result: dict[str, Any] = {
            "bench_client_percent": percent(time.process_time() - self.own),
            "processes_percent": {
                p.role: percent(cpu_seconds(p.popen.pid) - self.children[p.role])
                for p in self.processes
            },
        }
        if self.database:
            now = postgres_backends(self.database)
            used = sum(cpu - self.backends.get(pid, 0.0) for pid, cpu in now.items())
            result["postgres_backends_percent"] = percent(used)
        result["machine_busy_percent_of_all_cores"] = round(
            100 * (busy - self.machine[0]) / max(1.0, total - self.machine[1]), 1
        )
        return result


# --- the run -------------------------------------------------------------------------------


@dataclass
class Servers:
    bases: list[str]
    admin_token: str

    @property
    def ws_bases(self) -> list[str]:
        return ["ws" + base.removeprefix("http") for base in self.bases]


async def bounded(
    concurrency: int, items: list[Any], call: Callable[[Any], Awaitable[None]]
) -> int:
    """Run call(item) for every item, `concurrency` at a time; returns how many failed."""
    gate = asyncio.Semaphore(concurrency)
    failures = 0

    async def one(item: Any) -> None:
        nonlocal failures
        async with gate:
            try:
                await asyncio.wait_for(call(item), STEP_TIMEOUT_S * 3)
            except Exception as exc:
                failures += 1
                if failures <= 3:
                    print(f"setup: {type(exc).__name__}: {exc}", file=sys.stderr)

    await asyncio.gather(*(one(item) for item in items))
    return failures


def watched(player: Player) -> bool:
    """Set up completely: the conversation is open and its agent's console watches it."""
    assert player.agent is not None
    waiter = player.agent.watching.get(player.ticket_id)
    return (
        waiter is not None and waiter.done() and not waiter.cancelled() and not waiter.exception()
    )


def assignments(players: int, agents: int, web_processes: int) -> Iterator[tuple[int, int, int]]:
    """(player, agent, player's server): with two processes every chat crosses processes."""
    by_server = [[a for a in range(agents) if a % web_processes == s] for s in range(web_processes)]
    for player in range(players):
        server = player % web_processes
        pool = by_server[(server + 1) % web_processes]
        yield player, pool[(player // web_processes) % len(pool)], server


async def setup(
    args: argparse.Namespace, servers: Servers, counters: Counters
) -> tuple[list[Player], list[Agent], list[asyncio.Task[None]]]:
    admin = httpx.AsyncClient(
        headers={"Authorization": f"Bearer {servers.admin_token}"},
        timeout=STEP_TIMEOUT_S,
        limits=httpx.Limits(max_connections=SETUP_CONCURRENCY),
    )
    widget_http = httpx.AsyncClient(  # what a casino page's widget sends: no credentials
        timeout=STEP_TIMEOUT_S, limits=httpx.Limits(max_connections=SETUP_CONCURRENCY)
    )
    readers: list[asyncio.Task[None]] = []
    try:
        agents = [
            Agent(
                index,
                f"bench-agent-{index}-{uuid.uuid4().hex[:6]}@example.test",
                servers.bases[index % len(servers.bases)],
                counters,
            )
            for index in range(args.agents)
        ]
        for agent in agents:
            response = await setup_call(
                admin,
                "POST",
                f"{agent.base}/api/v1/agents",
                json={
                    "email": agent.email,
                    "name": f"Agent {agent.index}",
                    "role": "agent",
                    "password": AGENT_PASSWORD,
                    "languages": ["en"],
                    "max_concurrent_chats": MAX_WATCHED_PER_CONSOLE,
                },
            )
            if response.status_code != 201:
                raise RuntimeError(f"create agent: {response.status_code} {response.text}")

        async def sign_in(agent: Agent) -> None:
            await agent.login()
            await agent.open_console(servers.ws_bases[agent.index % len(servers.bases)])
            readers.append(asyncio.create_task(agent.read()))
            await asyncio.wait_for(agent.welcome, STEP_TIMEOUT_S)

        if await bounded(LOGIN_CONCURRENCY, agents, sign_in):
            raise RuntimeError("agents could not sign in")

        players: list[Player] = []
        plan = list(assignments(args.players, args.agents, args.web_processes))
        for index, agent_index, server in plan:
            player = Player(index, servers.bases[server], servers.ws_bases[server], counters)
            player.agent = agents[agent_index]
            players.append(player)

        async def start_chat(player: Player) -> None:
            await player.open(widget_http)
            readers.append(asyncio.create_task(player.read()))
            await asyncio.wait_for(player.welcome, STEP_TIMEOUT_S)
            ticket_id = await player.first_message()
            assert player.agent is not None
            response = await setup_call(
                admin,
                "PATCH",
                f"{player.base}/api/v1/tickets/{ticket_id}",
                json={"assignee_id": player.agent.id},
            )
            if response.status_code != 200:
                raise RuntimeError(f"assign: {response.status_code} {response.text}")
            await player.agent.watch(ticket_id)

        counters.setup_failures = await bounded(SETUP_CONCURRENCY, players, start_chat)
        return players, agents, readers
    finally:
        await admin.aclose()
        await widget_http.aclose()


async def drive(
    args: argparse.Namespace,
    players: list[Player],
    agents: list[Agent],
    to_agent: Direction,
    to_player: Direction,
) -> dict[str, Any]:
    for player in players:
        player.inbound, player.outbound = to_player, to_agent
    for agent in agents:
        agent.inbound = to_agent
    stop = asyncio.Event()
    heartbeats = [asyncio.create_task(agent.heartbeat(stop)) for agent in agents]
    tasks: set[asyncio.Task[None]] = set()
    lag_ms: list[float] = []

    async def player_sends(player: Player, tick: int) -> None:
        assert player.socket is not None
        assert player.agent is not None
        client_msg_id = uuid.uuid4().hex
        frame = player.message_frame(client_msg_id, f"Where is my withdrawal? ({tick})")
        sample = to_agent.start(client_msg_id, player.agent.index)
        try:
            await asyncio.wait_for(player.socket.send(frame), args.deadline)
        except Exception as exc:
            sample.error = type(exc).__name__

    async def agent_replies(player: Player, tick: int) -> None:
        assert player.agent is not None
        client_msg_id = uuid.uuid4().hex
        sample = to_player.start(client_msg_id, player.index)
        reply = player.agent.reply if args.agent_replies == "http" else player.agent.reply_on_socket
        try:
            error = await asyncio.wait_for(
                reply(player.ticket_id, f"We are checking it ({tick}).", client_msg_id),
                args.deadline,
            )
        except Exception as exc:
            sample.error = type(exc).__name__
            return
        if error is None:
            to_player.request_ms.append((time.perf_counter() - sample.sent) * 1000)
        else:
            sample.error = error

    count = len(players)
    total = int(args.rate * args.duration)
    interval = 1.0 / args.rate
    started = time.perf_counter()
    for tick in range(total):
        target = started + tick * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag_ms.append(max(0.0, time.perf_counter() - target) * 1000)
        round_index = tick // 2
        if tick % 2 == 0:
            job = player_sends(players[round_index % count], tick)
        else:  # the conversation whose player wrote half a round ago
            job = agent_replies(players[(round_index - count // 2) % count], tick)
        task = asyncio.create_task(job)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    window = time.perf_counter() - started

    # Stragglers: everything sent gets `deadline` seconds to arrive, then counts as lost.
    give_up = time.perf_counter() + args.deadline
    for _ in range(math.ceil(args.deadline / 0.05)):
        if time.perf_counter() >= give_up or not (
            tasks or to_agent.outstanding() or to_player.outstanding()
        ):
            break
        await asyncio.sleep(0.05)
    stop.set()
    for task in [*tasks, *heartbeats]:
        task.cancel()
    await asyncio.gather(*tasks, *heartbeats, return_exceptions=True)
    return {
        "window_s": window,
        "scheduler_lag_p99_ms": round(percentile(lag_ms, 0.99), 2) if lag_ms else None,
        "scheduler_lag_max_ms": round(max(lag_ms), 2) if lag_ms else None,
    }


async def run(
    args: argparse.Namespace, servers: Servers, processes: list[Process]
) -> dict[str, Any]:
    counters = Counters()
    to_agent = Direction("player_to_agent")
    to_player = Direction(
        "agent_to_player", acked_by="ack" if args.agent_replies == "socket" else "http"
    )
    setup_started = time.perf_counter()
    players, agents, readers = await asyncio.wait_for(
        setup(args, servers, counters), args.setup_timeout
    )
    setup_s = time.perf_counter() - setup_started
    ready = [player for player in players if watched(player)]
    try:
        if len(ready) < 2:
            raise RuntimeError("fewer than two conversations could be set up")
        await asyncio.sleep(1)  # let the set-up's events drain before timing anything
        # The client's own full collections over 1,000 sockets' objects paused its loop for
        # 60-90 ms and were timed as server latency: take what set-up built out of their way.
        gc.collect()
        gc.freeze()
        frames_before = sum(agent.frames for agent in agents)
        counters.frame_errors = counters.socket_closed = 0  # count the timed window only
        meter = CpuMeter(processes, args.postgres_database)
        timing = await drive(args, ready, agents, to_agent, to_player)
        cpu = meter.report()
        console_frames = sum(agent.frames for agent in agents) - frames_before
    finally:
        counters.closing = True
        await asyncio.gather(*(p.close() for p in players), *(a.close() for a in agents))
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    window, deadline = timing.pop("window_s"), args.deadline
    p2a = to_agent.report(window_s=window, deadline_s=deadline)
    a2p = to_player.report(window_s=window, deadline_s=deadline)
    return {
        "chats": len(ready),
        "setup_failures": counters.setup_failures,
        "setup_retries": SETUP_RETRIES[0],
        "setup_s": round(setup_s, 1),
        "window_s": round(window, 2),
        "messages_per_s": round((p2a["delivered"] + a2p["delivered"]) / window, 1),
        "lost": p2a["lost"] + a2p["lost"],
        "errors": p2a["errors"] + a2p["errors"],
        "player_to_agent": p2a,
        "agent_to_player": a2p,
        "error_frames": counters.frame_errors,
        "sockets_closed_during_run": counters.socket_closed,
        "console_frames_per_s": round(console_frames / window, 1),
        **timing,
        "cpu": cpu,
    }


# --- main ----------------------------------------------------------------------------------


def raise_fd_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(max(soft, wanted), hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def wait_ready(base: str, process: Process, *, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise SystemExit(f"{process.role} exited; see {process.log}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{process.role} did not become ready; see {process.log}")


def reset_postgres(url: str) -> None:
    """Drop and recreate the public schema of the bench database (only with --reset-database)."""
    import asyncpg

    async def reset() -> None:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
        finally:
            await connection.close()

    asyncio.run(reset())


def start_private_redis(processes: Processes) -> str:
    """A redis-server of our own on a free loopback port: pub/sub channels are global to a
    Redis server (not per db), so this keeps the bench's events out of anyone else's tests."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("--private-redis needs redis-server on PATH")
    port = free_port()
    process = processes.start(
        "redis",
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        dict(os.environ),
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return f"redis://127.0.0.1:{port}/12"
        time.sleep(0.1)
    raise SystemExit(f"redis-server did not start; see {process.log}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--players", type=int, default=100, help="concurrent chats")
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--rate", type=float, default=20, help="messages/s, both directions")
    parser.add_argument("--duration", type=float, default=30, help="seconds of timed load")
    parser.add_argument("--deadline", type=float, default=10, help="seconds before lost")
    parser.add_argument("--setup-timeout", type=float, default=600)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--reset-database",
        action="store_true",
        help="drop and recreate the PostgreSQL database's public schema first",
    )
    parser.add_argument("--redis-url", default=None, help="the event bus across processes")
    parser.add_argument(
        "--private-redis",
        action="store_true",
        help="start a redis-server of the bench's own on a free port (db 12)",
    )
    parser.add_argument("--web-processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--worker", action="store_true", help="also run `playerdesk worker`")
    parser.add_argument(
        "--agent-replies",
        choices=("socket", "http"),
        default="socket",
        help="how agents reply: the console socket (as the console does) or the REST API",
    )
    args = parser.parse_args()
    sqlite = args.database_url is None or args.database_url.startswith("sqlite")
    if args.web_processes == 2 and (sqlite or not (args.redis_url or args.private_redis)):
        parser.error("--web-processes 2 needs PostgreSQL (--database-url) and Redis")
    if args.reset_database and sqlite:
        parser.error("--reset-database is for PostgreSQL (SQLite starts fresh anyway)")
    per_agent = math.ceil(args.players / max(1, args.agents))
    if args.agents < args.web_processes or per_agent > MAX_WATCHED_PER_CONSOLE:
        parser.error(
            f"need at least {args.web_processes} agents and at most "
            f"{MAX_WATCHED_PER_CONSOLE} chats per agent (a console watches at most that many)"
        )
    if args.players < 2 or args.rate <= 0 or args.duration <= 0:
        parser.error("need 2+ players, a positive rate and a positive duration")
    return args


def main() -> int:
    args = parse_args()
    fd_limit = raise_fd_limit(4 * (args.players + args.agents) + 1024)  # children inherit it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` kills the servers
    workdir = Path(tempfile.mkdtemp(prefix="pd-chat-load-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{workdir}/bench.db"
    processes = Processes(workdir)
    try:
        redis_url = start_private_redis(processes) if args.private_redis else args.redis_url
        env = {
            **os.environ,
            "PLAYERDESK_DATABASE_URL": database_url,
            "PLAYERDESK_DATA_DIR": str(workdir),
            "PLAYERDESK_LOG_FORMAT": "json",
            "PLAYERDESK_SECRET_KEY": SECRET_KEY,  # shared: tokens cross processes
        }
        env.pop("PLAYERDESK_REDIS_URL", None)
        if redis_url:
            env["PLAYERDESK_REDIS_URL"] = redis_url
        if args.worker:
            env["PLAYERDESK_RUN_JOBS_IN_PROCESS"] = "false"
        if args.reset_database:
            reset_postgres(database_url)
        cli = [sys.executable, "-m", "playerdesk"]
        subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
        email = f"bench-admin-{uuid.uuid4().hex[:8]}@example.test"
        subprocess.run(  # noqa: S603
            [*cli, "create-agent", "--email", email, "--name", "Bench", "--role", "admin"],
            env=env,
            check=True,
            capture_output=True,
        )
        token = subprocess.run(  # noqa: S603
            [*cli, "create-token", "--email", email, "--name", "chat-load"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

        bases: list[str] = []
        web: list[Process] = []
        for index in range(args.web_processes):
            port = free_port()
            web.append(
                processes.start(f"web{index + 1}", [*cli, "serve", "--port", str(port)], env)
            )
            bases.append(f"http://127.0.0.1:{port}")
        if args.worker:
            processes.start("worker", [*cli, "worker"], env)
        for base, process in zip(bases, web, strict=True):
            wait_ready(base, process)
        loadavg = Path("/proc/loadavg").read_text().split()[:3]
        args.postgres_database = (
            urlsplit(database_url).path.lstrip("/") if database_url.startswith("postgres") else None
        )
        try:
            import uvloop

            runner: Callable[..., Any] = uvloop.run
        except ImportError:
            runner = asyncio.run
        results = runner(run(args, Servers(bases, token), processes.items))
        results["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
        for process in processes.items:
            if process.popen.poll() is not None:
                results.setdefault("crashed", []).append(process.role)
    finally:
        processes.stop()
    server_errors = sum(
        log.read_text(errors="replace").count('"level": "error"')
        for log in (p.log for p in processes.items)
        if log.exists()
    )
    engine = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    bus = "redis" if redis_url else "in-memory"
    print(
        json.dumps(
            {
                "benchmark": "chat_load",
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "setup": {
                    "database": engine,
                    "bus": bus + (" (private redis-server)" if args.private_redis else ""),
                    "web_processes": args.web_processes,
                    "worker": args.worker,
                    "players": args.players,
                    "agents": args.agents,
                    "rate_per_s": args.rate,
                    "duration_s": args.duration,
                    "deadline_s": args.deadline,
                    "agent_replies": args.agent_replies,
                    "cross_process_chats": args.players if args.web_processes == 2 else 0,
                    "cpus": os.cpu_count(),
                    "loadavg_before": loadavg,
                    "fd_limit": fd_limit,
                    "server_host": urlsplit(bases[0]).hostname,
                    "logs": str(workdir),
                },
                "server_log_errors": server_errors,
                **results,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
