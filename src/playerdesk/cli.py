"""The `playerdesk` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playerdesk.db.migrate import upgrade_database
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.errors import DomainError
from playerdesk.domain.permissions import Actor
from playerdesk.logging import configure_logging
from playerdesk.runtime import Runtime, build_runtime, freeze_long_lived_objects
from playerdesk.services import agents as agent_service
from playerdesk.services import auth
from playerdesk.settings import Settings

if TYPE_CHECKING:
    from playerdesk.jobs.runner import BackgroundTask


def _settings() -> Settings:
    settings = Settings()
    configure_logging(log_format=settings.log_format)
    return settings


def cmd_migrate(_args: argparse.Namespace) -> int:
    settings = _settings()
    asyncio.run(upgrade_database(settings.database_url))
    print("database is at the latest schema")
    return 0


def _serve(
    settings: Settings, *, host: str, port: int, extra: Sequence[BackgroundTask] = ()
) -> None:
    import uvicorn

    from playerdesk.jobs.runner import background_tasks
    from playerdesk.web.app import create_app

    background = background_tasks(settings) if settings.jobs_in_process else []
    app = create_app(settings, background=[*background, *extra])
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.is_sqlite:
        # Embedded: nobody else runs migrations, so the server brings its own schema up to date.
        asyncio.run(upgrade_database(settings.database_url))
    _serve(settings, host=args.host, port=args.port)
    return 0


async def _seed(settings: Settings) -> list[str]:
    from playerdesk.demo import seed_demo

    runtime = build_runtime(settings)
    try:
        logins = await seed_demo(runtime)
    finally:
        await runtime.close()
    return [f"  {login.role:<10} {login.email:<32} {login.password}" for login in logins]


def _report(error: DomainError) -> int:
    where = f" ({error.field})" if error.field else ""
    print(f"error{where}: {error.detail}", file=sys.stderr)
    return 2


def cmd_seed_demo(_args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        lines = asyncio.run(_seed(settings))
    except DomainError as exc:
        return _report(exc)
    print("Demo logins (role, email, password):")
    print("\n".join(lines))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.public_url is None:
        # The bot's article links and the emails' links point at this demo server.
        wildcard = args.host in ("0.0.0.0", "::")  # noqa: S104 (compared, not bound)
        shown_host = "127.0.0.1" if wildcard else args.host
        settings = settings.model_copy(update={"public_url": f"http://{shown_host}:{args.port}"})
    asyncio.run(upgrade_database(settings.database_url))
    try:
        lines = asyncio.run(_seed(settings))
    except DomainError as exc:
        return _report(exc)
    print()
    print(f"PlayerDesk demo: http://{args.host}:{args.port}/console")
    print(f"Player widget:   http://{args.host}:{args.port}/demo/casino")
    print(f"API docs:        http://{args.host}:{args.port}/api/docs")
    print("Demo logins (role, email, password):")
    print("\n".join(lines))
    settings, casino = _demo_casino(settings)
    settings, extra = _demo_mail(settings)
    sys.stdout.flush()
    _serve(settings, host=args.host, port=args.port, extra=[*casino, *extra])
    return 0


DEMO_SMTP_INBOUND = "127.0.0.1:2525"
DEMO_SMTP_CAPTURE_PORT = 2526


def _demo_mail(settings: Settings) -> tuple[Settings, list[BackgroundTask]]:
    """Email in the demo, over real SMTP: a receiver players' mail can be sent to, and,
    unless an outbound server is configured, a local one that keeps sent mail as files."""
    from playerdesk.adapters.mail_capture import run_mail_capture

    updates: dict[str, object] = {}
    extra: list[BackgroundTask] = []
    if settings.smtp_inbound is None:
        updates["smtp_inbound"] = DEMO_SMTP_INBOUND
    print(
        f"Email in:        SMTP {updates.get('smtp_inbound', settings.smtp_inbound)}, "
        f"to {settings.email_from}"
    )
    if settings.smtp_outbound is None:
        directory = settings.data_dir / "demo-mail"
        updates["smtp_outbound"] = f"smtp://127.0.0.1:{DEMO_SMTP_CAPTURE_PORT}"

        async def capture(_runtime: Runtime) -> None:
            await run_mail_capture(
                host="127.0.0.1", port=DEMO_SMTP_CAPTURE_PORT, directory=directory
            )

        extra.append(capture)
        print(f"Email out:       kept as .eml files in {directory}")
    print()
    return settings.model_copy(update=updates), extra


DEMO_CASINO_PORT = 8100
DEMO_CASINO_PORTS_TRIED = 20


def _listen_on_free_port(host: str, first_port: int, attempts: int) -> socket.socket:
    """A socket bound to `first_port`, or to the next port that is free."""
    for port in range(first_port, first_port + attempts):
        candidate = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        candidate.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            candidate.bind((host, port))
        except OSError:
            candidate.close()
            continue
        return candidate
    raise OSError(f"no free port from {first_port} to {first_port + attempts - 1} on {host}")


def _demo_casino(settings: Settings) -> tuple[Settings, list[BackgroundTask]]:
    """The demo casino back office, served in this process on 127.0.0.1:8100 (or the next free
    port) and reached over real HTTP like an operator's, unless PLAYERDESK_CASINO_API_URL
    points at a back office already."""
    if settings.casino_api_url:
        print(f"Back office:     {settings.casino_api_url}")
        return settings, []
    import uvicorn

    from playerdesk.crm.demo_backoffice import create_demo_backoffice

    token = settings.casino_api_token
    if token is None and settings.casino_api_secret is None:
        token = DEMO_CASINO_TOKEN
    listener = _listen_on_free_port("127.0.0.1", DEMO_CASINO_PORT, DEMO_CASINO_PORTS_TRIED)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    app = create_demo_backoffice(bearer_token=token, hmac_secret=settings.casino_api_secret)

    class EmbeddedServer(uvicorn.Server):
        # The outer server owns the signals: Ctrl-C stops it, and it stops this one.
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    async def serve(_runtime: Runtime) -> None:
        server = EmbeddedServer(uvicorn.Config(app, log_level="warning", lifespan="off"))
        task = asyncio.ensure_future(server.serve(sockets=[listener]))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            server.should_exit = True
            await task
            raise

    print(f"Back office:     {url} (the demo back office, docs/CASINO-INTEGRATION.md)")
    return settings.model_copy(update={"casino_api_url": url, "casino_api_token": token}), [serve]


async def _worker(settings: Settings) -> None:
    from playerdesk.jobs.runner import background_tasks

    runtime = build_runtime(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(task(runtime)) for task in background_tasks(settings)]
    freeze_long_lived_objects()
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runtime.close()


def cmd_worker(_args: argparse.Namespace) -> int:
    settings = _settings()
    print("playerdesk worker running; Ctrl-C to stop", file=sys.stderr)
    asyncio.run(_worker(settings))
    return 0


async def _create_agent(settings: Settings, args: argparse.Namespace, password: str | None) -> str:
    runtime = build_runtime(settings)
    try:
        async with runtime.uow() as uow:
            agent = await agent_service.create_agent(
                uow,
                actor=Actor.system(),
                email=args.email,
                name=args.name,
                role=AgentRole(args.role),
                password=password,
                languages=[code for code in args.languages.split(",") if code],
                supported_languages=runtime.policies.players.languages,
                max_concurrent_chats=args.max_chats,
            )
        return f"created agent {agent.id} <{agent.email}> with role {agent.role}"
    finally:
        await runtime.close()


def cmd_create_agent(args: argparse.Namespace) -> int:
    settings = _settings()
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    try:
        print(asyncio.run(_create_agent(settings, args, password)))
    except DomainError as exc:
        return _report(exc)
    return 0


async def _create_token(settings: Settings, *, email: str, label: str) -> str:
    runtime = build_runtime(settings)
    try:
        async with runtime.uow() as uow:
            agent = await agent_service.find_agent_by_email(uow, email=email)
            if agent is None:
                raise DomainError(f"no agent with email {email}", field="email")
            issued = await auth.create_api_token(
                uow, actor=Actor.system(), agent_id=agent.id, label=label
            )
        return issued.token
    finally:
        await runtime.close()


def cmd_create_token(args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        print(asyncio.run(_create_token(settings, email=args.email, label=args.name)))
    except DomainError as exc:
        return _report(exc)
    return 0


async def _setup_floor(settings: Settings) -> str:
    from playerdesk.services import routing_admin

    runtime = build_runtime(settings)
    try:
        async with runtime.uow() as uow:
            installed = await routing_admin.install_standard_floor(uow, actor=Actor.system())
    finally:
        await runtime.close()
    if not installed.changed:
        return "The standard floor is already in place; nothing changed."
    return (
        f"Teams created: {', '.join(installed.teams_created) or 'none'}; "
        f"routing rules: {installed.routing_rules_created}; "
        f"SLA policies: {installed.sla_policies_created}; "
        f"escalation rules: {installed.escalation_rules_created}."
    )


def cmd_setup_floor(_args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        print(asyncio.run(_setup_floor(settings)))
    except DomainError as exc:
        return _report(exc)
    return 0


DEMO_CASINO_TOKEN = "demo-casino-token"


def cmd_demo_casino(args: argparse.Namespace) -> int:
    """Serve the demo casino back office, so the connector can be tried without a casino."""
    import uvicorn

    from playerdesk.crm.demo_backoffice import create_demo_backoffice

    settings = _settings()
    token = settings.casino_api_token
    secret = settings.casino_api_secret
    if token is None and secret is None:
        token = DEMO_CASINO_TOKEN
        print(f"PLAYERDESK_CASINO_API_TOKEN is not set: using the demo token {token!r}")
    print(f"Demo casino back office: http://{args.host}:{args.port}/v1")
    sys.stdout.flush()
    app = create_demo_backoffice(bearer_token=token, hmac_secret=secret)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


# The support bot ---------------------------------------------------------------------------


def _load_bot(settings: Settings) -> Any:
    from playerdesk.bot.pipeline import Bot

    return Bot.load(
        data_dir=settings.data_dir,
        languages=settings.languages,
        default_language=settings.default_language,
        encoder_path=settings.bot_encoder_path,
    )


def _print_json(value: object, *, indent: int | None = 2) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=indent))


def cmd_bot_train(args: argparse.Namespace) -> int:
    from playerdesk.bot.encoder import configured_encoder
    from playerdesk.bot.nlu import model_path, save_model, train_shipped

    settings = _settings()
    encoder = configured_encoder(settings.bot_encoder_path)
    model = train_shipped(seed=args.seed, encoder=encoder)
    path = model_path(settings.data_dir)
    save_model(model, path)
    _print_json(
        {
            "model": str(path),
            "examples": sum(model.counts.values()),
            "per_language": model.counts,
            "intents": len(model.intents.intents),
            "seed": model.header.seed,
            "encoder": model.header.encoder,
            "seconds": round(model.seconds, 2),
        }
    )
    return 0


def cmd_bot_eval(args: argparse.Namespace) -> int:
    from playerdesk.bot.dataset import DataError, read_examples
    from playerdesk.bot.evaluation import evaluate
    from playerdesk.bot.language import SUPPORTED_CODES

    settings = _settings()
    examples = []
    try:
        for name in args.files:
            path = Path(name)
            language = path.stem if path.stem in SUPPORTED_CODES else None
            examples.extend(read_examples(path, language=language))
    except (OSError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bot = _load_bot(settings)
    fallback = args.profile_lang or settings.default_language
    _print_json(evaluate(bot, examples, fallback_language=fallback))
    return 0


async def _ask_all(
    settings: Settings, bot: Any, requests: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each question through the whole bot: the analysis, then the answer from the
    configured database's knowledge base and, for a player, the back office."""
    from playerdesk.services import bot as bot_service

    if settings.is_sqlite:
        await upgrade_database(settings.database_url)
    runtime = build_runtime(settings)
    runtime.bot = bot
    context = bot_service.BotContext(
        bot=bot, casino=runtime.casino, public_url=settings.public_url, rephraser=runtime.rephraser
    )
    answers = []
    try:
        for request in requests:
            language = request.get("lang") or settings.default_language
            player = request.get("player")
            tries = int(request.get("tries") or 0)
            text = request["text"]
            analysis = bot.analyse(
                text,
                profile_language=language,
                tries=tries,
                player_identified=player is not None,
            )
            work = bot_service.question(
                text=text, language=language, player_external_id=player, tries=tries
            )
            async with runtime.read_uow() as uow:
                plan = await bot_service.plan_turn(uow, work=work, context=context)
            details = analysis.as_json()
            for decided_by_the_plan in ("handoff", "action", "reply", "topic"):
                details.pop(decided_by_the_plan)
            answers.append(
                {
                    "id": request.get("id"),
                    "language": details.pop("language"),
                    "intent": details.pop("intent"),
                    "confidence": details.pop("confidence"),
                    "rg_risk": details.pop("rg_risk"),
                    "handoff": plan.handoff,
                    # issue 7: the back-office lookup used, or null
                    "action": plan.looked_up[0] if plan.looked_up else None,
                    "reply": plan.reply,
                    "answer_source": plan.action,
                    "quick_replies": [item.label for item in plan.quick_replies],
                    **details,
                    "handoff_reasons": [reason.value for reason in plan.reasons],
                    "topic": plan.topic,
                }
            )
    finally:
        await runtime.close()
    return answers


