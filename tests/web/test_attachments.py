"""Attachment upload and download: type from the bytes, size limits, safe download, audit."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from playerdesk.db.models import Attachment, AuditEntry
from playerdesk.runtime import Runtime
from playerdesk.settings import Settings
from tests.conftest import AgentFactory, AgentLogin

API = "/api/v1"
PROBLEM = "application/problem+json"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.fixture
async def agent(make_agent: AgentFactory) -> AgentLogin:
    return await make_agent()


@pytest.fixture
async def ticket_id(client: httpx.AsyncClient, agent: AgentLogin) -> int:
    response = await client.post(
        f"{API}/tickets",
        json={
            "channel": "email",
            "subject": "KYC",
            "body": "Here is my ID",
            "player": {"external_id": "P-1"},
        },
        headers=agent.headers,
    )
    assert response.status_code == 201
    return int(response.json()["id"])


async def upload(
    client: httpx.AsyncClient,
    agent: AgentLogin,
    ticket_id: int,
    data: bytes,
    *,
    filename: str = "file.png",
    claimed: str = "image/png",
) -> httpx.Response:
    return await client.post(
        f"{API}/tickets/{ticket_id}/attachments",
        files={"file": (filename, data, claimed)},
        headers=agent.headers,
    )


async def attachment_rows(runtime: Runtime) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Attachment)) or 0)


async def audit(runtime: Runtime, action: str) -> list[AuditEntry]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return list(rows.all())


async def test_png_upload_and_download(
    client: httpx.AsyncClient, agent: AgentLogin, ticket_id: int, runtime: Runtime
) -> None:
    uploaded = await upload(client, agent, ticket_id, PNG, filename="passport.png")
    assert uploaded.status_code == 201, uploaded.text
    meta = uploaded.json()
    assert meta["content_type"] == "image/png"
    assert meta["size"] == len(PNG)
    assert meta["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert meta["filename"] == "passport.png"
    assert meta["ticket_id"] == ticket_id
    assert meta["message_id"] is None
    assert meta["download_url"] == f"/api/v1/attachments/{meta['id']}"
    [uploaded_entry] = await audit(runtime, "attachment.uploaded")
    assert uploaded_entry.actor_agent_id == agent.id

    downloaded = await client.get(meta["download_url"], headers=agent.headers)
    assert downloaded.status_code == 200
    assert downloaded.content == PNG
    assert downloaded.headers["content-type"] == "image/png"
    assert downloaded.headers["content-disposition"] == 'attachment; filename="passport.png"'
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in downloaded.headers["cache-control"]
    [entry] = await audit(runtime, "attachment.downloaded")
    assert entry.actor_agent_id == agent.id
    assert entry.actor_token_id == agent.actor.token_id
    assert entry.entity_id == str(meta["id"])
    assert entry.details == {"ticket_id": ticket_id}

    await client.get(meta["download_url"], headers=agent.headers)
    assert len(await audit(runtime, "attachment.downloaded")) == 2  # every download


@pytest.mark.parametrize(
    ("data", "filename", "claimed", "detected"),
    [
        (PNG, "scan.pdf", "application/pdf", "image/png"),
        (PDF, "photo.png", "image/png", "application/pdf"),
        (b"plain words\n", "notes.exe", "application/octet-stream", "text/plain"),
    ],
)
async def test_the_type_comes_from_the_bytes_not_the_name(
    client: httpx.AsyncClient,
    agent: AgentLogin,
    ticket_id: int,
    data: bytes,
    filename: str,
    claimed: str,
    detected: str,
) -> None:
    response = await upload(client, agent, ticket_id, data, filename=filename, claimed=claimed)
    assert response.status_code == 201
    assert response.json()["content_type"] == detected
    downloaded = await client.get(response.json()["download_url"], headers=agent.headers)
    assert downloaded.headers["content-type"].split(";")[0] == detected
    assert downloaded.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("data", "filename", "claimed"),
    [
        (EXE, "setup.exe", "application/x-msdownload"),
        (EXE, "innocent.png", "image/png"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 32, "run.pdf", "application/pdf"),
        (b"PK\x03\x04" + b"\x00\xff" * 20, "docs.zip", "application/zip"),
    ],
)
async def test_disallowed_types_are_415_and_store_nothing(
    client: httpx.AsyncClient,
    agent: AgentLogin,
    ticket_id: int,
    runtime: Runtime,
    data: bytes,
    filename: str,
    claimed: str,
) -> None:
    response = await upload(client, agent, ticket_id, data, filename=filename, claimed=claimed)
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM
    assert [error["field"] for error in response.json()["errors"]] == ["file"]
    assert await attachment_rows(runtime) == 0
    assert await audit(runtime, "attachment.uploaded") == []


async def test_empty_file_is_refused(
    client: httpx.AsyncClient, agent: AgentLogin, ticket_id: int, runtime: Runtime
) -> None:
    response = await upload(client, agent, ticket_id, b"")
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == PROBLEM
    assert await attachment_rows(runtime) == 0


async def test_file_over_the_attachment_limit_is_413(
    client: httpx.AsyncClient,
    agent: AgentLogin,
    ticket_id: int,
    runtime: Runtime,
    settings: Settings,
) -> None:
    just_over = PNG + b"\x00" * (settings.attachment_max_bytes + 1 - len(PNG))
    response = await upload(client, agent, ticket_id, just_over)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert [error["field"] for error in response.json()["errors"]] == ["file"]

    at_limit = just_over[:-1]
    accepted = await upload(client, agent, ticket_id, at_limit)
    assert accepted.status_code == 201
    assert accepted.json()["size"] == settings.attachment_max_bytes
    assert await attachment_rows(runtime) == 1


async def test_upload_far_over_the_limit_is_413_by_length_and_when_streamed(
    client: httpx.AsyncClient,
    agent: AgentLogin,
    ticket_id: int,
    runtime: Runtime,
    settings: Settings,
) -> None:
    huge = PNG + b"\x00" * (settings.attachment_max_bytes * 2)
    declared = await upload(client, agent, ticket_id, huge)
    assert declared.status_code == 413
    assert [error["field"] for error in declared.json()["errors"]] == ["body"]

    boundary = "pd-test-boundary"
    chunk = b"\x00" * (256 * 1024)

    async def stream() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        yield PNG
        for _ in range(settings.attachment_max_bytes * 2 // len(chunk)):
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    streamed = await client.post(
        f"{API}/tickets/{ticket_id}/attachments",
        content=stream(),
        headers={**agent.headers, "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == PROBLEM
    assert await attachment_rows(runtime) == 0


async def test_upload_mistakes(
    client: httpx.AsyncClient, agent: AgentLogin, ticket_id: int, runtime: Runtime
) -> None:
    unknown_ticket = await upload(client, agent, ticket_id + 100, PNG)
    assert unknown_ticket.status_code == 404
    assert [error["field"] for error in unknown_ticket.json()["errors"]] == ["ticket_id"]

    no_file = await client.post(
        f"{API}/tickets/{ticket_id}/attachments",
        files={"document": ("a.png", PNG, "image/png")},
        headers=agent.headers,
    )
    assert no_file.status_code == 422
    assert [error["field"] for error in no_file.json()["errors"]] == ["file"]

    as_json = await client.post(
        f"{API}/tickets/{ticket_id}/attachments", json={"file": "aGVsbG8="}, headers=agent.headers
    )
    assert as_json.status_code == 422
    assert as_json.headers["content-type"] == PROBLEM

    broken = await client.post(
        f"{API}/tickets/{ticket_id}/attachments",
        content=b"--x\r\nnot really multipart",
        headers={**agent.headers, "content-type": "multipart/form-data; boundary=x"},
    )
    assert 400 <= broken.status_code < 500
    assert broken.headers["content-type"] == PROBLEM

    anonymous = await client.post(
        f"{API}/tickets/{ticket_id}/attachments", files={"file": ("a.png", PNG, "image/png")}
    )
    assert anonymous.status_code == 401
    assert await attachment_rows(runtime) == 0


async def test_filenames_are_made_safe_and_survive_download(
    client: httpx.AsyncClient, agent: AgentLogin, ticket_id: int
) -> None:
    traversal = await upload(client, agent, ticket_id, PNG, filename="../../etc/passwd.png")
    assert traversal.json()["filename"] == "passwd.png"
    windows = await upload(client, agent, ticket_id, PNG, filename="C:\\Users\\me\\scan.png")
    assert windows.json()["filename"] == "scan.png"

    # A quote in the name must not end the header's quoted string (sent raw: httpx would
    # percent-encode it).
    boundary = "b0undary"
    raw = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="my \\"best\\" photo.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + PNG
        + f"\r\n--{boundary}--\r\n".encode()
    )
    quoted = await client.post(
        f"{API}/tickets/{ticket_id}/attachments",
        content=raw,
        headers={**agent.headers, "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert quoted.status_code == 201, quoted.text
    downloaded = await client.get(quoted.json()["download_url"], headers=agent.headers)
    disposition = downloaded.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="my _best_ photo.png"'), disposition

    polish = await upload(client, agent, ticket_id, PNG, filename="dowód osobisty.png")
    assert polish.json()["filename"] == "dowód osobisty.png"
    downloaded = await client.get(polish.json()["download_url"], headers=agent.headers)
    disposition = downloaded.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="dow?d osobisty.png"')
    assert "filename*=UTF-8''dow%C3%B3d%20osobisty.png" in disposition


async def test_attachment_is_linked_to_a_message_once(
    client: httpx.AsyncClient, agent: AgentLogin, ticket_id: int
) -> None:
    meta = (await upload(client, agent, ticket_id, PNG)).json()
    url = f"{API}/tickets/{ticket_id}/messages"

    posted = await client.post(
        url, json={"body": "", "attachment_ids": [meta["id"]]}, headers=agent.headers
    )
    assert posted.status_code == 201, posted.text
    [attached] = posted.json()["attachments"]
    assert (attached["id"], attached["message_id"]) == (meta["id"], posted.json()["id"])
    listed = (await client.get(url, headers=agent.headers)).json()
    assert [a["id"] for a in listed[-1]["attachments"]] == [meta["id"]]

    again = await client.post(
        url, json={"body": "again", "attachment_ids": [meta["id"]]}, headers=agent.headers
    )
    assert again.status_code == 422
    assert [error["field"] for error in again.json()["errors"]] == ["attachment_ids"]


async def test_download_of_unknown_or_without_token(
    client: httpx.AsyncClient, agent: AgentLogin, ticket_id: int, runtime: Runtime
) -> None:
    meta: dict[str, Any] = (await upload(client, agent, ticket_id, PNG)).json()
    missing = await client.get(f"{API}/attachments/{meta['id'] + 1}", headers=agent.headers)
    assert missing.status_code == 404
    assert [error["field"] for error in missing.json()["errors"]] == ["attachment_id"]
    anonymous = await client.get(meta["download_url"])
    assert anonymous.status_code == 401
    assert PNG not in anonymous.content
    assert await audit(runtime, "attachment.downloaded") == []
