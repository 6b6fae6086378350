"""The public help centre's forms: contact us and feedback, and the thank-you page.

Pages work without JavaScript and set no cookies. A form with mistakes comes back with
everything the player typed (files aside: a browser never lets a page refill a file input)
and each error next to its field: whatever a browser sends, a mistake comes back as the
page, never as a 500 or a JSON problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from babel.dates import format_timedelta
from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import DomainError, TooManyAttempts
from playerdesk.i18n import language_name, translations
from playerdesk.runtime import Runtime
from playerdesk.services import forms
from playerdesk.services.forms import (
    FIELD_ATTACHMENTS,
    FIELD_EMAIL,
    FIELD_MESSAGE,
    FIELD_NAME,
    FIELD_RATING,
    FIELD_TOPIC,
    MAX_FORM_ATTACHMENTS,
    FormInput,
    FormInvalid,
    FormLimits,
    HelpForm,
    Upload,
)
from playerdesk.settings import Settings
from playerdesk.web.console.rendering import render, request_language
from playerdesk.web.deps import Admitted, RuntimeDep, UowDep, client_ip
from playerdesk.web.errors import status_for
from playerdesk.web.helpcenter.guard import (
    HONEYPOT_FIELD,
    ThankYou,
    Verdict,
    issue_form_token,
    issue_thanks_token,
    judge_submission,
    read_thanks_token,
)
from playerdesk.web.middleware import CONSOLE_CSP

log = structlog.get_logger(__name__)

PREFIX = "/help"
router = APIRouter(prefix=PREFIX, include_in_schema=False)

FORM_PATHS = frozenset({f"{PREFIX}/{form.value}" for form in HelpForm})
# What a multipart request may carry besides the files: the text fields and part headers.
FORM_OVERHEAD_BYTES = 256 * 1024
# The console's policy: styles and scripts from this site only (the pages use no script).
PAGE_CSP = CONSOLE_CSP.decode()
# The order of the fields on each page, which the list of errors above the form follows.
FIELD_ORDER = {
    HelpForm.CONTACT: [FIELD_TOPIC, FIELD_NAME, FIELD_EMAIL, FIELD_MESSAGE, FIELD_ATTACHMENTS],
    HelpForm.FEEDBACK: [FIELD_RATING, FIELD_MESSAGE, FIELD_NAME, FIELD_EMAIL, FIELD_ATTACHMENTS],
}


def request_limit(settings: Settings) -> int:
    """The largest request a form may send: every file at its largest, and the fields."""
    return MAX_FORM_ATTACHMENTS * settings.attachment_max_bytes + FORM_OVERHEAD_BYTES


@dataclass(frozen=True, kw_only=True)
class PostedForm:
    """A form's fields as they arrived, before any checking."""

    language: str
    form_token: str
    honeypot: str
    name: str
    email: str
    topic: str
    rating: str
    message: str
    files: list[UploadFile]

    def values(self) -> dict[str, str]:
        """What goes back into the inputs when the form is shown again."""
        return {
            FIELD_NAME: self.name,
            FIELD_EMAIL: self.email,
            FIELD_TOPIC: self.topic,
            FIELD_RATING: self.rating,
            FIELD_MESSAGE: self.message,
        }


# Every field is optional text here, so that nothing a browser sends ends as FastAPI's JSON
# error: what is missing or wrong is the service's to say, next to the field.
async def posted_form(
    lang: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    topic: Annotated[str, Form()] = "",
    rating: Annotated[str, Form()] = "",
    message: Annotated[str, Form()] = "",
    attachments: Annotated[list[UploadFile] | None, File()] = None,
) -> PostedForm:
    return PostedForm(
        language=lang,
        form_token=form_token,
        honeypot=website,
        name=name,
        email=email,
        topic=topic,
        rating=rating,
        message=message,
        # An empty file input still sends a part, without a file name.
        files=[upload for upload in attachments or [] if upload.filename],
    )


PostedFormDep = Annotated[PostedForm, Depends(posted_form)]


def _language(request: Request, settings: Settings, *, chosen: str = "") -> str:
    """?lang= (the switcher) first, then `chosen` (the language of the page a form was sent
    from, or of the thank-you link), then the language cookie and Accept-Language."""
    switched = request.query_params.get("lang", "")
    if switched in settings.languages:
        return switched
    if chosen in settings.languages:
        return chosen
    return request_language(
        request, supported=settings.languages, default=settings.default_language
    )


