from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    WEB_CHAT = "web_chat"
    EMAIL = "email"
    FORM = "form"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    VIBER = "viber"
    PHONE = "phone"
    API = "api"


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class AuthorKind(StrEnum):
    PLAYER = "player"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class MessageKind(StrEnum):
    REPLY = "reply"
    NOTE = "note"


class AgentRole(StrEnum):
    AGENT = "agent"
    SENIOR = "senior"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


_ROLE_RANK = {AgentRole.AGENT: 0, AgentRole.SENIOR: 1, AgentRole.SUPERVISOR: 2, AgentRole.ADMIN: 3}


class AuthMethod(StrEnum):
    SESSION = "session"
    TOKEN = "token"
    SYSTEM = "system"


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class VipMatch(StrEnum):
    """Which players a rule is for: anyone, VIPs (any tier) or players who are not VIPs."""

    ANY = "any"
    VIP = "vip"
    NOT_VIP = "not_vip"

    def admits(self, vip_tier: str | None) -> bool:
        is_vip = bool(vip_tier)
        if self is VipMatch.VIP:
            return is_vip
        if self is VipMatch.NOT_VIP:
            return not is_vip
        return True


class BotState(StrEnum):
    """The bot's part in a conversation (issue 7)."""

    ACTIVE = "active"  # the bot answers the player's messages
    HANDED_OFF = "handed_off"  # people answer: the bot handed over, or an agent took over


# Channels the bot can be first on: conversations, not mail.
BOT_CHANNELS: tuple[Channel, ...] = (
    Channel.WEB_CHAT,
    Channel.TELEGRAM,
    Channel.WHATSAPP,
    Channel.VIBER,
)


class BotOutcome(StrEnum):
    ANSWERED = "answered"
    HANDED_OFF = "handed_off"
    SKIPPED = "skipped"  # a person had taken the conversation before the bot's turn
