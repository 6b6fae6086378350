"""Fuzzing the inbound mail parser: whatever the bytes, `parse_mail` returns a ParsedMail or
raises UnreadableMail, and what it returns is safe to store and show."""

from __future__ import annotations

import base64
import quopri
import re
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playerdesk.adapters.mail_parser import parse_mail, strip_quoted
from playerdesk.domain.mail import ParsedMail, UnreadableMail

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
CORPUS = [path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))]

# Example counts keep the whole file under ~20 s; deadlines would only flake on slow CI.
_BASE = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_UNSAFE_CHARS = re.compile("[\x00\ud800-\udfff]")


def _check(raw: bytes, *, max_attachments: int | None = None) -> None:
    try:
        mail = parse_mail(raw, max_attachments=max_attachments)
    except UnreadableMail:
        return
    assert isinstance(mail, ParsedMail)
    strings = [
        mail.subject,
        mail.text,
        mail.shown_text,
        mail.safe_html or "",
        mail.from_address or "",
        mail.from_name or "",
        mail.message_id or "",
        mail.in_reply_to or "",
        *mail.references,
        *mail.to_addresses,
        *mail.cc_addresses,
        *mail.failed_recipients,
        *(attachment.filename for attachment in mail.attachments),
    ]
    for value in strings:
        assert isinstance(value, str)
        assert not _UNSAFE_CHARS.search(value), value
        value.encode("utf-8")  # storable as-is
    assert mail.from_address and "@" in mail.from_address
    if mail.text.strip():
        assert mail.shown_text.strip()
    if mail.date is not None:
        assert mail.date.utcoffset() == timedelta(0)
    if mail.safe_html is not None:
        assert "<script" not in mail.safe_html.lower()
    for attachment in mail.attachments:
        assert attachment.filename and "/" not in attachment.filename
        assert "\\" not in attachment.filename
        assert isinstance(attachment.data, bytes)
    if max_attachments is not None:
        assert len(mail.attachments) <= max_attachments


# --------------------------------------------------------------------------- (a) any bytes


@settings(_BASE, max_examples=500)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(raw: bytes) -> None:
    _check(raw)


@settings(_BASE, max_examples=200)
@given(st.binary(max_size=1500))
def test_arbitrary_body_after_valid_headers(body: bytes) -> None:
    _check(b"From: a@example.com\nContent-Type: multipart/mixed; boundary=x\n\n" + body)


@settings(_BASE, max_examples=200)
@given(st.text(max_size=2000))
def test_strip_quoted_any_text(text: str) -> None:
    shown = strip_quoted(text)
    assert isinstance(shown, str)
    assert len(shown) <= len(text)


# --------------------------------------------------------------------------- (b) mutated corpus

_INTERESTING = [
    b"\r\n",
    b"\n\n",
    b"--",
    b"=?",
    b"?=",
    b"=?utf-8?b?",
    b"=?x-bogus?q?=E9",
    b"<",
    b">",
    b";",
    b"*0*=",
    b"''",
    b"%",
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"\xed\xa0\x80",  # a UTF-8 encoded surrogate
    b"charset=idna",
    b"charset=base64",
    b"charset=utf-7",
    b"Content-Type: multipart/mixed; boundary=",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: x-uuencode\n",
    b"Content-Disposition: attachment; filename*=",
    b"message/rfc822",
    b"message/delivery-status",
    b"<![if",
    b"<script>",
    b"<blockquote>",
    b"> ",
    b"-- \n",
]


@st.composite
def _mutated_corpus_mail(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        if not data:
            break
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        operation = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "token"]))
        if operation == "flip":
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif operation == "truncate":
            del data[position:]
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=40))
        elif operation == "delete":
            length = draw(st.integers(min_value=1, max_value=200))
            del data[position : position + length]
        else:
            data[position:position] = draw(st.sampled_from(_INTERESTING))
    return bytes(data)


@settings(_BASE, max_examples=500)
@given(_mutated_corpus_mail(), st.one_of(st.none(), st.integers(min_value=0, max_value=3)))
def test_mutated_corpus(raw: bytes, max_attachments: int | None) -> None:
    _check(raw, max_attachments=max_attachments)


# --------------------------------------------------------------------------- (c) generated MIME