def _language_links(request: Request, settings: Settings) -> list[tuple[str, str, str]]:
    """(code, name in that language, link) for the switcher; the page's other query
    parameters (the thank-you token, a chosen topic) stay in the link."""
    kept = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    return [
        (
            code,
            language_name(code, in_language=code),
            f"{request.url.path}?{urlencode([*kept, ('lang', code)])}",
        )
        for code in settings.languages
    ]


def _page(
    request: Request,
    runtime: Runtime,
    template: str,
    *,
    language: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A help-centre page: the language switcher, and headers that keep it out of caches
    (a form page holds a token with its time; a returned one, what the player typed)."""
    response = render(
        template,
        language=language,
        status_code=status_code,
        language_links=_language_links(request, runtime.settings),
        **context,
    )
    response.headers["Content-Language"] = language
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def _form_page(
    request: Request,
    runtime: Runtime,
    *,
    form: HelpForm,
    language: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    files_dropped: bool = False,
    status_code: int = 200,
) -> Response:
    settings = runtime.settings
    attachment_policy = runtime.policies.attachments
    return _page(
        request,
        runtime,
        f"helpcenter/{form.value}.html",
        language=language,
        status_code=status_code,
        form=form.value,
        form_token=issue_form_token(form=form, now=runtime.clock.now(), secret=settings.secret_key),
        honeypot_field=HONEYPOT_FIELD,
        values=values or {},
        errors=errors or {},
        field_order=FIELD_ORDER[form],
        alert=alert,
        files_dropped=files_dropped,
        topics=[(topic.value, label) for topic, label in forms.topic_labels(language).items()],
        max_files=MAX_FORM_ATTACHMENTS,
        max_file_size=forms.format_size(attachment_policy.max_bytes, language=language),
        file_types=forms.file_type_names(attachment_policy.allowed_types),
        accept=",".join(attachment_policy.allowed_types),
        max_message_chars=runtime.policies.messages.max_chars,
    )


def _thanks_redirect(runtime: Runtime, thanks: ThankYou) -> Response:
    """Post/redirect/get: reloading the thank-you page never sends the form again."""
    token = issue_thanks_token(thanks, now=runtime.clock.now(), secret=runtime.settings.secret_key)
    return RedirectResponse(f"{PREFIX}/thanks?{urlencode({'t': token})}", status_code=303)


async def _uploads(posted: PostedForm, *, max_bytes: int) -> list[Upload]:
    # One byte past the limit is enough to tell that a file is too large.
    return [
        Upload(filename=upload.filename or "", data=await upload.read(max_bytes + 1))
        for upload in posted.files
    ]


async def _submit(
    request: Request, runtime: Runtime, uow: UnitOfWork, *, form: HelpForm, posted: PostedForm
) -> Response:
    """Spam guards, then the one use case, then the page: the thank-you page by redirect, or
    the form again with what was typed and why it was not sent."""
    settings = runtime.settings
    language = _language(request, settings, chosen=posted.language)
    _ = translations(language).gettext
    verdict = judge_submission(
        form=form,
        form_token=posted.form_token,
        honeypot=posted.honeypot,
        now=runtime.clock.now(),
        secret=settings.secret_key,
    )
    if verdict is Verdict.BOT:
        # The bot gets what a person gets (a redirect to a thank-you page) so that it has
        # no reason to try again differently, but nothing is stored and no mail goes out.
        # Its page shows no ticket number: an invented one could be a real ticket's, which
        # email threading would then connect a reply to.
        log.info("helpcenter_bot_dropped", form=form.value)
        return _thanks_redirect(runtime, ThankYou(form=form, language=language, ticket_number=None))
    if verdict is Verdict.STALE:
        return _form_page(
            request,
            runtime,
            form=form,
            language=language,
            values=posted.values(),
            alert=_(
                "This page was open for a long time, so your message was not sent yet. "
                "Please check it and send it again."
            ),
            files_dropped=bool(posted.files),
            status_code=400,
        )
    submission = FormInput(
        language=language,
        email=posted.email,
        message=posted.message,
        name=posted.name,
        topic=posted.topic,
        rating=posted.rating,
        attachments=await _uploads(posted, max_bytes=runtime.policies.attachments.max_bytes),
    )
    try:
        ticket = await forms.submit_form(
            uow,
            form=form,
            submission=submission,
            ip=client_ip(request),
            limits=FormLimits(
                per_ip=settings.form_limit_per_ip, per_email=settings.form_limit_per_email
            ),
            player_policy=runtime.policies.players,
            message_limits=runtime.policies.messages,
            attachment_policy=runtime.policies.attachments,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
            store=runtime.attachments,
        )
    except FormInvalid as invalid:
        return _form_page(
            request,
            runtime,
            form=form,
            language=language,
            values=posted.values(),
            errors=invalid.errors,
            files_dropped=bool(posted.files),
            status_code=422,
        )
    except TooManyAttempts as refused:
        wait = format_timedelta(
            timedelta(seconds=refused.retry_after_seconds), locale=language, threshold=2
        )
        response = _form_page(
            request,
            runtime,
            form=form,
            language=language,
            values=posted.values(),
            alert=_(
                "You have sent us several messages in a short time. Please try again in {duration}."
            ).format(duration=wait),
            files_dropped=bool(posted.files),
            status_code=429,
        )
        response.headers["Retry-After"] = str(refused.retry_after_seconds)
        return response
    except DomainError as error:
        # Nothing was stored (the transaction was not committed); the player may try again.
        log.info("helpcenter_form_refused", form=form.value, code=error.code)
        return _form_page(
            request,
            runtime,
            form=form,
            language=language,
            values=posted.values(),
            alert=_("We could not send your message. Please try again."),
            files_dropped=bool(posted.files),
            status_code=status_for(error),
        )
    return _thanks_redirect(
        runtime, ThankYou(form=form, language=language, ticket_number=ticket.number)
    )


@router.get("")
async def help_home(request: Request, runtime: RuntimeDep, q: str = "") -> Response:
    """The help centre's home in the player's language (?lang=, the language cookie, then
    Accept-Language); `?q=` goes straight to the search, for a casino's own search box."""
    language = _language(request, runtime.settings)
    target = f"{PREFIX}/{language}"
    if q.strip():
        target += f"/search?{urlencode({'q': q.strip()})}"
    response = RedirectResponse(target, status_code=307)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


@router.get("/contact")
async def contact_page(request: Request, runtime: RuntimeDep, topic: str = "") -> Response:
    """`?topic=withdrawals` preselects a topic, for links from the casino's own pages."""
    language = _language(request, runtime.settings)
    return _form_page(
        request, runtime, form=HelpForm.CONTACT, language=language, values={FIELD_TOPIC: topic}
    )


@router.post("/contact", dependencies=[Admitted])
async def send_contact(
    request: Request, runtime: RuntimeDep, uow: UowDep, posted: PostedFormDep
) -> Response:
    return await _submit(request, runtime, uow, form=HelpForm.CONTACT, posted=posted)


@router.get("/feedback")
async def feedback_page(request: Request, runtime: RuntimeDep) -> Response:
    language = _language(request, runtime.settings)
    return _form_page(request, runtime, form=HelpForm.FEEDBACK, language=language)


@router.post("/feedback", dependencies=[Admitted])
async def send_feedback(
    request: Request, runtime: RuntimeDep, uow: UowDep, posted: PostedFormDep
) -> Response:
    return await _submit(request, runtime, uow, form=HelpForm.FEEDBACK, posted=posted)


@router.get("/thanks")
async def thanks_page(request: Request, runtime: RuntimeDep, t: str = "") -> Response:
    thanks = read_thanks_token(t, now=runtime.clock.now(), secret=runtime.settings.secret_key)
    if thanks is None:
        language = _language(request, runtime.settings)
        return _page(
            request,
            runtime,
            "helpcenter/thanks.html",
            language=language,
            thanks=None,
            form=HelpForm.CONTACT.value,
            status_code=404,
        )
    language = _language(request, runtime.settings, chosen=thanks.language)
    return _page(
        request,
        runtime,
        "helpcenter/thanks.html",
        language=language,
        thanks=thanks,
        form=thanks.form.value,
    )
