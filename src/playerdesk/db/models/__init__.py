"""Every table PlayerDesk stores. Importing this package registers them all on Base.metadata."""

from playerdesk.db.models.agents import Agent, AgentTeam, ApiToken, LoginAttempt, Team, WebSession
from playerdesk.db.models.audit import AuditEntry
from playerdesk.db.models.bot import BotChannel, BotTurn
from playerdesk.db.models.calls import Call, Callback, CallEventSeen
from playerdesk.db.models.canned import CannedReply
from playerdesk.db.models.counters import Counter
from playerdesk.db.models.kb import (
    KbArticle,
    KbArticleVersion,
    KbCategory,
    KbCategoryText,
    KbFeedback,
    KbSearchDocument,
)
from playerdesk.db.models.leases import WorkerLease
from playerdesk.db.models.mail import (
    EmailRecord,
    FormSubmission,
    Mailbox,
    OutboxItem,
    OutboxProviderId,
)
from playerdesk.db.models.players import ChannelIdentity, Player
from playerdesk.db.models.routing import (
    AgentShift,
    BusinessCalendarRow,
    Escalation,
    EscalationRuleRow,
    RoutingRuleRow,
    ShiftRow,
    SlaClockRow,
    SlaEventRow,
    SlaPolicyRow,
)
from playerdesk.db.models.tickets import Attachment, Message, Tag, Ticket, TicketTag

__all__ = [
    "Agent",
    "AgentShift",
    "AgentTeam",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "BotChannel",
    "BotTurn",
    "BusinessCalendarRow",
    "Call",
    "CallEventSeen",
    "Callback",
    "CannedReply",
    "ChannelIdentity",
    "Counter",
    "EmailRecord",
    "Escalation",
    "EscalationRuleRow",
    "FormSubmission",
    "KbArticle",
    "KbArticleVersion",
    "KbCategory",
    "KbCategoryText",
    "KbFeedback",
    "KbSearchDocument",
    "LoginAttempt",
    "Mailbox",
    "Message",
    "OutboxItem",
    "OutboxProviderId",
    "Player",
    "RoutingRuleRow",
    "ShiftRow",
    "SlaClockRow",
    "SlaEventRow",
    "SlaPolicyRow",
    "Tag",
    "Team",
    "Ticket",
    "TicketTag",
    "WebSession",
    "WorkerLease",
]
