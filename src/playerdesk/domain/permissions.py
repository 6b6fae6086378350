"""What each agent role may do. Services check these; the web layer never decides."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from playerdesk.domain.enums import AgentRole, AuthMethod
from playerdesk.domain.errors import PermissionDenied


class Permission(StrEnum):
    TICKETS_READ = "tickets.read"
    TICKETS_WRITE = "tickets.write"
    PLAYERS_READ = "players.read"
    PLAYERS_WRITE = "players.write"
    # Link a messenger chat to a casino account (the agent has verified who writes), and
    # move a chat already linked to one casino account to another.
    PLAYERS_LINK = "players.link"
    PLAYERS_RELINK = "players.relink"
    ATTACHMENTS_WRITE = "attachments.write"
    TEAMS_READ = "teams.read"
    TEAMS_MANAGE = "teams.manage"
    AGENTS_READ = "agents.read"
    AGENTS_MANAGE = "agents.manage"
    AUDIT_READ = "audit.read"
    TOKENS_MANAGE_ANY = "tokens.manage_any"
    FLOOR_READ = "floor.read"  # queues, waits, at-risk tickets, who is online
    SHIFTS_MANAGE = "shifts.manage"
    ROUTING_MANAGE = "routing.manage"  # routing rules, SLA policies, calendars, escalation
    CHANNELS_MANAGE = "channels.manage"  # mailboxes, the outbox and its dead letters
    ACCOUNTS_READ = "accounts.read"  # the player's casino account, from the back office
    KB_READ = "kb.read"  # knowledge-base articles, internal ones included
    KB_MANAGE = "kb.manage"  # write, publish and retire articles and categories
    CANNED_REPLIES_MANAGE = "canned_replies.manage"  # the floor's canned replies and macros
    BOT_MANAGE = "bot.manage"  # the bot on or off per channel, its hand-offs and reasons
    CTI_EVENTS = "cti.events"  # report phone calls (the PBX's token)


_AGENT = frozenset(
    {
        Permission.TICKETS_READ,
        Permission.TICKETS_WRITE,
        Permission.PLAYERS_READ,
        Permission.PLAYERS_WRITE,
        Permission.PLAYERS_LINK,
        Permission.ATTACHMENTS_WRITE,
        Permission.TEAMS_READ,
        Permission.ACCOUNTS_READ,
        Permission.KB_READ,
    }
)
_SENIOR = _AGENT | {Permission.AGENTS_READ}
_SUPERVISOR = _SENIOR | {
    Permission.AGENTS_MANAGE,
    Permission.TEAMS_MANAGE,
    Permission.AUDIT_READ,
    Permission.FLOOR_READ,
    Permission.SHIFTS_MANAGE,
    Permission.KB_MANAGE,
    Permission.CANNED_REPLIES_MANAGE,
    Permission.BOT_MANAGE,
    Permission.PLAYERS_RELINK,
}
_ADMIN = _SUPERVISOR | {
    Permission.TOKENS_MANAGE_ANY,
    Permission.ROUTING_MANAGE,
    Permission.CHANNELS_MANAGE,
    Permission.CTI_EVENTS,
}

ROLE_PERMISSIONS: dict[AgentRole, frozenset[Permission]] = {
    AgentRole.AGENT: _AGENT,
    AgentRole.SENIOR: _SENIOR,
    AgentRole.SUPERVISOR: _SUPERVISOR,
    AgentRole.ADMIN: _ADMIN,
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling a use case, and how they proved it."""

    agent_id: int | None
    role: AgentRole
    method: AuthMethod
    token_id: int | None = None
    ip: str | None = None
    name: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(agent_id=None, role=AgentRole.ADMIN, method=AuthMethod.SYSTEM)

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(f"the {self.role.value} role may not do {permission.value}")

    def require_can_grant(self, role: AgentRole) -> None:
        """Nobody hands out a role above their own; only admins create or change admins."""
        if role.rank > self.role.rank or (
            role is AgentRole.ADMIN and self.role is not AgentRole.ADMIN
        ):
            raise PermissionDenied(
                f"the {self.role.value} role may not grant the {role.value} role", field="role"
            )
