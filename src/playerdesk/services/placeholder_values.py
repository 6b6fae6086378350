"""The values of a canned reply's placeholders, written in the ticket's language: statuses
translated, amounts and dates formatted for the locale (Babel). What is not known (no such
payment, the back office did not answer) has no value, and the reply shows the placeholder
for the agent to fill in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_currency, format_percent

from playerdesk.crm.base import (
    Balance,
    Bonus,
    BonusStatus,
    DocumentKind,
    DocumentStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
    Verification,
    VerificationStatus,
)
from playerdesk.domain.placeholders import first_name
from playerdesk.i18n import translations

# Locales that write a language the way the demo's players read it: British English dates
# ("3 November 2026") and lists ("a, b and c").
_FORMAT_LOCALES = {"en": "en_GB"}
_FALLBACK_LOCALE = "en_GB"


@dataclass(frozen=True, kw_only=True)
class LocalFacts:
    """What PlayerDesk itself knows."""

    ticket_number: int
    player_name: str | None
    player_email: str | None
    player_external_id: str | None
    agent_name: str | None


@dataclass(frozen=True, kw_only=True)
class AccountFacts:
    """What the back office answered; None where it was not asked or did not answer."""

    balance: Balance | None = None
    payments: list[Payment] | None = None
    bonuses: list[Bonus] | None = None
    verification: Verification | None = None


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(_FORMAT_LOCALES.get(language, language))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(_FALLBACK_LOCALE)


def _money(amount: Decimal, currency: str, locale: Locale) -> str:
    return format_currency(amount, currency, locale=locale)


def _date(moment: datetime | None, locale: Locale) -> str | None:
    return None if moment is None else format_date(moment.date(), format="long", locale=locale)


def withdrawal_status_labels(language: str) -> dict[PaymentStatus, str]:
    pgettext = translations(language).pgettext
    return {
        # Translators: a withdrawal's status, shown to the player in a reply ("Status: ...").
        PaymentStatus.PENDING: pgettext("withdrawal status", "pending review"),
        PaymentStatus.PROCESSING: pgettext("withdrawal status", "being paid out"),
        PaymentStatus.COMPLETED: pgettext("withdrawal status", "paid out"),
        PaymentStatus.FAILED: pgettext("withdrawal status", "failed"),
        PaymentStatus.CANCELLED: pgettext("withdrawal status", "cancelled"),
    }


def deposit_status_labels(language: str) -> dict[PaymentStatus, str]:
    pgettext = translations(language).pgettext
    return {
        # Translators: a deposit's status, shown to the player in a reply ("Status: ...").
        PaymentStatus.PENDING: pgettext("deposit status", "pending"),
        PaymentStatus.PROCESSING: pgettext("deposit status", "being processed"),
        PaymentStatus.COMPLETED: pgettext("deposit status", "credited"),
        PaymentStatus.FAILED: pgettext("deposit status", "failed"),
        PaymentStatus.CANCELLED: pgettext("deposit status", "cancelled"),
    }


def verification_status_labels(language: str) -> dict[VerificationStatus, str]:
    pgettext = translations(language).pgettext
    return {
        # Translators: the state of a player's identity verification, shown in a reply.
        VerificationStatus.NOT_STARTED: pgettext("verification status", "not started"),
        VerificationStatus.PENDING: pgettext("verification status", "documents being checked"),
        VerificationStatus.VERIFIED: pgettext("verification status", "verified"),
        VerificationStatus.REJECTED: pgettext("verification status", "documents rejected"),
    }


def document_labels(language: str) -> dict[DocumentKind, str]:
    pgettext = translations(language).pgettext
    return {
        # Translators: a verification document the player still has to send, in a list.
        DocumentKind.ID_FRONT: pgettext("document", "photo ID (front)"),
        DocumentKind.ID_BACK: pgettext("document", "photo ID (back)"),
        DocumentKind.SELFIE: pgettext("document", "a selfie holding your ID"),
        DocumentKind.PROOF_OF_ADDRESS: pgettext("document", "proof of address"),
        DocumentKind.PAYMENT_METHOD: pgettext("document", "proof of payment method"),
        DocumentKind.SOURCE_OF_FUNDS: pgettext("document", "proof of source of funds"),
    }


def placeholder_descriptions(language: str) -> dict[str, str]:
    """What each placeholder stands for, for the people who write canned replies."""
    _ = translations(language).gettext
    return {
        "ticket.number": _("The conversation's number"),
        "player.first_name": _("The player's first name"),
        "player.name": _("The player's full name"),
        "player.email": _("The player's email address"),
        "player.id": _("The player's casino account number"),
        "agent.first_name": _("Your first name"),
        "agent.name": _("Your full name"),
        "balance.real": _("Real-money balance"),
        "balance.bonus": _("Bonus-money balance"),
        "balance.withdrawable": _("What the player can withdraw now"),
        "balance.currency": _("The account's currency"),
        "withdrawal.last.status": _("Status of the latest withdrawal"),
        "withdrawal.last.amount": _("Amount of the latest withdrawal"),
        "withdrawal.last.method": _("Payment method of the latest withdrawal"),
        "withdrawal.last.date": _("Date of the latest withdrawal request"),
        "deposit.last.status": _("Status of the latest deposit"),
        "deposit.last.amount": _("Amount of the latest deposit"),
        "deposit.last.method": _("Payment method of the latest deposit"),
        "deposit.last.date": _("Date of the latest deposit"),
        "bonus.active.name": _("Name of the active bonus"),
        "bonus.active.wagering_left": _("Wagering still to do on the active bonus"),
        "bonus.active.wagering_progress": _("Share of the wagering done on the active bonus"),
        "bonus.active.expires": _("When the active bonus expires"),
        "kyc.status": _("Verification status of the account"),
        "kyc.missing_documents": _("Verification documents still missing or rejected"),
    }


def _last(payments: list[Payment] | None, kind: PaymentKind) -> Payment | None:
    # The contract lists payments newest first.
    for payment in payments or []:
        if payment.kind is kind:
            return payment
    return None


def _payment_values(
    prefix: str,
    payment: Payment | None,
    *,
    statuses: dict[PaymentStatus, str],
    locale: Locale,
) -> dict[str, str | None]:
    if payment is None:
        return {f"{prefix}.{name}": None for name in ("status", "amount", "method", "date")}
    return {
        f"{prefix}.status": statuses[payment.status],
        f"{prefix}.amount": _money(payment.amount, payment.currency, locale),
        f"{prefix}.method": payment.method,
        f"{prefix}.date": _date(payment.created_at, locale),
    }


def _bonus_values(bonuses: list[Bonus] | None, locale: Locale) -> dict[str, str | None]:
    active = next((bonus for bonus in bonuses or [] if bonus.status is BonusStatus.ACTIVE), None)
    if active is None:
        return {
            "bonus.active.name": None,
            "bonus.active.wagering_left": None,
            "bonus.active.wagering_progress": None,
            "bonus.active.expires": None,
        }
    left = max(active.wagering_required - active.wagering_done, Decimal(0))
    progress = (
        min(active.wagering_done / active.wagering_required, Decimal(1))
        if active.wagering_required > 0
        else Decimal(1)
    )
    return {
        "bonus.active.name": active.name,
        "bonus.active.wagering_left": _money(left, active.currency, locale),
        "bonus.active.wagering_progress": format_percent(progress, locale=locale),
        "bonus.active.expires": _date(active.expires_at, locale),
    }


def _verification_values(
    verification: Verification | None, *, language: str, locale: Locale
) -> dict[str, str | None]:
    if verification is None:
        return {"kyc.status": None, "kyc.missing_documents": None}
    names = document_labels(language)
    wanted = [
        names[document.kind]
        for document in verification.documents
        if document.status in (DocumentStatus.MISSING, DocumentStatus.REJECTED)
    ]
    return {
        "kyc.status": verification_status_labels(language)[verification.status],
        # Nothing missing is no value: a "please send ..." reply would be wrong to send.
        "kyc.missing_documents": format_list(wanted, locale=locale) if wanted else None,
    }


def placeholder_values(
    *, local: LocalFacts, account: AccountFacts, language: str
) -> dict[str, str | None]:
    """Every placeholder's value for one ticket; None where there is none."""
    locale = _locale(language)
    balance = account.balance
    values: dict[str, str | None] = {
        "ticket.number": str(local.ticket_number),
        "player.first_name": first_name(local.player_name),
        "player.name": local.player_name,
        "player.email": local.player_email,
        "player.id": local.player_external_id,
        "agent.first_name": first_name(local.agent_name),
        "agent.name": local.agent_name,
        "balance.real": _money(balance.real_money, balance.currency, locale) if balance else None,
        "balance.bonus": _money(balance.bonus_money, balance.currency, locale) if balance else None,
        "balance.withdrawable": (
            _money(balance.withdrawable, balance.currency, locale) if balance else None
        ),
        "balance.currency": balance.currency if balance else None,
    }
    values |= _payment_values(
        "withdrawal.last",
        _last(account.payments, PaymentKind.WITHDRAWAL),
        statuses=withdrawal_status_labels(language),
        locale=locale,
    )
    values |= _payment_values(
        "deposit.last",
        _last(account.payments, PaymentKind.DEPOSIT),
        statuses=deposit_status_labels(language),
        locale=locale,
    )
    values |= _bonus_values(account.bonuses, locale)
    values |= _verification_values(account.verification, language=language, locale=locale)
    return values
