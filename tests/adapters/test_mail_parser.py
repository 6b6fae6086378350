"""The inbound mail parser: a corpus of real-world-shaped mail, then its rules one by one."""

from __future__ import annotations

import email
import json
import re
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any

import pytest

from playerdesk.adapters.mail_parser import parse_mail, strip_quoted
from playerdesk.domain.mail import MailKind, ParsedMail, UnreadableMail

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (FIXTURES / "expected.json").read_text(encoding="utf-8")
)
CORPUS = sorted(EXPECTED)

# Keys of expected.json compared as they are.
_PLAIN_FIELDS = (
    "kind",
    "from_address",
    "from_name",
    "to_addresses",
    "cc_addresses",
    "reply_to",
    "subject",
    "message_id",
    "in_reply_to",
    "references",
    "text",
    "shown_text",
    "failed_recipients",
    "failure_reason",
    "language",
)
_REMOTE_IMAGE = re.compile(r"<img[^>]*\ssrc=\"(?!cid:)", re.IGNORECASE)


def _mail(
    body: str | bytes = "Hello",
    *,
    headers: str = "",
    sender: str = "Player <player@example.com>",
    content_type: str | None = "text/plain; charset=utf-8",
) -> bytes:
    """A small mail for the focused tests; `headers` are extra lines."""
    lines = [f"From: {sender}", "To: support@luckystar.example.com", "Subject: Test"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines.extend(line for line in headers.strip("\n").split("\n") if line)
    head = "\n".join(lines).encode("ascii") + b"\n\n"
    return head + (body.encode("utf-8") if isinstance(body, str) else body)


def _assert_matches(mail: ParsedMail, expected: dict[str, Any]) -> None:
    for key in _PLAIN_FIELDS:
        if key in expected:
            assert getattr(mail, key) == expected[key], key
    if "date" in expected:
        wanted = expected["date"]
        assert mail.date == (datetime.fromisoformat(wanted) if wanted else None)
    if "shown_text_startswith" in expected:
        assert mail.shown_text.startswith(expected["shown_text_startswith"])
    for piece in expected.get("shown_text_contains", []):
        assert piece in mail.shown_text
    for piece in expected.get("shown_text_excludes", []):
        assert piece not in mail.shown_text
    for piece in expected.get("text_contains", []):
        assert piece in mail.text
    if "attachments" in expected:
        found = [
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": len(attachment.data),
                "inline": attachment.inline,
                "content_id": attachment.content_id,
            }
            for attachment in mail.attachments
        ]
        assert found == expected["attachments"]
    for index, prefix in expected.get("attachment_data_startswith", {}).items():
        assert mail.attachments[int(index)].data.startswith(prefix.encode())
    if "safe_html" in expected:
        assert (mail.safe_html is not None) == expected["safe_html"]
    for piece in expected.get("safe_html_contains", []):
        assert mail.safe_html is not None and piece in mail.safe_html
    for piece in expected.get("safe_html_excludes", []):
        assert mail.safe_html is not None and piece not in mail.safe_html
    if expected.get("no_defects"):
        assert mail.defects == []
    for piece in expected.get("defects_contain", []):
        assert any(piece in defect for defect in mail.defects), mail.defects


def _assert_invariants(mail: ParsedMail) -> None:
    if mail.text.strip():
        assert mail.shown_text.strip()
    if mail.date is not None:
        assert mail.date.tzinfo is UTC
    assert mail.from_address == (mail.from_address or "").lower()
    if mail.safe_html is not None:
        lowered = mail.safe_html.lower()
        assert "<script" not in lowered
        assert "onerror" not in lowered
        assert not _REMOTE_IMAGE.search(mail.safe_html)


# --------------------------------------------------------------------------- the corpus