def cmd_bot_ask(args: argparse.Namespace) -> int:
    settings = _settings()
    bot = _load_bot(settings)
    defaults = {"lang": args.lang, "player": args.player, "tries": args.tries}
    if not args.jsonl:
        if args.message is None:
            print("error: give a message, or --jsonl to read JSON lines", file=sys.stderr)
            return 2
        [answer] = asyncio.run(_ask_all(settings, bot, [{**defaults, "text": args.message}]))
        answer.pop("id")
        _print_json(answer)
        return 0
    requests: list[dict[str, Any]] = []
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request.get("text"), str):
                raise TypeError("text")
        except (ValueError, TypeError, AttributeError):
            requests.append({"line": number})
            continue
        requests.append({**defaults, **request})
    asked = asyncio.run(_ask_all(settings, bot, [item for item in requests if "text" in item]))
    answers = iter(asked)
    for request in requests:
        if "text" in request:
            _print_json(next(answers), indent=None)
        else:
            _print_json({"line": request["line"], "error": 'expected {"id", "text"}'}, indent=None)
    return 0


def _add_bot_commands(commands: Any) -> None:
    bot = commands.add_parser("bot", help="the support bot: train, evaluate, ask")
    bot_commands = bot.add_subparsers(dest="bot_command", required=True)
    train = bot_commands.add_parser(
        "train", help="train the bot's models on the shipped data and save them"
    )
    train.add_argument("--seed", type=int, default=7)
    train.set_defaults(handler=cmd_bot_train)
    evaluate = bot_commands.add_parser(
        "eval",
        help="evaluate on labelled JSON lines (text, intent, rg_risk, optional lang; "
        "a file named xx.jsonl gives its lines language xx)",
    )
    evaluate.add_argument("files", nargs="+", metavar="FILE.jsonl")
    evaluate.add_argument("--profile-lang", help="the profile language assumed for short messages")
    evaluate.set_defaults(handler=cmd_bot_eval)
    ask_help = (
        "print the bot's decision and answer for a message as JSON: language, intent, risk, "
        "hand-off, the back-office lookup used and the reply (answers come from the configured "
        "database's knowledge base and, with --player, the back office)"
    )
    ask = bot_commands.add_parser("ask", help=ask_help, description=ask_help)
    ask.add_argument("message", nargs="?")
    ask.add_argument("--lang", help="the player's profile language, used for short messages")
    ask.add_argument("--player", metavar="EXTERNAL_ID", help="the player is identified")
    ask.add_argument("--tries", type=int, default=0, help="earlier bot answers that did not help")
    ask.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"id", "text", "player"?, "lang"?} lines from stdin, write one JSON line each',
    )
    ask.set_defaults(handler=cmd_bot_ask)


