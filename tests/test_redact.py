"""Secrets (API keys, .env values, key-shaped strings) never survive `redact`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from exec_auto.redact import REDACTED, is_secret_name, redact


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No secrets from the machine running the tests."""
    for name in list(os.environ):
        if is_secret_name(name):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    "name",
    [
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "DB_PASSWORD",
        "MY_CLIENT_SECRET_VALUE",
        "ANTHROPIC_AUTH_TOKEN",
        "STRIPE_KEY",
    ],
)
def test_secret_env_values_are_redacted(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "v4lue-0f-the-secret")
    assert redact("got v4lue-0f-the-secret twice: v4lue-0f-the-secret") == (
        f"got {REDACTED} twice: {REDACTED}"
    )


def test_ordinary_or_short_env_values_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "vim-deluxe-edition")
    monkeypatch.setenv("SHORT_TOKEN", "abc")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/home/me/creds.json")
    text = "vim-deluxe-edition abc /home/me/creds.json"
    assert redact(text) == text


def test_a_changed_environment_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_TOKEN", "first-secret-value")
    assert redact("first-secret-value") == REDACTED
    monkeypatch.setenv("SERVICE_TOKEN", "second-secret-value")
    assert redact("first-secret-value second-secret-value") == f"first-secret-value {REDACTED}"


def test_dotenv_values_are_redacted(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# comment=not-a-secret-at-all\n"
        "DATABASE_URL=postgres://user:pw-1234567@db/app\n"
        "export QUOTED='quoted value here'\n"
        'DOUBLE="double-quoted-secret"\n'
        "INLINE=inline-secret-val # trailing comment\n"
        "DEBUG=true\n"
    )
    (tmp_path / ".env.local").write_text("LOCAL_ONLY=local-secret-value\n")
    (tmp_path / ".env.example").write_text("PLACEHOLDER=placeholder-value\n")
    text = (
        "postgres://user:pw-1234567@db/app | quoted value here | double-quoted-secret | "
        "inline-secret-val | local-secret-value | placeholder-value | true | not-a-secret-at-all"
    )
    assert redact(text, repo_root=tmp_path) == (
        f"{REDACTED} | {REDACTED} | {REDACTED} | {REDACTED} | {REDACTED} | "
        "placeholder-value | true | not-a-secret-at-all"
    )
    # Without the repository, only what the environment and key shapes say is redacted.
    assert redact(text) == text


def test_an_edited_dotenv_file_is_reread(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("A=old-secret-value\n")
    assert redact("old-secret-value", repo_root=tmp_path) == REDACTED
    env.write_text("A=brand-new-secret-value\n")
    assert redact("brand-new-secret-value", repo_root=tmp_path) == REDACTED


def test_longest_secret_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A_TOKEN", "abcdefgh")
    monkeypatch.setenv("B_TOKEN", "abcdefgh-and-more")
    assert redact("x abcdefgh-and-more y") == f"x {REDACTED} y"


@pytest.mark.parametrize(
    "secret",
    [
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",
        "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx",
        "sk-AbCdEfGhIjKlMnOpQrStUvWx",
        "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123",
        "github_pat_11ABCDEFG0123456789_abcdefghij",
        "AKIAIOSFODNN7EXAMPLE",
        "xoxb-1234567890-abcdefghij",
    ],
)
def test_key_shapes_are_redacted_wherever_they_come_from(secret: str) -> None:
    assert redact(f"error: invalid key {secret}.") == f"error: invalid key {REDACTED}."


def test_bearer_tokens_keep_their_scheme() -> None:
    assert redact("Authorization: Bearer abc.def-ghi_jkl.mnopqrstu") == (
        f"Authorization: Bearer {REDACTED}"
    )


def test_ordinary_text_is_untouched() -> None:
    text = "task-based risk-free desk-lamp sk-short AKIA ghp_short, exit code 1, 12345678"
    assert redact(text) == text
    assert redact("") == ""