def test_the_corpus_is_complete() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.eml")) == CORPUS
    assert len(CORPUS) >= 28


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_mail(name: str) -> None:
    mail = parse_mail((FIXTURES / name).read_bytes())
    _assert_matches(mail, EXPECTED[name])
    _assert_invariants(mail)


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_mail_with_the_other_line_endings(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    swapped = raw.replace(b"\r\n", b"\n") if b"\r\n" in raw else raw.replace(b"\n", b"\r\n")
    original, converted = parse_mail(raw), parse_mail(swapped)
    for key in (*_PLAIN_FIELDS, "date"):
        assert getattr(converted, key) == getattr(original, key), key
    assert [a.filename for a in converted.attachments] == [a.filename for a in original.attachments]


# The HTML alternatives of these say what their text/plain says, so reading the HTML alone
# (as for an HTML-only mail) must show the same.
_HTML_MATCHES_PLAIN = [
    "autoreply_outlook_en.eml",
    "gmail_android_reply_sv.eml",
    "gmail_web_reply_en.eml",
    "outlook_android_reply_en.eml",
    "outlook_com_reply_sv_base64.eml",
    "outlook_desktop_reply_en.eml",
    "outlook_exchange_reply_pl_iso8859_2.eml",
]


@pytest.mark.parametrize("name", _HTML_MATCHES_PLAIN)
def test_html_alternative_alone_shows_the_same_text(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    message = email.message_from_bytes(raw, policy=policy.default)
    [html_part] = [p for p in message.walk() if p.get_content_type() == "text/html"]
    markup = html_part.get_payload(decode=True)
    assert isinstance(markup, bytes)
    charset = html_part.get_content_charset() or "us-ascii"
    html_only = _mail(markup, content_type=f"text/html; charset={charset}")
    assert parse_mail(html_only).shown_text == parse_mail(raw).shown_text


# --------------------------------------------------------------------------- unreadable


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n",
        b"\x00\xff\xfe\x80garbage without any header structure\x00",
        b"Subject: no sender at all\n\nHello",
        b"From: just a name\nSubject: x\n\nHello",
        b"From: <>\nSubject: x\n\nHello",
        b"From: undisclosed-recipients:;\n\nHello",
    ],
)
def test_unreadable_mail(raw: bytes) -> None:
    with pytest.raises(UnreadableMail):
        parse_mail(raw)


def test_sender_header_stands_in_for_a_missing_from() -> None:
    mail = parse_mail(b"Sender: Robot <Robot@Example.com>\nSubject: x\n\nHello")
    assert (mail.from_address, mail.from_name) == ("robot@example.com", "Robot")


def test_negative_attachment_limit_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="max_attachments"):
        parse_mail(_mail(), max_attachments=-1)


# --------------------------------------------------------------------------- attachments


@pytest.mark.parametrize(("limit", "kept"), [(0, 0), (1, 1), (2, 2), (3, 3), (10, 3)])
def test_max_attachments_keeps_the_first(limit: int, kept: int) -> None:
    mail = parse_mail((FIXTURES / "three_attachments.eml").read_bytes(), max_attachments=limit)
    names = ["passport.pdf", "image.png", "attachment.bin"]
    assert [a.filename for a in mail.attachments] == names[:kept]
    dropped = [d for d in mail.defects if "dropped" in d]
    if kept < 3:
        assert dropped == [f"{3 - kept} attachment(s) dropped over the limit of {limit}"]
    else:
        assert dropped == []


def _multipart(*parts: str) -> bytes:
    boundary = "b0undary"
    body = "".join(f"--{boundary}\n{part}\n" for part in parts) + f"--{boundary}--\n"
    return _mail(body, content_type=f'multipart/mixed; boundary="{boundary}"')


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="C:\\\\fakepath\\\\scan.jpg"', "scan.jpg"),
        ('attachment; filename="   "', "attachment.pdf"),
        ('attachment; filename=".."', "attachment.pdf"),
        ("attachment; filename*=iso-8859-2''kwit%B3o.pdf", "kwitło.pdf"),
        ("attachment; filename*=x-bogus''kvitto.pdf", "kvitto.pdf"),
        ("attachment; filename*=idna''x.pdf", "x.pdf"),
        ('attachment; filename="=?windows-1250?Q?zg=B3oszenie.pdf?="', "zgłoszenie.pdf"),
    ],
)
def test_attachment_filenames(disposition: str, expected: str) -> None:
    raw = _multipart(
        "Content-Type: text/plain\n\nSee attached.",
        f"Content-Type: application/pdf\nContent-Disposition: {disposition}\n"
        "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK",
    )
    mail = parse_mail(raw)
    assert [a.filename for a in mail.attachments] == [expected]
    assert mail.attachments[0].data == b"%PDF-1.4\n"


def test_attached_mail_without_subject_is_called_forwarded_eml() -> None:
    raw = _multipart(
        "Content-Type: text/plain\n\nForwarding.",
        "Content-Type: message/rfc822\n\nFrom: a@example.com\nTo: b@example.com\n\nInner body",
    )
    mail = parse_mail(raw)
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("forwarded.eml", "message/rfc822")
    ]
    assert b"Inner body" in mail.attachments[0].data
    assert mail.text == "Forwarding."


def test_digest_parts_without_content_type_are_attached_mails() -> None:
    raw = _mail(
        "--d\n\nFrom: a@example.com\nSubject: First\n\none\n"
        "--d\n\nFrom: b@example.com\nSubject: Second\n\ntwo\n--d--\n",
        content_type='multipart/digest; boundary="d"',
    )
    mail = parse_mail(raw)
    assert [a.filename for a in mail.attachments] == ["First.eml", "Second.eml"]


