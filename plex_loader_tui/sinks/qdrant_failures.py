"""qdrant-client's exceptions as the sink's errors: fatal, worth a retry, or about the data.

The sink wraps every client call in :func:`classify`; the types it maps to and
why are in :mod:`.qdrant_errors`. Every message is one line naming where
Qdrant is (:func:`where`), with the API key masked and an HTTP answer
described, never pasted (:func:`describe_error`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from ..answers import describe_answer
from ..pipeline.errors import FatalError
from ..secrets import mask, redact
from .qdrant_errors import (
    TRANSIENT_STATUS,
    CollectionMissingError,
    QdrantAuthError,
    QdrantRejectedError,
    QdrantStorageError,
    QdrantTransientError,
    QdrantUnavailableError,
    free_space,
    grpc_code,
    storage_failure,
)

if TYPE_CHECKING:
    from .qdrant import QdrantSettings


def where(settings: QdrantSettings) -> str:
    """``"the local Qdrant folder …"`` or ``"Qdrant at URL (API key ****abcd)"``."""
    if settings.is_local:
        return f"the local Qdrant folder {settings.path}"
    key = f" (API key {mask(settings.api_key)})" if settings.api_key else ""
    return f"Qdrant at {settings.url}{key}"


def describe_error(exc: BaseException, api_key: str | None) -> str:
    """One line about ``exc``; an HTTP answer is described (status, type, size), never pasted."""
    if isinstance(exc, UnexpectedResponse):
        answer = describe_answer(exc.status_code, exc.headers.get("content-type"), exc.content)
        return redact(f"Qdrant answered {answer}", [api_key])
    return redact(f"{type(exc).__name__}: {exc}", [api_key])


def _storage_message(settings: QdrantSettings, what: str) -> str:
    if settings.is_local:
        return (
            f"Qdrant cannot write to {settings.path}: {what} ({free_space(settings.path)}); free some space "
            "or point --qdrant-path elsewhere, then run the load again (it resumes)"
        )
    return f"{where(settings)} cannot write: {what} on the server's disk; free space there, then run the load again"


def classify(exc: BaseException, settings: QdrantSettings, collection: str, *, connecting: bool = False) -> BaseException:
    """Map a client exception to a fatal, transient or data error (``exc`` itself when it is about the data)."""
    if isinstance(exc, FatalError):
        return exc
    place = where(settings)
    status = getattr(exc, "status_code", None)
    code = grpc_code(exc)
    if status in (401, 403) or code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return QdrantAuthError(
            f"{place} rejected the API key ({status or code}): check QDRANT_API_KEY / --qdrant-api-key"
        )
    unreachable = isinstance(exc, ResponseHandlingException) or code in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
    if connecting and (unreachable or status is not None):
        return QdrantUnavailableError(
            f"Cannot reach {place}: {describe_error(exc, settings.api_key)}. Check that the server is running and "
            "--qdrant-url is right (or drop --qdrant-url to use the embedded local store)"
        )
    if status == 404 and not connecting:
        return CollectionMissingError(
            f"Collection {collection!r} is gone from {place} (deleted during the load?): "
            "run the load again to re-create it"
        )
    storage = storage_failure(exc)
    if storage is not None:
        # Checked before "transient": a full disk answers 500 too, and would be retried
        # and split into a dead letter per point instead of stopping the run.
        return QdrantStorageError(_storage_message(settings, storage))
    if unreachable or status in TRANSIENT_STATUS or code == "RESOURCE_EXHAUSTED":
        return QdrantTransientError(f"{place}: {describe_error(exc, settings.api_key)}")
    if isinstance(exc, UnexpectedResponse):
        return QdrantRejectedError(f"{place}: {describe_error(exc, settings.api_key)}")
    return exc
