"""Shared wiring of the API backends: one pydantic-ai agent run per task, bounded and accounted.

`anthropic_api` and `openai_api` only say how to build the model and shape the prompt; `ApiAgent`
runs the step: the repository tools (`api_tools`), usage limits (requests, tokens, USD),
retries with backoff on 429/5xx/timeouts (honouring retry-after), a detector for a model repeating
one tool call, and the mapping of whatever happened to an `AgentResult`. It never raises for model
or network failures. pydantic-ai is imported inside functions, so the registry can ask
`available()` and the CLI can show `--help` without loading it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from exec_auto.agents.api_tools import RepeatDetector, RepeatedToolCall, tool_set
from exec_auto.agents.base import STEP_MARKER, AgentEvent, AgentResult, AgentTask, ResultStatus
from exec_auto.agents.limits import LIMIT_SUBTYPE, is_usage_limit, limit_reset
from exec_auto.agents.tools import RepoTools
from exec_auto.config import AgentConfig
from exec_auto.redact import redact
from exec_auto.usage import Usage

if TYPE_CHECKING:
    from pydantic_ai.capabilities import Hooks
    from pydantic_ai.messages import ModelMessage, UserContent
    from pydantic_ai.models import Model
    from pydantic_ai.settings import ModelSettings

# The executor puts this line between the prompt's fixed part (identical across steps) and the
# per-step part, so backends can cache the fixed part.
# One HTTP attempt; the step's own deadline (task.timeout) bounds the whole run.
REQUEST_TIMEOUT = 600.0
MAX_BACKOFF = 60.0
SUMMARY_CHARS = 4000

SYSTEM_PROMPT = """\
You are a coding agent working unattended in a git repository. No one will answer questions:
make reasonable decisions yourself and finish the task in the user message.

Tools (paths are relative to the repository root and must stay inside it):
- list_files, grep and read_file to look around before changing anything;
- write_file to create or replace a whole file, edit_file to replace one exact, unique piece of text;
- run_command to run a shell command in the repository root (tests, linters, scripts).

