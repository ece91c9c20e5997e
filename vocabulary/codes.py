"""The code values that cross layers: a policy's status, kind, audience and outbox event kind,
and the messaging channels' names.

Defined once here so policies, subscriptions, push, bot and web compare the same strings;
`vocabulary.labels` turns each code into the Chinese a person reads.
"""

from __future__ import annotations


class PolicyStatus:
    """The documented set of policy states.

    draft → submitted → (approved at each review level) → published → expired | repealed;
    a reviewer may return a submitted draft to `draft` with a comment.
    """

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"
    EXPIRED = "expired"
    REPEALED = "repealed"
    ALL = (DRAFT, SUBMITTED, APPROVED, PUBLISHED, EXPIRED, REPEALED)
    LIVE = (PUBLISHED,)
    RELEASED = (PUBLISHED, EXPIRED, REPEALED)


class PolicyKind:
    NORMATIVE = "normative"
    OTHER = "other"
    ALL = (NORMATIVE, OTHER)


class Audience:
    ENTERPRISE = "enterprise"
    RESIDENT = "resident"
    BOTH = "both"
    ALL = (ENTERPRISE, RESIDENT, BOTH)


class EventKind:
    """Outbox events, consumed by the push pipeline."""

    PUBLISHED = "published"
    AMENDED = "amended"
    REPEALED = "repealed"
    EXPIRED = "expired"
    ALL = (PUBLISHED, AMENDED, REPEALED, EXPIRED)


class ChannelName:
    TELEGRAM = "telegram"
    WECHAT = "wechat"
    WECOM_ROBOT = "wecom_robot"
    WEB = "web"
    ALL = (TELEGRAM, WECHAT, WECOM_ROBOT, WEB)