# Messengers -------------------------------------------------------------------------------

# How long a deep link may stay usable: it links whoever follows it, so not for long.
LINK_DAYS_DEFAULT = 7
LINK_DAYS_MAX = 90


def _link_days(value: str) -> int:
    days = int(value)
    if not 1 <= days <= LINK_DAYS_MAX:
        raise argparse.ArgumentTypeError(f"1 to {LINK_DAYS_MAX} days")
    return days


def cmd_messenger_link_url(args: argparse.Namespace) -> int:
    from datetime import timedelta
    from urllib.parse import quote

    from playerdesk.clock import SystemClock
    from playerdesk.services.player_links import deep_link_token, link_secret

    settings = _settings()
    secret = link_secret(settings)
    if secret is None:
        print(
            "error: set PLAYERDESK_MESSENGER_LINK_SECRET (or PLAYERDESK_WIDGET_IDENTITY_SECRET) "
            "to sign deep links",
            file=sys.stderr,
        )
        return 2
    if args.channel == "telegram" and not settings.telegram_bot_username:
        print("error: set PLAYERDESK_TELEGRAM_BOT_USERNAME (the bot's @name)", file=sys.stderr)
        return 2
    if args.channel == "viber" and not settings.viber_chat_uri:
        print("error: set PLAYERDESK_VIBER_CHAT_URI (the bot's chat URI)", file=sys.stderr)
        return 2
    try:
        token = deep_link_token(
            external_id=args.player,
            secret=secret,
            expires_at=SystemClock().now() + timedelta(days=args.days),
        )
    except DomainError as exc:
        return _report(exc)
    if args.channel == "telegram":
        assert settings.telegram_bot_username is not None
        username = settings.telegram_bot_username.removeprefix("@")
        print(f"https://t.me/{username}?start={token}")
    else:
        assert settings.viber_chat_uri is not None
        print(f"viber://pa?chatURI={quote(settings.viber_chat_uri, safe='')}&context={token}")
    return 0