Do not commit, push, reset, stash or clean: the harness manages git. Commands that destroy work or
reach outside the repository are refused. When you are done, reply with a short summary of what you
changed and anything you could not finish.
"""

ModelFactory = Callable[[], "Model"]
PromptShaper = Callable[[str], "str | Sequence[UserContent]"]


def split_prompt(prompt: str) -> tuple[str, str]:
    """(fixed prefix, per-step part) around STEP_MARKER; the prefix is '' when there is no marker."""
    prefix, marker, step = prompt.partition(STEP_MARKER)
    if not marker:
        return "", prompt
    return prefix, step.lstrip("\n")


def plain_prompt(prompt: str) -> str:
    """The prompt without the marker line, for models that cache prefixes on their own."""
    prefix, step = split_prompt(prompt)
    return prefix + step


class ApiAgent:
    """An Agent backed by a model API through pydantic-ai (see anthropic_api, openai_api)."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        name: str,
        build_model: ModelFactory,
        model_settings: Mapping[str, Any] | None = None,
        shape_prompt: PromptShaper = plain_prompt,
    ) -> None:
        self.name = name
        self.config = config
        self._build_model = build_model
        self._model_settings = dict(model_settings or {})
        self._shape_prompt = shape_prompt

    def run(self, task: AgentTask) -> AgentResult:
        """Carry out the task; failures come back as status error/timeout/limit, never raised."""
        try:
            return self._run(task)
        except Exception as exc:  # the backend's boundary: a step failure is logged, not raised
            message = redact(f"{type(exc).__name__}: {exc}", repo_root=task.repo_root)
            return AgentResult(status="error", error=message, subtype="error_exception")

    def _run(self, task: AgentTask) -> AgentResult:
        from pydantic_ai import Agent, capture_run_messages
        from pydantic_ai.exceptions import ModelAPIError, RunTimedOut, UsageLimitExceeded
        from pydantic_ai.usage import UsageLimits

        timeout = task.timeout or self.config.step_timeout
        deadline = time.monotonic() + timeout
        tools = RepoTools(task.repo_root, deadline=deadline, sandbox=task.sandbox)
        notes: list[AgentEvent] = []
        agent: Agent[None, str] = Agent(
            self._build_model(),
            instructions=SYSTEM_PROMPT,
            tools=tool_set(tools, RepeatDetector(), read_only=task.kind == "judge"),
            capabilities=[retry_hooks(self.config, notes, deadline)],
            retries=3,
        )
        budget = self.config.max_budget_usd
        limits = UsageLimits(
            # One model request is one turn: --max-turns bounds API backends as it bounds Claude Code.
            request_limit=min(self.config.max_requests, self.config.max_turns),
            total_tokens_limit=self.config.max_tokens,
            cost_limit=Decimal(str(budget)) if budget is not None else None,
        )
        # The SDK's own retries are off: retry_hooks owns retrying, with the configured bounds.
        settings = cast(
            "ModelSettings", {**self._model_settings, "max_retries": 0, "timeout": REQUEST_TIMEOUT}
        )
        status: ResultStatus = "ok"
        subtype, error, output = "success", None, ""
        reset: float | None = None
        with capture_run_messages() as messages:
            try:
                result = agent.run_sync(
                    self._shape_prompt(task.prompt),
                    usage_limits=limits,
                    model_settings=settings,
                    timeout=timeout,
                )
                output = result.output
            except RunTimedOut:
                status, subtype = "timeout", "error_timeout"
                error = f"the step did not finish within {timeout:g} s"
            except RepeatedToolCall as exc:
                status, subtype, error = "limit", "error_repeated_tool_call", str(exc)
                notes.append(AgentEvent("agent_loop", f"stopped: {exc}"))
            except UsageLimitExceeded as exc:
                status, subtype = "limit", _limit_subtype(str(exc))
                error = str(exc).split(". Consider raising", 1)[0]
            except ModelAPIError as exc:
                status, subtype, error = "error", "error_api", api_error_message(exc)
                if is_usage_limit(exc):
                    # It did not clear within the step's retries: the batch parks the ticket.
                    status, subtype, reset = "limit", LIMIT_SUBTYPE, limit_reset(exc)
            except Exception as exc:  # e.g. a malformed response: this step fails, the run goes on
                status, subtype = "error", "error_exception"
                error = f"{type(exc).__name__}: {exc}"
        if status == "ok" and (cut := _unfinished_response(messages)) is not None:
            # A stream that ended cleanly before its final event parses as a short answer.
            status, subtype = "error", "error_stream_cut"
            error = (
                f"the model's answer ended before its final event (response {cut} of the step "
                "has no stop reason): the stream was cut, the step is not done"
            )
        denied = [AgentEvent("sandbox_denied", d) for d in tools.denials]
        done = _result(
            task, status, subtype, output, error, messages, tools.incidents, [*notes, *denied]
        )
        return replace(done, limit_reset_at=reset) if reset is not None else done


def _unfinished_response(messages: Sequence[ModelMessage]) -> int | None:
    """The 1-based number of the first model response that never got its stop reason, if any."""
    from pydantic_ai.messages import ModelResponse

    responses = [m for m in messages if isinstance(m, ModelResponse)]
    for number, response in enumerate(responses, 1):
        if response.finish_reason is None:
            return number
    return None


def _limit_subtype(message: str) -> str:
    if "cost_limit" in message:
        return "error_max_budget_usd"
    if "request_limit" in message:
        return "error_max_requests"
    return "error_max_tokens"


