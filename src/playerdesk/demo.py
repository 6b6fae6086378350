"""Demo data for `playerdesk seed-demo` (filled in below)."""

from __future__ import annotations

from dataclasses import dataclass

from playerdesk.runtime import Runtime


@dataclass(frozen=True, kw_only=True)
class DemoLogin:
    role: str
    email: str
    password: str


async def seed_demo(runtime: Runtime) -> list[DemoLogin]:
    return []