def _add_messenger_commands(commands: Any) -> None:
    messenger = commands.add_parser("messenger", help="Telegram, WhatsApp and Viber chats")
    messenger_commands = messenger.add_subparsers(dest="messenger_command", required=True)
    link_help = (
        "print a deep link that links the Telegram or Viber chat of whoever follows it to "
        "this casino player (signed with PLAYERDESK_MESSENGER_LINK_SECRET)"
    )
    link_url = messenger_commands.add_parser("link-url", help=link_help, description=link_help)
    link_url.add_argument("--player", required=True, metavar="EXTERNAL_ID")
    link_url.add_argument("--channel", required=True, choices=["telegram", "viber"])
    link_url.add_argument(
        "--days",
        type=_link_days,
        default=LINK_DAYS_DEFAULT,
        help=f"how long the link works (default {LINK_DAYS_DEFAULT}, at most {LINK_DAYS_MAX})",
    )
    link_url.set_defaults(handler=cmd_messenger_link_url)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="playerdesk", description="PlayerDesk player support")
    commands = parser.add_subparsers(dest="command", required=True)

    def add_server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=8000)

    serve = commands.add_parser("serve", help="run the web server")
    add_server_options(serve)
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(
        handler=cmd_migrate
    )
    commands.add_parser("seed-demo", help="load the demo data").set_defaults(handler=cmd_seed_demo)
    demo = commands.add_parser("demo", help="migrate, load demo data and serve")
    add_server_options(demo)
    demo.set_defaults(handler=cmd_demo)
    commands.add_parser("worker", help="run background jobs").set_defaults(handler=cmd_worker)
    commands.add_parser(
        "setup-floor",
        help="create the standard teams, routing rules, SLA policies and escalation rules",
    ).set_defaults(handler=cmd_setup_floor)

    demo_casino = commands.add_parser("demo-casino", help="serve the demo casino back office")
    demo_casino.add_argument("--host", default="127.0.0.1")
    demo_casino.add_argument("--port", type=int, default=8100)
    demo_casino.set_defaults(handler=cmd_demo_casino)

    create_agent = commands.add_parser("create-agent", help="create an agent account")
    create_agent.add_argument("--email", required=True)
    create_agent.add_argument("--name", required=True)
    create_agent.add_argument("--role", choices=[role.value for role in AgentRole], default="agent")
    create_agent.add_argument("--languages", default="en")
    create_agent.add_argument("--max-chats", type=int, default=3)
    create_agent.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create_agent.set_defaults(handler=cmd_create_agent)

    create_token = commands.add_parser("create-token", help="print a new API token for an agent")
    create_token.add_argument("--email", required=True)
    create_token.add_argument("--name", required=True, help="a label for the token")
    create_token.set_defaults(handler=cmd_create_token)
    _add_bot_commands(commands)
    _add_messenger_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pydantic import ValidationError

    from playerdesk.bot.encoder import EncoderError

    args = build_parser().parse_args(argv)
    handler = args.handler
    try:
        result: int = handler(args)
    except (ValidationError, EncoderError) as exc:
        # A setting that cannot be used: say which and why, not a traceback.
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return result
