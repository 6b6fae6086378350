from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playerdesk.domain.files import safe_filename, sniff_content_type
from playerdesk.domain.redaction import redact_card_numbers


@pytest.mark.parametrize(
    ("text", "expected", "count"),
    [
        ("card 4111111111111111 ok", "card [card ••••1111] ok", 1),
        ("4111 1111 1111 1111", "[card ••••1111]", 1),
        ("5555-5555-5555-4444 and 378282246310005", "[card ••••4444] and [card ••••0005]", 2),
        ("order 4111111111111112", "order 4111111111111112", 0),  # fails Luhn
        ("call +48 600 700 800", "call +48 600 700 800", 0),  # too short
        ("iban PL61109010140000071219812874", "iban PL61109010140000071219812874", 0),
    ],
)
def test_card_numbers_are_masked(text: str, expected: str, count: int) -> None:
    assert redact_card_numbers(text) == (expected, count)


def _luhn_complete(prefix: str) -> str:
    for check in "0123456789":
        digits = prefix + check
        total = 0
        for index, char in enumerate(reversed(digits)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return digits
    raise AssertionError


@given(
    st.text(alphabet="0123456789", min_size=15, max_size=15),
    st.sampled_from(["", " ", "-"]),
    st.text(alphabet="abc xyz.,!", max_size=20),
)
def test_no_valid_card_number_survives(prefix: str, separator: str, around: str) -> None:
    number = _luhn_complete(prefix)
    grouped = separator.join(number[i : i + 4] for i in range(0, 16, 4))
    redacted, count = redact_card_numbers(f"{around} {grouped} {around}")
    assert count == 1
    assert number not in redacted.replace(" ", "").replace("-", "")
    assert redacted.count(number[-4:]) >= 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0....", "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", "application/pdf"),
        ("Zażółć gęślą jaźń".encode(), "text/plain"),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),
        (b"\xff\xfe\x00\x00", None),
    ],
)
def test_types_come_from_the_bytes(data: bytes, expected: str | None) -> None:
    assert sniff_content_type(data) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\anna\\paszport.pdf", "paszport.pdf"),
        ("id\x00card.png", "idcard.png"),
        ("...", "attachment"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected
