"""Per-stage retry policy, carried out with tenacity."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from .errors import FatalError, RetryAbandoned

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a stage retries a failed batch before splitting it.

    ``retry_on`` lists the exception types that are worth another try
    (timeouts, 5xx, connection resets; by default ``OSError``, which covers
    connection errors and timeouts). A batch still failing with one of them
    after every attempt is dead-lettered whole: the service is down, and
    splitting would only multiply the waiting. Anything else is treated as a
    data problem: no retry, the batch is split at once so one bad item does
    not sink its neighbours. ``fatal`` lists extra types that stop the run,
    beside :class:`FatalError`.
    """

    attempts: int = 3
    initial: float = 0.1
    max_wait: float = 5.0
    jitter: float = 0.1
    retry_on: tuple[type[BaseException], ...] = (OSError,)
    fatal: tuple[type[BaseException], ...] = ()

    def is_fatal(self, exc: BaseException) -> bool:
        return isinstance(exc, FatalError) or isinstance(exc, self.fatal)

    def is_retryable(self, exc: BaseException) -> bool:
        return not self.is_fatal(exc) and isinstance(exc, self.retry_on)

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        on_retry: Callable[[BaseException], None] | None = None,
        wait: Callable[[float], Awaitable[bool]] | None = None,
    ) -> T:
        """Await ``fn()`` and retry it as this policy says; re-raise the last error.

        ``wait(seconds)`` sleeps between attempts and returns False when the
        run no longer wants the batch (a drain): then :class:`RetryAbandoned`
        is raised instead of trying again.
        """
        if self.attempts <= 1:
            return await fn()

        async def sleep(seconds: float) -> None:
            if wait is None:
                await asyncio.sleep(seconds)
            elif not await wait(seconds):
                raise RetryAbandoned(f"released while waiting {seconds:.1f} s to try again")

        def before_sleep(state: RetryCallState) -> None:
            if on_retry is not None and state.outcome is not None:
                exc = state.outcome.exception()
                if exc is not None:
                    on_retry(exc)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(multiplier=self.initial, max=self.max_wait, jitter=self.jitter),
            retry=retry_if_exception(self.is_retryable),
            before_sleep=before_sleep,
            sleep=sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await fn()
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover
