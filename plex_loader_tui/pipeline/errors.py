"""Error types the engine understands.

The engine knows three kinds of failure:

* an exception listed in a stage's retry policy is *transient*: the batch is
  tried again with exponential backoff and jitter;
* any other exception is a *data* failure: after retries the batch is split
  so that one bad item does not sink its neighbours, and items that still fail
  are dead-lettered while the run goes on;
* a :class:`FatalError` (or a type a stage lists as fatal) stops every stage
  promptly and is raised once from :meth:`Pipeline.run`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FatalError(Exception):
    """An error no retry can fix (credentials refused, server unreachable).

    Raise it (or a subclass) from a stage to stop the whole run. The message
    is shown to the operator as it is, so it should say what to do.
    """


class RetryAbandoned(Exception):
    """A batch waiting to be tried again was let go: the run is draining.

    Nothing was wrong with its items, and waiting out a backoff (or a server's
    Retry-After) would hold the drain hostage; they are released for the next run.
    """


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An item (or unit of work) that failed for good in one stage."""

    stage: str
    item: Any
    error: str
    error_type: str
    attempts: int
    title: str = ""
    at: float = 0.0
    weight: int = 1