def test_text_parts_with_a_filename_are_attachments_not_body() -> None:
    raw = _multipart(
        "Content-Type: text/plain\n\nLog attached.",
        'Content-Type: text/plain; name="log.txt"\n\nline 1',
        "Content-Type: text/html\nContent-Disposition: attachment\n\n<p>saved page</p>",
    )
    mail = parse_mail(raw)
    assert mail.text == "Log attached."
    assert mail.safe_html is None
    assert [a.filename for a in mail.attachments] == ["log.txt", "attachment.html"]


def test_inline_image_without_disposition_is_inline_by_its_content_id() -> None:
    raw = _multipart(
        'Content-Type: text/html\n\n<p>look <img src="cid:pic1@x"></p>',
        "Content-Type: image/gif\nContent-ID: <pic1@x>\nContent-Transfer-Encoding: base64\n\n"
        "R0lGODlhAQABAAAAACw=",
    )
    mail = parse_mail(raw)
    [image] = mail.attachments
    assert (image.filename, image.inline, image.content_id) == ("image.gif", True, "pic1@x")
    assert mail.safe_html is not None and 'src="cid:pic1@x"' in mail.safe_html


# --------------------------------------------------------------------------- charsets


def test_unknown_charset_with_polish_windows_1250_bytes_is_guessed() -> None:
    body = "Proszę o wypłatę środków, zażółć gęślą jaźń.".encode("cp1250")
    mail = parse_mail(_mail(body, content_type='text/plain; charset="x-polski"'))
    assert mail.text == "Proszę o wypłatę środków, zażółć gęślą jaźń."
    assert any("x-polski" in defect for defect in mail.defects)


def test_undeclared_iso_8859_2_bytes_are_guessed_as_polish() -> None:
    body = "Wypłata środków została wstrzymana, proszę o pomoc.".encode("iso-8859-2")
    mail = parse_mail(_mail(body, content_type=None))
    assert mail.text == "Wypłata środków została wstrzymana, proszę o pomoc."


def test_undeclared_swedish_latin1_bytes_are_guessed() -> None:
    body = "Hej, jag väntar på mitt uttag sedan i måndags.".encode("latin-1")
    mail = parse_mail(_mail(body, content_type="text/plain"))
    assert mail.text == "Hej, jag väntar på mitt uttag sedan i måndags."


def test_declared_charset_with_invalid_bytes_decodes_with_replacement() -> None:
    mail = parse_mail(_mail(b"caf\xe9 \xff ok", content_type="text/plain; charset=utf-8"))
    assert mail.text == "caf\ufffd \ufffd ok"
    assert any("invalid" in defect for defect in mail.defects)


def test_iso_8859_1_is_read_as_windows_1252() -> None:
    mail = parse_mail(
        _mail(b"Saldo 45 \x80 \x96 ok", content_type="text/plain; charset=iso-8859-1")
    )
    assert mail.text == "Saldo 45 € – ok"


@pytest.mark.parametrize(
    "charset", ["base64", "rot13", "idna", "zlib", "utf-7", "windows-9999", '"', "utf-16"]
)
def test_hostile_charset_names_never_raise(charset: str) -> None:
    mail = parse_mail(
        _mail(b"Hej \xe5\xe4\xf6 +AGEA- ok", content_type=f"text/plain; charset={charset}")
    )
    assert mail.text
    assert "\x00" not in mail.text


@pytest.mark.parametrize(
    ("charset", "expected"),
    [("win-1250", "ł"), ("cp-1250", "ł"), ("ISO_8859-2", "ł"), ("x-iso-8859-2", "ł")],
)
def test_misspelt_charset_names_are_understood(charset: str, expected: str) -> None:
    data = "ł".encode("cp1250" if "1250" in charset else "iso-8859-2")
    mail = parse_mail(_mail(data, content_type=f"text/plain; charset={charset}"))
    assert mail.text == expected


def test_quoted_printable_and_base64_transfer_encodings() -> None:
    qp = parse_mail(
        _mail(
            b"Pi=EAkne dzi=EAki=\n za pomoc",
            content_type="text/plain; charset=iso-8859-2",
            headers="Content-Transfer-Encoding: quoted-printable",
        )
    )
    assert qp.text == "Piękne dzięki za pomoc"
    b64 = parse_mail(
        _mail(
            b"VGFjayBmw7ZyIGhqw6RscGVuIQ==",
            headers="Content-Transfer-Encoding: base64",
        )
    )
    assert b64.text == "Tack för hjälpen!"