_CHARSETS = [
    "utf-8",
    "UTF-8",
    "iso-8859-2",
    "windows-1250",
    "iso-8859-1",
    "windows-1252",
    "us-ascii",
    "utf-16",
    "utf-7",
    "koi8-r",
    "x-unknown",
    "idna",
    "base64",
    "",
    '"',
]
_ENCODABLE = ["utf-8", "iso-8859-2", "windows-1250", "iso-8859-1", "windows-1252", "utf-16"]
_TRANSFER_ENCODINGS = [
    "7bit",
    "8bit",
    "binary",
    "base64",
    "quoted-printable",
    "x-uuencode",
    "bogus",
]
_LEAF_TYPES = [
    "text/plain",
    "text/html",
    "text/calendar",
    "text/rfc822-headers",
    "image/png",
    "application/pdf",
    "application/octet-stream",
    "message/delivery-status",
    "message/disposition-notification",
]
_MULTIPART_TYPES = ["mixed", "alternative", "related", "report", "signed", "digest"]
_WORDS = st.text(
    alphabet=st.sampled_from(
        list("aąbcćdeęfghijklłmnńoóprsśtuwyzźżåäöéAĄĘŁŚŻÅÄÖ <>@\"'=?;:,.\\/-_\t")
    ),
    max_size=40,
)


def _encode_body(text: str, charset: str, transfer: str) -> bytes:
    codec = charset if charset in _ENCODABLE else "utf-8"
    raw = text.encode(codec, "replace")
    if transfer == "base64":
        return base64.encodebytes(raw)
    if transfer == "quoted-printable":
        return quopri.encodestring(raw)
    return raw


def _encoded_word(text: str, charset: str, *, letter: str) -> str:
    codec = charset if charset in _ENCODABLE else "utf-8"
    raw = text.encode(codec, "replace")
    if letter == "B":
        payload = base64.b64encode(raw).decode()
    else:
        payload = "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in raw)
    return f"=?{charset or 'utf-8'}?{letter}?{payload}?="


@st.composite
def _header_text(draw: st.DrawFn) -> str:
    text = draw(_WORDS)
    style = draw(st.sampled_from(["plain", "word-q", "word-b", "raw"]))
    if style == "plain":
        return text.encode("ascii", "replace").decode()
    if style == "raw":
        return text  # encoded as raw 8-bit by the caller
    charset = draw(st.sampled_from(_CHARSETS))
    return _encoded_word(text, charset, letter="Q" if style == "word-q" else "B")


@st.composite
def _leaf(draw: st.DrawFn) -> bytes:
    content_type = draw(st.sampled_from(_LEAF_TYPES))
    charset = draw(st.sampled_from(_CHARSETS))
    transfer = draw(st.sampled_from(_TRANSFER_ENCODINGS))
    lines = [f"Content-Type: {content_type}" + (f"; charset={charset}" if charset else "")]
    if draw(st.booleans()):
        lines[0] += "; format=flowed; delsp=" + draw(st.sampled_from(["yes", "no"]))
    lines.append(f"Content-Transfer-Encoding: {transfer}")
    disposition = draw(st.sampled_from([None, "inline", "attachment", "bogus"]))
    if disposition:
        filename = draw(_WORDS)
        style = draw(st.sampled_from(["quoted", "2231", "2047", "none"]))
        if style == "quoted":
            disposition += f'; filename="{filename}"'
        elif style == "2231":
            quoted = "".join(f"%{b:02X}" for b in filename.encode("utf-8"))
            disposition += f"; filename*={draw(st.sampled_from(_CHARSETS))}''{quoted}"
        elif style == "2047":
            disposition += f'; filename="{_encoded_word(filename, "utf-8", letter="B")}"'
        lines.append(f"Content-Disposition: {disposition}")
    if draw(st.booleans()):
        lines.append(f"Content-ID: <{draw(_WORDS)}>")
    if draw(st.booleans()):
        lines.append(f"Content-Language: {draw(st.sampled_from(['pl', 'sv-SE', 'x', '']))}")
    body_text = draw(st.text(max_size=300))
    if content_type == "text/html":
        body_text = (
            draw(
                st.sampled_from(["<p>", "<script>x</script>", "<img src=http://t/x onerror=y>", ""])
            )
            + body_text
            + draw(st.sampled_from(["</p>", "<![foo", "<blockquote>", "<br>", ""]))
        )
    if content_type == "message/delivery-status":
        body_text = "Reporting-MTA: dns; x\n\nFinal-Recipient: rfc822; " + body_text
        body_text += "\nAction: " + draw(st.sampled_from(["failed", "delayed", ""]))
    head = "\n".join(lines).encode("utf-8", "surrogateescape")
    return head + b"\n\n" + _encode_body(body_text, charset, transfer)


