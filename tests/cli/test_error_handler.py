"""The one place that maps exceptions to exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exec_auto.error_handler import run_guarded
from exec_auto.errors import LockHeldError


def _boom() -> int:
    raise ValueError("unexpected state")


def test_internal_errors_exit_3_and_write_the_traceback(capsys, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("EXEC_AUTO_DEBUG", raising=False)
    assert run_guarded(_boom) == 3
    err = capsys.readouterr().err
    assert "internal error: ValueError: unexpected state" in err and "Traceback" not in err
    log = Path(re.search(r"traceback is in (\S+)", err).group(1))
    assert "ValueError: unexpected state" in log.read_text()


def test_debug_prints_the_traceback(capsys, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EXEC_AUTO_DEBUG", "1")
    assert run_guarded(_boom) == 3
    assert "Traceback" in capsys.readouterr().err


def test_user_errors_are_one_line_plus_hint(capsys):
    def held() -> int:
        raise LockHeldError("ticket 't' is being run by pid 1", hint="wait for it")

    assert run_guarded(held) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["exec-auto: error: ticket 't' is being run by pid 1", "  hint: wait for it"]


def test_ctrl_c_is_130(capsys):
    def interrupted() -> int:
        raise KeyboardInterrupt

    assert run_guarded(interrupted) == 130