def test_nul_and_control_characters_are_removed() -> None:
    mail = parse_mail(_mail(b"a\x00b\x07c\td\r\ne"))
    assert mail.text == "abc\td\ne"


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("=?ISO-8859-2?Q?Wyp=B3ata_=B6rodk=F3w?=", "Wypłata środków"),
        ("=?UTF-8?B?VXR0YWcgZsO2cnNlbmF0?=", "Uttag försenat"),
        ("=?windows-1250?Q?Zg=B3oszenie?= nr =?utf-8?Q?12?=", "Zgłoszenie nr 12"),
        ("=?iso-8859-1?q?caf=E9?=\n =?iso-8859-1?q?_bar?=", "café bar"),
        ("=?UTF-8*sv?Q?V=C3=A4lkommen?=", "Välkommen"),
        ("=?bogus-charset?Q?hi=E9?=", "hié"),
        ("=?UTF-8?B?broken base64!?=", None),
        ("Plain   folded\n\tsubject", "Plain folded subject"),
    ],
)
def test_encoded_subjects(subject: str, expected: str | None) -> None:
    raw = b"From: a@example.com\nSubject: " + subject.encode() + b"\n\nbody"
    mail = parse_mail(raw)
    if expected is None:
        assert isinstance(mail.subject, str)
    else:
        assert mail.subject == expected


def test_raw_8bit_headers_are_decoded_with_the_body_charset_as_hint() -> None:
    raw = (
        "From: Paweł Zając <pawel@example.pl>\nSubject: Wypłata\n"
        "Content-Type: text/plain; charset=iso-8859-2\n\nCześć"
    ).encode("iso-8859-2")
    mail = parse_mail(raw)
    assert (mail.from_name, mail.from_address) == ("Paweł Zając", "pawel@example.pl")
    assert mail.subject == "Wypłata"
    assert mail.text == "Cześć"


@pytest.mark.parametrize(
    ("header", "name", "address"),
    [
        (
            "=?ISO-8859-2?Q?Pawe=B3_Zaj=B1c?= <Pawel.Zajac@Example.PL>",
            "Paweł Zając",
            "pawel.zajac@example.pl",
        ),
        ('"=?UTF-8?B?w4VzYSDDlmJlcmc=?=" <asa@example.se>', "Åsa Öberg", "asa@example.se"),
        ('"Kowalski, Jan" <jan@example.pl>', "Kowalski, Jan", "jan@example.pl"),
        ("jan@example.pl (Jan Kowalski)", "Jan Kowalski", "jan@example.pl"),
        ("Jan Kowalski <jan@example.pl", "Jan Kowalski", "jan@example.pl"),
        ("<JAN@EXAMPLE.PL>", None, "jan@example.pl"),
    ],
)
def test_from_addresses(header: str, name: str | None, address: str) -> None:
    mail = parse_mail(b"From: " + header.encode() + b"\nSubject: x\n\nbody")
    assert (mail.from_name, mail.from_address) == (name, address)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<a@x> <b@x>", ["a@x", "b@x"]),
        ("<a@x>,<b@x>", ["a@x", "b@x"]),
        ("a@x b@x", ["a@x", "b@x"]),
        ("<a@x>\n <b@\n x>", ["a@x", "b@x"]),
        ("<a@x> (comment) <a@x> <c@x", ["a@x", "c@x"]),
        ("<a@x b@x>", ["a@x", "b@x"]),
        ("<>", []),
        ("garbage without ids", []),
    ],
)
def test_references_tolerate_broken_values(value: str, expected: list[str]) -> None:
    mail = parse_mail(_mail(headers=f"References: {value}"))
    assert mail.references == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 3 Nov 2026 10:00:00 +0100", datetime(2026, 11, 3, 9, 0, tzinfo=UTC)),
        ("3 Nov 2026 10:00:00 -0000", datetime(2026, 11, 3, 10, 0, tzinfo=UTC)),
        ("Tue, 3 Nov 26 10:00:00 PST", datetime(2026, 11, 3, 18, 0, tzinfo=UTC)),
        ("2026-11-03T10:00:00+01:00", datetime(2026, 11, 3, 9, 0, tzinfo=UTC)),
        ("Tue, 32 Nov 2026 10:00:00 +0100", None),
        ("yesterday", None),
        ("Fri, 31 Dec 9999 23:59:59 -2359", None),
    ],
)
def test_dates_are_aware_utc_or_none(value: str, expected: datetime | None) -> None:
    mail = parse_mail(_mail(headers=f"Date: {value}"))
    assert mail.date == expected
    if mail.date is not None:
        assert mail.date.tzinfo is UTC


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("Content-Language: pl-PL", "pl"),
        ("Content-Language: sv-SE, en-US", "sv"),
        ("Content-Language: EN", "en"),
        ("Content-Language: x-klingon", None),
        ("", None),
    ],
)
def test_language_from_content_language(headers: str, expected: str | None) -> None:
    assert parse_mail(_mail(headers=headers)).language == expected


