"""The shared API-agent pieces that need no server: prompt splitting, retry delays, loop detection."""

from __future__ import annotations

import pytest
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelRequestRejectedError,
    ModelTimeoutError,
)

from exec_auto.agents.api_agent import (
    MAX_BACKOFF,
    STEP_MARKER,
    is_transient,
    plain_prompt,
    retry_delay,
    split_prompt,
)
from exec_auto.agents.api_tools import RepeatDetector, RepeatedToolCall


def test_split_prompt_at_the_marker() -> None:
    prompt = f"fixed part\n\n{STEP_MARKER}\nstep part\n"
    assert split_prompt(prompt) == ("fixed part\n\n", "step part\n")
    assert plain_prompt(prompt) == "fixed part\n\nstep part\n"
    assert split_prompt("no marker") == ("", "no marker")


def http_error(code: int, headers: dict[str, str] | None = None) -> ModelHTTPError:
    return ModelHTTPError(code, "m", body=None, headers=headers)


def test_retry_delay_honours_retry_after_even_when_fractional() -> None:
    assert retry_delay(http_error(429, {"retry-after": "7"}), attempt=1, backoff=2.0) == 7.0
    assert retry_delay(http_error(429, {"retry-after": "0.25"}), attempt=1, backoff=2.0) == 0.25
    assert retry_delay(http_error(429, {"retry-after-ms": "1500"}), attempt=1, backoff=2.0) == 1.5


def test_retry_delay_backs_off_exponentially_up_to_a_cap() -> None:
    delays = [retry_delay(http_error(500), attempt=n, backoff=2.0) for n in (1, 2, 3)]
    assert delays == [2.0, 4.0, 8.0]
    assert retry_delay(http_error(500), attempt=20, backoff=2.0) == MAX_BACKOFF


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (http_error(429), True),
        (http_error(500), True),
        (http_error(503), True),
        (http_error(408), True),
        (ModelTimeoutError("m", "read timed out"), True),
        (ModelConnectionError("m", "connection reset"), True),
        (http_error(400), False),
        (http_error(401), False),
        (ModelRequestRejectedError("m", "too long"), False),
        (ModelAPIError("m", "unknown"), False),
        (ValueError("not an API error"), False),
    ],
)
def test_only_transient_failures_are_retried(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


def test_repeat_detector_counts_identical_calls_in_a_row() -> None:
    detector = RepeatDetector(limit=3)
    detector.note("read_file", {"path": "a"})
    detector.note("read_file", {"path": "a"})
    detector.note("read_file", {"path": "b"})  # different arguments reset the count
    detector.note("read_file", {"path": "b"})
    with pytest.raises(RepeatedToolCall, match=r"read_file .* 3 times in a row"):
        detector.note("read_file", {"path": "b"})
