"""Errors a user can act on. Messages are Chinese; `field` names what to fix."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error whose message is meant for the person who caused it."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, details: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.message}
        if self.field:
            body["field"] = self.field
        if self.details is not None:
            body["details"] = self.details
        return body


class ValidationFailed(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403