def test_language_of_the_body_part_when_the_mail_does_not_say() -> None:
    raw = _multipart("Content-Type: text/plain\nContent-Language: sv\n\nHej")
    assert parse_mail(raw).language == "sv"


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("headers", "subject", "kind"),
    [
        ("Auto-Submitted: auto-replied", "Re: Uttag", MailKind.AUTO_REPLY),
        ("Auto-Submitted: auto-generated; type=vacation", "Hello", MailKind.AUTO_REPLY),
        ("Auto-Submitted: no", "Hello", MailKind.MESSAGE),
        ("Precedence: bulk", "Hello", MailKind.AUTO_REPLY),
        ("Precedence: list", "Hello", MailKind.AUTO_REPLY),
        ("Precedence: first-class", "Hello", MailKind.MESSAGE),
        ("X-Autoreply: yes", "Hello", MailKind.AUTO_REPLY),
        ("X-Autorespond: Out of office", "Hello", MailKind.AUTO_REPLY),
        ("X-Auto-Response-Suppress: DR, OOF, AutoReply", "Hello", MailKind.AUTO_REPLY),
        ("X-Auto-Response-Suppress: All", "Hello", MailKind.AUTO_REPLY),
        ("X-Auto-Response-Suppress: DR", "Hello", MailKind.MESSAGE),
        ("X-Auto-Response-Suppress: DR", "Out of office until Monday", MailKind.AUTO_REPLY),
        ("X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent", "x", MailKind.AUTO_REPLY),
        ("Return-Path: <>", "Frånvaro", MailKind.AUTO_REPLY),
        ("Return-Path: <>", "Hello", MailKind.MESSAGE),
        ("", "Automatic reply: Uttag", MailKind.AUTO_REPLY),
        ("", "Autosvar: Uttag", MailKind.AUTO_REPLY),
        ("", "Automatyczna odpowiedź: Wypłata", MailKind.AUTO_REPLY),
        ("", "Out of Office: Withdrawal", MailKind.AUTO_REPLY),
        ("", "Out of office reply", MailKind.AUTO_REPLY),
        ("", "Out of office hours support?", MailKind.MESSAGE),
        ("", "Re: out of office", MailKind.MESSAGE),
        ("", "Nieobecność na czacie", MailKind.MESSAGE),
        ("", "I got an automatic reply: is that right?", MailKind.MESSAGE),
    ],
)
def test_auto_reply_detection(headers: str, subject: str, kind: MailKind) -> None:
    raw = (
        f"From: someone@example.com\nSubject: {subject}\n{headers}\n\nbody".replace(
            "\n\n\n", "\n\n"
        )
    ).encode()
    assert parse_mail(raw).kind is kind


def test_mailer_daemon_bounce_without_a_report_uses_x_failed_recipients() -> None:
    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@mx.example.com>\n"
        b"Subject: Mail delivery failed: returning message to sender\n"
        b"X-Failed-Recipients: Gone@Example.com, other@example.com\n\n"
        b"This message was created automatically by mail delivery software.\n\n"
        b"A message that you sent could not be delivered to one or more of its\n"
        b"recipients. This is a permanent error. The following address(es) failed:\n\n"
        b"  gone@example.com\n    mailbox is full\n"
    )
    mail = parse_mail(raw)
    assert mail.kind is MailKind.BOUNCE
    assert mail.failed_recipients == ["gone@example.com", "other@example.com"]


def test_exim_bounce_recipients_from_the_text() -> None:
    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@mx.example.com>\n"
        b"Subject: Mail delivery failed: returning message to sender\n\n"
        b"The following address(es) failed:\n\n"
        b"  gone@example.com\n    host mx.example.com said: 550 No such user\n"
    )
    mail = parse_mail(raw)
    assert (mail.kind, mail.failed_recipients) == (MailKind.BOUNCE, ["gone@example.com"])


@pytest.mark.parametrize(
    ("subject", "body", "failed"),
    [
        (
            "Delivery Status Notification (Failure)",
            "Your message wasn't delivered to <Gone.Player@example.se> because the address "
            "couldn't be found.",
            ["gone.player@example.se"],
        ),
        (
            "Undeliverable: Your withdrawal",
            "Your message to gone@example.pl couldn't be delivered.\n\ngone wasn't found.",
            ["gone@example.pl"],
        ),
        ("failure notice", "Sorry.\n\n<gone@example.com>:\nNo mailbox here.", ["gone@example.com"]),
    ],
)
def test_bounce_recipients_from_the_text_when_nothing_else_says(
    subject: str, body: str, failed: list[str]
) -> None:
    raw = _mail(body, sender="Mail Delivery Subsystem <mailer-daemon@mx.example.com>")
    raw = raw.replace(b"Subject: Test", f"Subject: {subject}".encode())
    mail = parse_mail(raw)
    assert (mail.kind, mail.failed_recipients) == (MailKind.BOUNCE, failed)


def test_postmaster_mail_without_a_failure_is_a_message() -> None:
    raw = b"From: postmaster@example.com\nSubject: Question about your SPF record\n\nHi"
    assert parse_mail(raw).kind is MailKind.MESSAGE


def test_mailer_daemon_notice_without_a_failure_is_automatic() -> None:
    raw = b"From: MAILER-DAEMON@example.com\nSubject: Warning: message delayed\n\nRetrying"
    assert parse_mail(raw).kind is MailKind.AUTO_REPLY


def test_a_read_receipt_is_automatic() -> None:
    raw = _mail(
        "--r\nContent-Type: text/plain\n\nYour message was read.\n"
        "--r\nContent-Type: message/disposition-notification\n\n"
        "Final-Recipient: rfc822; player@example.com\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n"
        "--r--\n",
        content_type='multipart/report; report-type=disposition-notification; boundary="r"',
    )
    assert parse_mail(raw).kind is MailKind.AUTO_REPLY


def test_dsn_status_is_the_reason_when_there_is_no_diagnostic() -> None:
    raw = _mail(
        "--r\nContent-Type: text/plain\n\nFailed.\n"
        "--r\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.com\n\n"
        "Final-Recipient: rfc822; <Lost@Example.com>\nAction: failed\nStatus: 5.2.2\n"
        "--r--\n",
        content_type='multipart/report; report-type=delivery-status; boundary="r"',
        sender="MAILER-DAEMON@mx.example.com",
    )
    mail = parse_mail(raw)
    assert (mail.kind, mail.failed_recipients, mail.failure_reason) == (
        MailKind.BOUNCE,
        ["lost@example.com"],
        "status 5.2.2",
    )


# --------------------------------------------------------------------------- bodies


def test_alternative_prefers_plain_text_and_keeps_safe_html() -> None:
    raw = _mail(
        "--a\nContent-Type: text/plain\n\nPlain words\n"
        "--a\nContent-Type: text/html\n\n<p onclick='x()'>Html <b>words</b></p>\n--a--\n",
        content_type='multipart/alternative; boundary="a"',
    )
    mail = parse_mail(raw)
    assert mail.text == "Plain words"
    assert mail.safe_html == "<p>Html <b>words</b></p>"


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<div>One</div><div><br></div><div>Two</div>", "One\n\nTwo"),
        ("One<br>Two<br/><br>Three", "One\nTwo\n\nThree"),
        ("<ul><li>a</li><li>b</li></ul>", "- a\n- b"),
        ("<p>fish &amp; chips &lt;3 &euro;5&#x21;</p>", "fish & chips <3 €5!"),
        ("<head><title>T</title><style>p{}</style></head><body>Body</body>", "Body"),
        ("<head><meta charset=utf-8><body>No closing head</body>", "No closing head"),
        ("<p>a <script>var x = '<p>';</script>b</p>", "a b"),
        ("<p>  lots \n of\t  space </p>", "lots of space"),
        ("<pre>  keep\n    this</pre>", "  keep\n    this"),
        ("<table><tr><td>Amount</td><td>50 EUR</td></tr></table>", "Amount 50 EUR"),
        (
            "<p>Reply</p><blockquote>quoted<blockquote>deeper</blockquote></blockquote>",
            "Reply\n\n> quoted\n> > deeper",
        ),
        ("<![if !supportLists]>1.<![endif]>Item", "1.Item"),
    ],
)
def test_html_only_mail_becomes_readable_text(markup: str, text: str) -> None:
    mail = parse_mail(_mail(markup, content_type="text/html; charset=utf-8"))
    assert mail.text == text
    assert mail.safe_html is not None


def test_html_charset_from_meta_when_the_mime_header_has_none() -> None:
    markup = '<html><head><meta charset="windows-1250"></head><body>Wyp\xb3ata</body></html>'
    mail = parse_mail(_mail(markup.encode("latin-1"), content_type="text/html"))
    assert mail.text == "Wypłata"


