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


def test_resolved_once_into_a_typed_object() -> None:
    env = {"CONSENT_TRACKER_TIMEOUT": "2.5", "CONSENT_TRACKER_DB": "/tmp/env.db"}
    s = settings.resolve({"db": "/x.db", "delay": None}, environ=env)
    assert [f.replace("_", "-") for f in s.__dataclass_fields__] == list(settings.SETTINGS)
    assert (s.db, s.timeout, s.delay) == ("/x.db", 2.5, settings.SETTINGS["delay"].default)
    assert s.values() == {**settings.resolve_all(environ=env), "db": "/x.db"}
    assert settings.Settings.from_values(s.values()) == s
    assert s.header() == settings.user_agent(s.user_agent, s.contact_url)
    with pytest.raises(AttributeError):
        s.db = "/y.db"  # type: ignore[misc]
    with pytest.raises(settings.SettingError, match="no such setting: tmeout"):
        settings.resolve({"tmeout": 3})


def test_a_bad_schedule_is_refused_by_the_settings_themselves() -> None:
    env = {"CONSENT_TRACKER_SCHEDULE_ROBOTS": "0 3 31 2 *"}
    with pytest.raises(settings.SettingError, match="never fires"):
        settings.resolve(environ=env)
    assert settings.parse_trigger("off") is None