def _result(
    task: AgentTask,
    status: ResultStatus,
    subtype: str,
    output: str,
    error: str | None,
    messages: Sequence[ModelMessage],
    incidents: Sequence[str],
    events: Sequence[AgentEvent] = (),
) -> AgentResult:
    from pydantic_ai.messages import ModelResponse

    root = task.repo_root
    responses = [m for m in messages if isinstance(m, ModelResponse)]
    total_in = sum(r.usage.input_tokens for r in responses)
    cache_read = sum(r.usage.cache_read_tokens for r in responses)
    cache_write = sum(r.usage.cache_write_tokens for r in responses)
    # Unknown models (a local server) have no price: they cost nothing we can measure.
    cost = sum((r.usage.cost for r in responses if r.usage.cost is not None), Decimal(0))
    summary = redact(output.strip(), repo_root=root)
    if len(summary) > SUMMARY_CHARS:
        summary = summary[:SUMMARY_CHARS] + " ..."
    return AgentResult(
        status=status,
        summary=summary,
        error=redact(error, repo_root=root) if error else None,
        subtype=subtype,
        usage=Usage(
            turns=len(responses),
            # As Anthropic counts them: input_tokens are the uncached ones.
            input_tokens=max(total_in - cache_read - cache_write, 0),
            output_tokens=sum(r.usage.output_tokens for r in responses),
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
            # Computed from token counts and a price table: an estimate, not a bill.
            estimated_cost_usd=float(cost),
        ),
        incidents=tuple(redact(i, repo_root=root) for i in incidents),
        events=tuple(AgentEvent(e.kind, redact(e.text, repo_root=root)) for e in events),
    )


# -- retries ---------------------------------------------------------------------------------


def retry_hooks(config: AgentConfig, notes: list[AgentEvent], deadline: float) -> Hooks[None]:
    """A capability retrying transient model errors up to config.retries times, with backoff."""
    import anyio
    from pydantic_ai import RunContext
    from pydantic_ai.capabilities import Hooks
    from pydantic_ai.exceptions import RetryModelRequest
    from pydantic_ai.messages import ModelResponse
    from pydantic_ai.models import ModelRequestContext

    backoff = config.retry_backoff
    hooks: Hooks[None] = Hooks()

    @hooks.on.model_request_error
    async def retry(
        ctx: RunContext[None], *, request_context: ModelRequestContext, error: Exception
    ) -> ModelResponse:
        attempt = request_context.attempt
        if not is_transient(error) or attempt > config.retries:
            raise error
        wait = retry_delay(error, attempt, backoff)
        if time.monotonic() + wait >= deadline:
            raise error
        notes.append(
            AgentEvent(
                "agent_retry",
                f"model request failed ({describe_error(error)}); "
                f"retry {attempt} of {config.retries} after {wait:.2f} s",
            )
        )
        await anyio.sleep(wait)
        raise RetryModelRequest()

    return hooks


def is_transient(error: BaseException) -> bool:
    """True for failures worth retrying unchanged: rate limits, 5xx, dropped or timed-out connections."""
    from pydantic_ai.exceptions import (
        ModelConnectionError,
        ModelHTTPError,
        ModelQuotaExceededError,
        ModelRateLimitError,
        ModelServerError,
        ModelUnavailableError,
    )

    if isinstance(error, ModelQuotaExceededError):
        return False
    if isinstance(
        error, ModelRateLimitError | ModelUnavailableError | ModelServerError | ModelConnectionError
    ):
        return True
    if isinstance(error, ModelHTTPError):
        return error.status_code in (408, 409, 429) or error.status_code >= 500
    return False


def retry_delay(error: BaseException, attempt: int, backoff: float) -> float:
    """The provider's retry-after when it gave one, else exponential backoff from `backoff`."""
    after = getattr(error, "retry_after", None)
    if after is None:
        # pydantic-ai reads whole seconds only; a fractional retry-after is still an instruction.
        headers = getattr(error, "headers", None) or {}
        try:
            after = float(headers.get("retry-after", ""))
        except ValueError:
            after = None
    if after is not None and after >= 0:
        return float(after)
    return float(min(backoff * 2 ** (attempt - 1), MAX_BACKOFF))


def api_error_message(error: BaseException) -> str:
    """'model API error: HTTP 500 from <model>: <the provider's message>' (or the plain error)."""
    code = getattr(error, "status_code", None)
    if code is None:
        return f"model API error: {type(error).__name__}: {error}"
    body = getattr(error, "body", None)
    detail = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        detail = detail.get("message") or detail
    model = getattr(error, "model_name", "the model")
    return f"model API error: HTTP {code} from {model}: {detail}"


def describe_error(error: BaseException) -> str:
    """A short description: 'HTTP 429 ModelRateLimitError' or the exception type and message."""
    code = getattr(error, "status_code", None)
    if code is not None:
        return f"HTTP {code} {type(error).__name__}"
    return f"{type(error).__name__}: {error}"
