"""Provider usage and rate limits: is an API error one, and when does it reset?

Providers say when a limit clears in their response headers: `retry-after` (seconds or an HTTP
date; OpenAI adds `retry-after-ms`), Anthropic's `anthropic-ratelimit-*-reset` (RFC 3339 times)
and OpenAI's `x-ratelimit-reset-*` (durations such as `6m0s`). The latest of the times given is
the reset: the limit is not over until every exhausted one has cleared.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

LIMIT_SUBTYPE = "error_usage_limit"
_DURATION = re.compile(
    r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$"
)


def is_usage_limit(error: BaseException) -> bool:
    """True for HTTP 429 and quota errors: the provider refuses until a limit resets."""
    from pydantic_ai.exceptions import ModelQuotaExceededError, ModelRateLimitError

    if isinstance(error, ModelQuotaExceededError | ModelRateLimitError):
        return True
    return getattr(error, "status_code", None) == 429


def _duration(text: str) -> float | None:
    match = _DURATION.match(text.strip())
    if not match or not any(match.groups()):
        return None
    h, m, s, ms = (float(g) if g else 0.0 for g in match.groups())
    return h * 3600 + m * 60 + s + ms / 1000


def _when(value: str, now: float) -> float | None:
    value = value.strip()
    try:
        return now + float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        pass
    seconds = _duration(value)
    return now + seconds if seconds is not None else None


def reset_time(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """When the limit clears (epoch seconds) from the response headers; None when unsaid."""
    if not headers:
        return None
    now = time.time() if now is None else now
    lowered = {k.lower(): v for k, v in headers.items()}
    times = []
    if "retry-after-ms" in lowered:
        with contextlib.suppress(ValueError):
            times.append(now + float(lowered["retry-after-ms"]) / 1000)
    elif "retry-after" in lowered:
        found = _when(lowered["retry-after"], now)
        if found is not None:
            times.append(found)
    for key, value in lowered.items():
        if key.endswith("-reset") and key.startswith("anthropic-ratelimit-"):
            found = _when(value, now)
        elif key.startswith("x-ratelimit-reset-"):
            seconds = _duration(value)
            found = now + seconds if seconds is not None else None
        else:
            continue
        if found is not None:
            times.append(found)
    return max(times) if times else None


def limit_reset(error: BaseException) -> float | None:
    """When a usage-limit error clears: its headers, else its retry-after; None when unsaid."""
    found = reset_time(getattr(error, "headers", None))
    if found is not None:
        return found
    after = getattr(error, "retry_after", None)
    return time.time() + float(after) if after is not None and after >= 0 else None
