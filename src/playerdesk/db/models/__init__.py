"""Every table PlayerDesk stores. Importing this package registers them all on Base.metadata."""

from playerdesk.db.models.agents import Agent, AgentTeam, ApiToken, LoginAttempt, Team, WebSession
from playerdesk.db.models.audit import AuditEntry
from playerdesk.db.models.counters import Counter
from playerdesk.db.models.players import ChannelIdentity, Player
from playerdesk.db.models.tickets import Attachment, Message, Tag, Ticket, TicketTag

__all__ = [
    "Agent",
    "AgentTeam",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "ChannelIdentity",
    "Counter",
    "LoginAttempt",
    "Message",
    "Player",
    "Tag",
    "Team",
    "Ticket",
    "TicketTag",
    "WebSession",
]
