"""Exit 0 when PostgreSQL and Redis answer at the given URLs, 1 (with the reason) otherwise.

Used by `make test-pg` to decide whether the PostgreSQL + Redis run can happen here.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg
from redis.asyncio import Redis
from sqlalchemy.engine import make_url


async def check(database_url: str, redis_url: str) -> str | None:
    url = make_url(database_url)
    try:
        connection = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
            timeout=5,
        )
        await connection.close()
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL: {exc.__class__.__name__}: {exc}"
    redis = Redis.from_url(redis_url, socket_connect_timeout=5)
    try:
        await redis.ping()
    except Exception as exc:  # redis raises several unrelated types for a dead server
        return f"Redis: {exc.__class__.__name__}: {exc}"
    finally:
        await redis.aclose()
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    problem = asyncio.run(check(args.database_url, args.redis_url))
    if problem:
        print(f"not reachable: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
