"""The phone use cases' policies, from the runtime's settings."""

from __future__ import annotations

from playerdesk.runtime import Runtime
from playerdesk.services.callbacks import CallbackPolicy
from playerdesk.services.cti import PhonePolicy


def phone_policy(runtime: Runtime) -> PhonePolicy:
    return PhonePolicy(
        default_region=runtime.settings.phone_default_region,
        players=runtime.policies.players,
        limits=runtime.policies.messages,
        routing=runtime.policies.routing,
        note_language=runtime.settings.default_language,
    )


def callback_policy(runtime: Runtime) -> CallbackPolicy:
    settings = runtime.settings
    return CallbackPolicy(
        default_region=settings.phone_default_region,
        languages=list(settings.languages),
        default_language=settings.default_language,
        vip_tiers=list(settings.vip_tiers),
        limit_per_ip=settings.callback_limit_per_ip,
        limit_per_phone=settings.callback_limit_per_phone,
        limits=runtime.policies.messages,
        routing=runtime.policies.routing,
    )
