"""The webhook settings (SPEC 13), read once by settings.py: each mistake refused in one line."""

from __future__ import annotations

import pytest

from settings import Config, ConfigError


def test_the_defaults_deliver_and_keep_production_to_public_addresses() -> None:
    # when
    development = Config.from_env({})
    production = Config.from_env({"CASETIME_ENV": "production", "DATABASE_URL": "postgresql://db/casetime"})
    # then
    assert (development.webhook_delivery, development.webhook_retry_base_ms) == (True, 1000)
    assert development.webhook_private_allowed
    assert not production.webhook_private_allowed


def test_each_webhook_setting_is_read() -> None:
    # when
    config = Config.from_env(
        {
            "CASETIME_ENV": "production",
            "DATABASE_URL": "postgresql://db/casetime",
            "WEBHOOK_DELIVERY": "false",
            "WEBHOOK_RETRY_BASE_MS": "250",
            "WEBHOOK_ALLOW_PRIVATE": "true",
        }
    )
    # then
    assert (config.webhook_delivery, config.webhook_retry_base_ms, config.webhook_private_allowed) == (False, 250, True)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WEBHOOK_DELIVERY": "sometimes"}, "WEBHOOK_DELIVERY must be true or false, got 'sometimes'"),
        ({"WEBHOOK_RETRY_BASE_MS": "soon"}, "WEBHOOK_RETRY_BASE_MS must be a whole number, got 'soon'"),
        ({"WEBHOOK_RETRY_BASE_MS": "0"}, "WEBHOOK_RETRY_BASE_MS must be at least 1, got 0"),
        ({"WEBHOOK_ALLOW_PRIVATE": "2"}, "WEBHOOK_ALLOW_PRIVATE must be true or false, got '2'"),
    ],
)
def test_a_mistake_is_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Config.from_env(env)
    assert str(refused.value) == message