def test_safe_html_drops_remote_images_and_keeps_embedded_ones() -> None:
    markup = (
        '<img src="https://t.example.net/p.gif"><img src="//t.example.net/q.gif">'
        '<img src="CID:logo@x" alt="logo"><img src="data:image/png;base64,AAAA">'
        '<a href="https://example.com" target="_blank">x</a>'
    )
    safe = parse_mail(_mail(markup, content_type="text/html")).safe_html
    assert safe is not None
    assert "t.example.net" not in safe and "data:" not in safe
    assert 'src="CID:logo@x"' in safe
    assert '<a href="https://example.com" rel="noopener noreferrer">x</a>' in safe


def test_safe_html_of_mixed_plain_and_html_parts_keeps_both() -> None:
    raw = _multipart(
        "Content-Type: text/plain\n\nFirst <part> & more",
        "Content-Type: text/html\n\n<p>Second part</p>",
    )
    mail = parse_mail(raw)
    assert mail.text == "First <part> & more\n\nSecond part"
    assert mail.safe_html == "<pre>First &lt;part&gt; &amp; more</pre><p>Second part</p>"


@pytest.mark.parametrize(
    ("markup", "defect"),
    [
        ("<div>" * 300 + "deep" + "</div>" * 300, "nested deeper"),
        ("<p>" + "x" * 2_100_000 + "</p>", "longer than"),
    ],
)
def test_pathological_html_is_bounded(markup: str, defect: str) -> None:
    mail = parse_mail(_mail(markup, content_type="text/html"))
    assert any(defect in found for found in mail.defects)
    assert mail.safe_html is not None


def test_long_runs_of_character_references_keep_their_text() -> None:
    markup = "<p>" + "&amp;" * 1200 + '</p><a href="/?' + "&" * 600 + '">link</a>'
    mail = parse_mail(_mail(markup, content_type="text/html"))
    assert mail.text == "&" * 1200 + "\n\nlink"
    assert mail.safe_html is not None and "<a rel=" in mail.safe_html


def test_very_long_address_headers_are_cut() -> None:
    many = ", ".join(f"player{number}@example.com" for number in range(3000))
    mail = parse_mail(_mail(headers=f"Cc: {many}"))
    assert 100 < len(mail.cc_addresses) < 3000
    assert mail.cc_addresses[0] == "player0@example.com"
    assert any("Cc header too long" in defect for defect in mail.defects)


def test_format_flowed_is_unwrapped() -> None:
    body = "This line is \nsoft-wrapped and\nthis is not.\n> quoted \n> flowed\n-- \nSig"
    mail = parse_mail(_mail(body, content_type="text/plain; charset=utf-8; format=flowed"))
    assert mail.text == "This line is soft-wrapped and\nthis is not.\n> quoted flowed\n-- \nSig"
    delsp = parse_mail(
        _mail("Wyp \nłata", content_type="text/plain; charset=utf-8; format=flowed; delsp=yes")
    )
    assert delsp.text == "Wypłata"


def test_multipart_without_its_boundary_is_read_as_text() -> None:
    mail = parse_mail(_mail("Just text, no parts", content_type='multipart/mixed; boundary="zz"'))
    assert "Just text, no parts" in mail.text
    assert mail.defects


def test_deep_nesting_is_cut_off() -> None:
    depth = 40
    body = "".join(
        f'--b{level}\nContent-Type: multipart/mixed; boundary="b{level + 1}"\n\n'
        for level in range(depth)
    )
    body += f"--b{depth}\nContent-Type: text/plain\n\ndeep\n"
    body += "".join(f"--b{level}--\n" for level in range(depth, -1, -1))
    mail = parse_mail(_mail(body, content_type='multipart/mixed; boundary="b0"'))
    assert any("nested deeper" in defect for defect in mail.defects)


def test_shown_text_falls_back_to_text_when_everything_is_quote() -> None:
    mail = parse_mail(_mail("> only\n> a quote"))
    assert mail.shown_text == "> only\n> a quote"


# --------------------------------------------------------------------------- strip_quoted

_REPLY = "Thanks, that works.\n\n"
_QUOTE = "\n> Hello,\n> your withdrawal is on its way.\n"


