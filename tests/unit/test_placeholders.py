"""Placeholders in canned replies: parsing, checking at save time, filling, and the refusal
of any text that still carries one; and their values written in the ticket's language."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playerdesk.crm.base import (
    Balance,
    Bonus,
    BonusStatus,
    Document,
    DocumentKind,
    DocumentStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
    Verification,
    VerificationStatus,
)
from playerdesk.domain.placeholders import (
    PLACEHOLDERS,
    PlaceholderError,
    Source,
    check_template,
    ensure_filled,
    fill,
    first_name,
    placeholders_in,
    sources_of,
    unfilled,
)
from playerdesk.services.placeholder_values import (
    AccountFacts,
    LocalFacts,
    placeholder_descriptions,
    placeholder_values,
)

NAMES = sorted(PLACEHOLDERS)
AT = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)

# --- parsing and checking ------------------------------------------------------------------


def test_placeholders_are_found_once_each_in_order_with_or_without_spaces() -> None:
    template = (
        "Hi {{player.first_name}}, your withdrawal of {{ withdrawal.last.amount }} is "
        "{{withdrawal.last.status}}. Thanks, {{player.first_name}}!"
    )
    assert placeholders_in(template) == [
        "player.first_name",
        "withdrawal.last.amount",
        "withdrawal.last.status",
    ]
    assert check_template(template) == placeholders_in(template)
    assert sources_of(placeholders_in(template)) == {Source.PLAYER, Source.PAYMENTS}


def test_a_text_without_placeholders_is_fine() -> None:
    assert check_template("Thank you for your patience.") == []


@pytest.mark.parametrize(
    ("template", "message_part"),
    [
        ("Hello {{player.nickname}}", "unknown placeholder {{player.nickname}}"),
        ("Hello {{Player.Name}}", "{{Player.Name}} is not a placeholder"),
        ("Hello {{}}", "{{}} is not a placeholder"),
        ("Hello {{player name}}", "{{player name}} is not a placeholder"),
        ("Hello {{player.first_name", "not closed"),
        ("Hello player.first_name}}", "not closed"),
        ("Hello {{ {{player.name}} }}", "not closed"),
    ],
)
def test_unknown_or_broken_placeholders_are_refused_naming_the_body(
    template: str, message_part: str
) -> None:
    with pytest.raises(PlaceholderError) as caught:
        check_template(template)
    assert caught.value.field == "body"
    assert message_part in caught.value.detail


def test_the_error_keeps_its_message_and_name_apart_for_translation() -> None:
    with pytest.raises(PlaceholderError) as caught:
        check_template("{{bonus.active.left}}")
    assert caught.value.message == "unknown placeholder {name}"
    assert caught.value.name == "{{bonus.active.left}}"


def test_every_placeholder_has_a_source_and_a_description_in_each_language() -> None:
    for language in ("en", "pl", "sv"):
        assert set(placeholder_descriptions(language)) == set(PLACEHOLDERS)
    for name, item in PLACEHOLDERS.items():
        assert item.name == name
        assert check_template("{{" + name + "}}") == [name]


# --- filling -------------------------------------------------------------------------------


def test_filling_puts_values_in_and_keeps_what_has_no_value_visible() -> None:
    filled = fill(
        "Hi {{player.first_name}}! Status: {{withdrawal.last.status}}; "
        "balance {{balance.real}}; again {{ withdrawal.last.status }}.",
        {"player.first_name": "Anna", "withdrawal.last.status": None, "balance.real": "  "},
    )
    assert filled.text == (
        "Hi Anna! Status: {{withdrawal.last.status}}; balance {{balance.real}}; "
        "again {{withdrawal.last.status}}."
    )
    assert filled.unfilled == ["withdrawal.last.status", "balance.real"]


def test_a_value_that_looks_like_a_placeholder_is_not_filled_again() -> None:
    filled = fill("{{player.name}} / {{player.email}}", {"player.name": "{{player.email}}"})
    # One pass only: the player's own text is never read as a template.
    assert filled.text == "{{player.email}} / {{player.email}}"
    assert filled.unfilled == ["player.email"]


@given(
    values=st.dictionaries(
        st.sampled_from(NAMES),
        st.text(alphabet=st.characters(blacklist_characters="{}"), min_size=1).filter(
            lambda text: text.strip() != ""
        ),
    ),
    names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=6),
    glue=st.lists(st.text(alphabet=st.characters(blacklist_characters="{}")), min_size=7),
)
def test_a_filled_template_has_a_placeholder_left_exactly_when_a_value_was_missing(
    values: dict[str, str], names: list[str], glue: list[str]
) -> None:
    template = glue[0] + "".join(
        "{{" + name + "}}" + text for name, text in zip(names, glue[1:], strict=False)
    )
    check_template(template)
    filled = fill(template, values)
    missing = [name for name in dict.fromkeys(names) if name not in values]
    assert filled.unfilled == missing
    assert bool(unfilled(filled.text)) == bool(missing)
    if missing:
        with pytest.raises(PlaceholderError):
            ensure_filled(filled.text)
    else:
        ensure_filled(filled.text)
        for name in names:
            assert values[name] in filled.text


@pytest.mark.parametrize(
    "text",
    [
        "Your balance is {{balance.real}}.",
        "Your balance is {{ balance.real }}.",
        "Hello {{player.nickname}}",  # unknown names are not sent either
        "Hello {{",
        "Hello {{}}",
        "Hello {{player\n.name}}",
    ],
)
def test_a_text_with_anything_like_a_placeholder_is_never_sent(text: str) -> None:
    assert unfilled(text)
    with pytest.raises(PlaceholderError) as caught:
        ensure_filled(text)
    assert caught.value.field == "body"


@pytest.mark.parametrize("text", ["Hi Anna!", "A brace { or } alone is fine", "{a} {b}"])
def test_a_finished_text_passes(text: str) -> None:
    assert unfilled(text) == []
    ensure_filled(text)


@pytest.mark.parametrize(
    ("name", "first"),
    [("Anna Kowalska", "Anna"), ("  Łukasz  Kamiński ", "Łukasz"), ("", None), (None, None)],
)
def test_first_name(name: str | None, first: str | None) -> None:
    assert first_name(name) == first


# --- values in the ticket's language ----------------------------------------------------------


def _payment(kind: PaymentKind, status: PaymentStatus, amount: str, method: str) -> Payment:
    return Payment(
        id=f"{kind.value}-{amount}",
        kind=kind,
        method=method,
        amount=Decimal(amount),
        currency="PLN",
        status=status,
        reason=None,
        created_at=AT,
        updated_at=AT,
    )


LOCAL = LocalFacts(
    ticket_number=1042,
    player_name="Anna Kowalska",
    player_email="anna.kowalska@example.net",
    player_external_id="150938",
    agent_name="Katarzyna Nowak",
)
ACCOUNT = AccountFacts(
    balance=Balance(
        currency="PLN",
        real_money=Decimal("4800.00"),
        bonus_money=Decimal("10.00"),
        withdrawable=Decimal("0.00"),
    ),
    payments=[
        _payment(PaymentKind.WITHDRAWAL, PaymentStatus.PENDING, "4800.00", "Bank transfer"),
        _payment(PaymentKind.DEPOSIT, PaymentStatus.COMPLETED, "1000.00", "Przelewy24"),
        _payment(PaymentKind.WITHDRAWAL, PaymentStatus.COMPLETED, "300.00", "BLIK"),
    ],
    bonuses=[
        Bonus(
            id="b-1",
            name="Welcome bonus",
            status=BonusStatus.ACTIVE,
            currency="PLN",
            amount=Decimal("100.00"),
            wagering_required=Decimal("3500.00"),
            wagering_done=Decimal("1265.50"),
            expires_at=AT,
            max_bet=None,
            max_cashout=None,
        )
    ],
    verification=Verification(
        status=VerificationStatus.REJECTED,
        documents=[
            Document(kind=DocumentKind.ID_FRONT, status=DocumentStatus.APPROVED, reason=None),
            Document(kind=DocumentKind.ID_BACK, status=DocumentStatus.REJECTED, reason="cut"),
            Document(
                kind=DocumentKind.PROOF_OF_ADDRESS, status=DocumentStatus.MISSING, reason=None
            ),
        ],
    ),
)


def test_values_in_english() -> None:
    values = placeholder_values(local=LOCAL, account=ACCOUNT, language="en")
    assert set(values) == set(PLACEHOLDERS)
    assert values["player.first_name"] == "Anna"
    assert values["agent.first_name"] == "Katarzyna"
    assert values["ticket.number"] == "1042"
    assert values["withdrawal.last.status"] == "pending review"
    assert values["withdrawal.last.amount"] == "PLN4,800.00"
    assert values["withdrawal.last.method"] == "Bank transfer"
    assert values["withdrawal.last.date"] == "3 November 2026"
    assert values["deposit.last.status"] == "credited"
    assert values["deposit.last.method"] == "Przelewy24"
    assert values["bonus.active.wagering_left"] == "PLN2,234.50"
    assert values["bonus.active.wagering_progress"] == "36%"
    assert values["kyc.status"] == "documents rejected"
    assert values["kyc.missing_documents"] == "photo ID (back) and proof of address"


def test_values_in_polish_and_swedish_are_translated_and_formatted_for_the_locale() -> None:
    polish = placeholder_values(local=LOCAL, account=ACCOUNT, language="pl")
    assert polish["withdrawal.last.amount"] == "4\xa0800,00\xa0zł"
    assert polish["withdrawal.last.date"] == "3 listopada 2026"
    swedish = placeholder_values(local=LOCAL, account=ACCOUNT, language="sv")
    assert swedish["withdrawal.last.date"] == "3 november 2026"
    assert swedish["kyc.missing_documents"] is not None
    assert " och " in swedish["kyc.missing_documents"]
    assert " i " in (polish["kyc.missing_documents"] or "")


def test_without_account_data_those_placeholders_have_no_value() -> None:
    values = placeholder_values(local=LOCAL, account=AccountFacts(), language="en")
    account_names = [name for name, item in PLACEHOLDERS.items() if item.source.from_back_office]
    assert account_names
    assert all(values[name] is None for name in account_names)
    assert values["player.name"] == "Anna Kowalska"


def test_nothing_missing_and_no_active_bonus_or_withdrawal_means_no_value() -> None:
    account = AccountFacts(
        payments=[_payment(PaymentKind.DEPOSIT, PaymentStatus.FAILED, "50.00", "BLIK")],
        bonuses=[],
        verification=Verification(status=VerificationStatus.VERIFIED, documents=[]),
    )
    values = placeholder_values(local=LOCAL, account=account, language="en")
    assert values["withdrawal.last.status"] is None
    assert values["deposit.last.status"] == "failed"
    assert values["bonus.active.wagering_left"] is None
    assert values["kyc.status"] == "verified"
    assert values["kyc.missing_documents"] is None


def test_an_unknown_language_is_formatted_in_english() -> None:
    values = placeholder_values(local=LOCAL, account=ACCOUNT, language="xx")
    assert values["withdrawal.last.date"] == "3 November 2026"