def _mime_tree(depth: int) -> st.SearchStrategy[bytes]:
    if depth == 0:
        return _leaf()
    return st.one_of(_leaf(), _multipart(depth))


@st.composite
def _multipart(draw: st.DrawFn, depth: int) -> bytes:
    subtype = draw(st.sampled_from(_MULTIPART_TYPES))
    boundary = draw(st.sampled_from(["b1", "==b==", "x" * 70, "a b", ""])) + str(depth)
    children = draw(st.lists(_mime_tree(depth - 1), max_size=4))
    params = f'boundary="{boundary}"'
    if subtype == "report":
        params += "; report-type=" + draw(
            st.sampled_from(["delivery-status", "disposition-notification", "x"])
        )
    body = b"".join(b"--" + boundary.encode() + b"\n" + child + b"\n" for child in children)
    if draw(st.booleans()):
        body += b"--" + boundary.encode() + b"--\n"
    if draw(st.booleans()):
        # A forwarded mail wrapping the tree.
        body = (
            b"--"
            + boundary.encode()
            + b"\nContent-Type: message/rfc822\n\n"
            + (b"From: inner@example.com\nSubject: inner\n" + body)
        )
    return f"Content-Type: multipart/{subtype}; {params}\n\n".encode() + body


_FROM_VALUES = st.sampled_from(
    [
        "Jan Kowalski <jan@example.pl>",
        "=?ISO-8859-2?Q?Pawe=B3?= <pawel@example.pl>",
        '"Nowak, Anna" <anna@example.pl>',
        "MAILER-DAEMON@mx.example.com (Mail Delivery System)",
        "postmaster@example.se",
        "<broken@example.se",
        "nobody",
        "",
        "a@b",
        "=?utf-8?B?!!?= <x@example.com>",
    ]
)
_EXTRA_HEADERS = st.lists(
    st.sampled_from(
        [
            "Auto-Submitted: auto-replied",
            "Auto-Submitted: no",
            "Precedence: bulk",
            "X-Autoreply: yes",
            "X-Auto-Response-Suppress: OOF",
            "X-Failed-Recipients: gone@example.com",
            "X-MS-Exchange-Message-Is-Ndr:",
            "Return-Path: <>",
            "Content-Language: pl-PL",
            "Date: Tue, 3 Nov 2026 10:00:00 +0100",
            "Date: Tue, 99 Nov 2026 99:00:00 +9999",
            "Date: ",
            "Message-ID: <a@b>",
            "Message-ID: no-brackets@x",
            "In-Reply-To: <a@b> (comment)",
            "References: <a@b>\n <c@\n d>, e@f <g",
            "Cc: =?utf-8?Q?=C3=A5?= <x@y.se>, bad",
            "Reply-To: ",
            "Subject: =?utf-8?q?unterminated",
        ]
    ),
    max_size=6,
)


@st.composite
def _generated_mail(draw: st.DrawFn) -> bytes:
    headers = [f"From: {draw(_FROM_VALUES)}", f"Subject: {draw(_header_text())}"]
    headers.extend(draw(_EXTRA_HEADERS))
    if draw(st.booleans()):
        headers.append("MIME-Version: 1.0")
    head = "\n".join(headers).encode("utf-8", "surrogateescape")
    # The tree starts with its own Content-Type lines: they continue the mail's headers.
    raw = head + b"\n" + draw(_mime_tree(3))
    if draw(st.booleans()):
        raw = raw.replace(b"\n", b"\r\n")
    return raw


@settings(_BASE, max_examples=400)
@given(_generated_mail(), st.one_of(st.none(), st.integers(min_value=0, max_value=2)))
def test_generated_mime_structures(raw: bytes, max_attachments: int | None) -> None:
    _check(raw, max_attachments=max_attachments)
