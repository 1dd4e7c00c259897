"""Keep secrets out of everything exec-auto writes: progress.yaml, reports, logs, agent results.

`redact` replaces three kinds of secret with `[REDACTED]`: the values of environment variables
whose names look secret, the values in the repository's `.env*` files, and strings shaped like
well-known API keys. It is called on every string that leaves the process, so the expensive parts
(the combined pattern, each parsed `.env` file) are cached and rebuilt only when their inputs change.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

REDACTED = "[REDACTED]"

# Shorter values are too likely to be ordinary words ("true", "admin") to replace everywhere.
_MIN_SECRET_LENGTH = 8

_SECRET_NAME = re.compile(
    r"(API_?KEY|_TOKEN$|^TOKEN$|_PAT$|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY|ACCESS_KEY"
    r"|^ANTHROPIC_.*KEY|^OPENAI_.*KEY|_AUTH_TOKEN|_KEY$)",
    re.IGNORECASE,
)

# Shapes of keys issued by common providers, caught even when they come from nowhere we know.
_KEY_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"sk-ant-[A-Za-z0-9_\-]{8,}"
    r"|sk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|AIza[0-9A-Za-z_\-]{30,}"
    r"|hf_[A-Za-z0-9]{30,}"
    r")"
)
_BEARER = re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/\-]{16,}=*")
# Every key shape starts with one of these: a text holding none of them skips the (slow) regex,
# which matters for logs of megabytes of ordinary output.
_SHAPE_PREFIXES = ("sk-", "gh", "github_pat_", "AKIA", "xox", "AIza", "hf_")

# Template files hold placeholders, not secrets.
_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".defaults")


def redact(text: str, *, repo_root: Path | None = None) -> str:
    """`text` with secret values (env, repo_root/.env*, known key shapes) replaced by [REDACTED]."""
    if not text:
        return text
    values = set(_env_secrets())
    if repo_root is not None:
        values.update(_dotenv_secrets(repo_root))
    pattern = _values_pattern(frozenset(values))
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    if any(prefix in text for prefix in _SHAPE_PREFIXES):
        text = _KEY_SHAPES.sub(REDACTED, text)
    if "bearer" in text.lower():
        text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def is_secret_name(name: str) -> bool:
    """True when an environment variable's name says it holds a secret."""
    return _SECRET_NAME.search(name) is not None


def _worth_redacting(value: str) -> bool:
    # Paths in secret-named variables (credential files) are locations, not secrets.
    return len(value) >= _MIN_SECRET_LENGTH and not value.startswith(("/", "~", "./"))


def _env_secrets() -> list[str]:
    # Read on every call (cheap) so a changed environment is never missed; the regex is cached.
    return [v for k, v in os.environ.items() if is_secret_name(k) and _worth_redacting(v)]


def _dotenv_secrets(repo_root: Path) -> list[str]:
    values: list[str] = []
    try:
        candidates = sorted(repo_root.glob(".env*"))
    except OSError:
        return values
    for path in candidates:
        if path.name.endswith(_TEMPLATE_SUFFIXES):
            continue
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            values.extend(_parse_dotenv(path, stat.st_mtime_ns, stat.st_size))
    return values


@functools.lru_cache(maxsize=64)
def _parse_dotenv(path: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    """The values of KEY=VALUE lines (mtime and size are part of the cache key, not used)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ()
    values = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        value = line.split("=", 1)[1].strip()
        if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) >= 2:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if len(value) >= _MIN_SECRET_LENGTH:
            values.append(value)
    return tuple(values)


@functools.lru_cache(maxsize=32)
def _values_pattern(values: frozenset[str]) -> re.Pattern[str] | None:
    if not values:
        return None
    # Longest first, so a secret that contains another is replaced whole.
    ordered = sorted(values, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in ordered))
