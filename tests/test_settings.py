"""PREFLENS_* settings: a value PrefLens cannot use is one line naming the variable and
what it must hold, exit 2, on every command (never a traceback); good values still parse."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from preflens.config import Settings, get_settings
from preflens.errors import PrefLensError, SettingsError
from tests.conftest import REPO

BAD = {
    "CORS_ORIGINS": ("[oops", "JSON list"),
    "API_PORT": ("abc", "an integer from 0 to 65535"),
    "SQLITE_BUSY_TIMEOUT_MS": ("-1", "an integer >= 0"),
    "API_POLICIES": ("notjson", "JSON object"),
    "DATABASE_URL": ("notaurl", "SQLAlchemy URL"),
}


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFLENS_")}
    return subprocess.run(
        [sys.executable, "-m", "preflens", *args],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("name", sorted(BAD))
def test_get_settings_raises_one_line_naming_the_variable(monkeypatch, name):
    value, expected = BAD[name]
    monkeypatch.setenv(f"PREFLENS_{name}", value)
    get_settings.cache_clear()
    with pytest.raises(SettingsError) as info:
        get_settings()
    message = str(info.value)
    assert isinstance(info.value, PrefLensError)
    assert f"PREFLENS_{name}" in message and expected in message
    assert "\n" not in message and "validation error" not in message


@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("command", [["datasets"], ["serve"], ["score", "--help"]])
def test_every_command_prints_one_line_and_exits_2(tmp_path, name, command):
    value, expected = BAD[name]
    out = run_cli(
        *command, env={f"PREFLENS_{name}": value, "PREFLENS_DATA_DIR": str(tmp_path / "d")}
    )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"error: bad setting: PREFLENS_{name}: expected ")
    assert expected in lines[0]
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_secrets_are_never_echoed(monkeypatch):
    monkeypatch.setenv("PREFLENS_DATABASE_URL", "postgresql+nosuchdriver://u:hunter2@h/db")
    get_settings.cache_clear()
    with pytest.raises(SettingsError) as info:
        get_settings()
    assert "hunter2" not in str(info.value) and "PREFLENS_DATABASE_URL" in str(info.value)


def test_several_bad_variables_are_named_on_one_line(monkeypatch):
    monkeypatch.setenv("PREFLENS_API_PORT", "abc")
    monkeypatch.setenv("PREFLENS_MAX_PAGE_SIZE", "0")
    get_settings.cache_clear()
    with pytest.raises(SettingsError) as info:
        get_settings()
    message = str(info.value)
    assert "PREFLENS_API_PORT" in message
    assert "PREFLENS_MAX_PAGE_SIZE: expected an integer >= 1" in message
    assert "\n" not in message


def test_good_values_still_parse(monkeypatch, tmp_path):
    env = {
        "PREFLENS_CORS_ORIGINS": "http://a, http://b",
        "PREFLENS_API_POLICIES": '{"dpo": "/models/dpo"}',
        "PREFLENS_DATABASE_URL": "postgresql+psycopg://pl@127.0.0.1:5432/postgres",
        "PREFLENS_API_PORT": "9000",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    s = get_settings()
    assert s.cors_origins == ["http://a", "http://b"]
    assert s.api_policies == {"dpo": "/models/dpo"} and s.api_port == 9000
    assert s.resolved_database_url == env["PREFLENS_DATABASE_URL"]
    assert Settings(cors_origins='["http://c"]').cors_origins == ["http://c"]
    monkeypatch.setenv("PREFLENS_API_POLICIES", "")
    monkeypatch.setenv("PREFLENS_DATABASE_URL", " ")
    get_settings.cache_clear()
    s = get_settings()
    assert s.api_policies == {} and s.database_url is None
    assert s.resolved_database_url.startswith("sqlite:///")
