"""Settings: one registry, overridable by option and by CONSENT_TRACKER_* environment variables."""

from __future__ import annotations

import pytest

from tracker.config import settings


def test_defaults() -> None:
    values = settings.resolve_all(environ={})
    assert values["db"].endswith("data/tracker.db")
    assert values["timeout"] == 10.0 and values["max-redirects"] == 5 and values["allow-private"] is False


def test_environment_overrides_default_and_option_overrides_environment() -> None:
    env = {
        "CONSENT_TRACKER_DB": "/tmp/other.db",
        "CONSENT_TRACKER_TIMEOUT": "2.5",
        "CONSENT_TRACKER_ALLOW_PRIVATE": "yes",
    }
    assert settings.get("db", environ=env) == "/tmp/other.db"
    assert settings.get("timeout", environ=env) == 2.5
    assert settings.get("allow-private", environ=env) is True
    assert settings.get("db", "/x.db", environ=env) == "/x.db"


@pytest.mark.parametrize(
    ("name", "raw"), [("timeout", "-1"), ("timeout", "abc"), ("max-redirects", "0"), ("allow-private", "maybe")]
)
def test_bad_values_are_clear_errors(name: str, raw: str) -> None:
    env = {settings.SETTINGS[name].env: raw}
    with pytest.raises(settings.SettingError, match=settings.SETTINGS[name].env):
        settings.get(name, environ=env)


def test_user_agent_names_the_contact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENT_TRACKER_USER_AGENT", raising=False)
    ua = settings.user_agent(contact="https://example.org/crawler")
    assert ua.startswith("consent-tracker/") and "+https://example.org/crawler" in ua