@pytest.mark.parametrize(
    "history",
    [
        # English: Gmail (one line and wrapped), Apple Mail, Outlook desktop and mobile
        "On Mon, 2 Nov 2026 at 16:05, Support <support@example.com> wrote:\n" + _QUOTE,
        "On Mon, 2 Nov 2026 at 16:05, Lucky Star Support <support@example.com>\nwrote:\n" + _QUOTE,
        "On Mon, Nov 2, 2026 at 4:05 PM Lucky Star Support <\nsupport@example.com> wrote:\n"
        + _QUOTE,
        "On 2 Nov 2026, at 16:05, Support wrote:\n" + _QUOTE,
        "-----Original Message-----\nFrom: Support <s@example.com>\nSent: Monday\nTo: me\n"
        "Subject: x\n\nold text\n",
        "From: Support <s@example.com>\nSent: Monday, November 2, 2026 4:05 PM\nTo: Me\n"
        "Subject: RE: x\n\nold text\n",
        "________________________________\nFrom: Support\nSent: Monday\nTo: Me\nSubject: x\n\nold",
        "*From:* Support\n*Sent:* Monday\n*To:* Me\n*Subject:* x\n\nold",
        # Polish: Gmail (old and new), Thunderbird, Outlook, Apple Mail
        "W dniu 2.11.2026 o 16:05 Support <support@example.pl> napisał(a):\n" + _QUOTE,
        "pt., 30 paź 2026 o 10:00 Support <support@example.pl> napisał(a):\n" + _QUOTE,
        "pon., 2 lis 2026 o 16:05 Lucky Star Support <support@example.pl>\nnapisał(a):\n" + _QUOTE,
        "W dniu 02.11.2026 o 16:05, Support pisze:\n" + _QUOTE,
        "-----Wiadomość oryginalna-----\nOd: Support\nWysłano: poniedziałek\nDo: Ja\n"
        "Temat: x\n\nold",
        "Od: Support <s@example.pl>\nWysłane: poniedziałek, 2 listopada 2026 16:05\n"
        "Do: Jan <j@example.pl>\nTemat: Wypłata\n\nstara treść\n",
        "Wiadomość napisana przez Support <s@example.pl> w dniu 2 lis 2026, o godz. 16:05:\n"
        + _QUOTE,
        # Swedish: Gmail web and app, Outlook, Thunderbird
        "Den 2 nov. 2026 kl. 16:05 skrev Support <support@example.se>:\n" + _QUOTE,
        "tis 3 nov. 2026 kl 10:00 skrev Support:\n" + _QUOTE,
        "Den tis 3 nov. 2026 kl 10:00 skrev Lucky Star Support <\nsupport@example.se>:\n" + _QUOTE,
        "Från: Support <s@example.se>\nSkickat: den 2 november 2026 16:05\nTill: Jag\n"
        "Ämne: Uttag\n\ngammal text\n",
        "-------- Ursprungligt meddelande --------\nFrån: Support\nDatum: 2026-11-02\n\nold",
        # Forwards
        "---------- Forwarded message ---------\nFrom: Casino <p@example.com>\nDate: x\n\nold",
        "Begin forwarded message:\n\nFrom: Casino <p@example.com>\nSubject: x\n\nold",
        # Signatures and plain quotes
        "-- \nTom Harper\nAccount 123",
        "--\nTom Harper",
        "> just quoted\n> lines",
    ],
)
def test_strip_quoted_removes_history(history: str) -> None:
    assert strip_quoted(_REPLY + history) == "Thanks, that works."


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Sent from my Samsung Galaxy smartphone.",
        "Sent from Outlook for Android",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Get Outlook for Android",
        "Sent from Mail for Windows",
        "Wysłane z iPhone'a",
        "Wysłane z mojego iPhone'a",
        "Wysłano z aplikacji Poczta dla Windows",
        "Skickat från min iPhone",
        "Skickat från Mail för Windows",
        "Skickat från Outlook för Android",
        "Hämta Outlook för iOS",
    ],
)
def test_strip_quoted_removes_mobile_footers(footer: str) -> None:
    text = f"Thanks, that works.\n\n{footer}\n\n> On 2 Nov 2026, at 16:05, X wrote:\n> old"
    assert strip_quoted(text) == "Thanks, that works."


def test_a_footer_phrase_inside_the_text_stays() -> None:
    text = "Sent from my iPhone, the deposit failed.\nPlease check it."
    assert strip_quoted(text) == text


def test_bottom_posted_reply_below_the_quote_survives() -> None:
    text = "On 2 Nov 2026, at 16:05, Support wrote:\n> question?\n\nMy answer.\n\n-- \nMe"
    assert strip_quoted(text) == "My answer."


def test_interleaved_answers_keep_every_answer() -> None:
    text = "> first question?\nfirst answer\n> second question?\nsecond answer"
    assert strip_quoted(text) == "first answer\nsecond answer"


def test_mentions_of_wrote_and_from_in_prose_stay() -> None:
    text = (
        "My friend wrote:\nthat the bonus is fake.\nFrom: my bank account\nI paid 50 EUR.\n"
        "-----\nThanks"
    )
    assert strip_quoted(text) == text


def test_strip_quoted_of_nothing() -> None:
    assert strip_quoted("") == ""
    assert strip_quoted("\r\n  \r\n") == ""
