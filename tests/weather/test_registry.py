"""The provider registry: the installed plug-ins, their configuration from an environment given
as a dict, and every refusal naming its variable. Broken plug-ins are real distributions
written to a temporary folder on ``sys.path``, found through their entry points."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest

from geotrigger.errors import ConfigError
from geotrigger.weather.provider import (
    ENTRY_POINT_GROUP,
    ProviderConfig,
    ProviderConfigError,
    WeatherProvider,
)
from geotrigger.weather.registry import (
    DEFAULT_SWEEP_INTERVAL_S,
    NUMBER_FIELDS,
    create_provider,
    enabled_providers,
    env_name,
    provider_config,
    provider_names,
    sweep_interval_s,
    variable,
)

SHIPPED = {"open-meteo", "metno", "nws", "openweathermap", "file"}


def test_the_shipped_providers_are_registered_and_sorted() -> None:
    names = provider_names()
    assert set(names) >= SHIPPED
    assert names == sorted(set(names))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("open-meteo", "OPEN_METEO"), ("nws", "NWS"), ("openweathermap", "OPENWEATHERMAP")],
)
def test_names_in_variables_are_upper_case_with_underscores(name: str, expected: str) -> None:
    assert env_name(name) == expected
    assert variable(name, "base_url") == f"GEOTRIGGER_WEATHER_{expected}_BASE_URL"


# --- provider_config -----------------------------------------------------------------------------


def test_no_variables_give_the_defaults() -> None:
    assert provider_config("nws", {}) == ProviderConfig(name="nws")


def test_every_field_and_option_is_read_from_its_variable() -> None:
    environ = {
        "GEOTRIGGER_WEATHER_OPEN_METEO_BASE_URL": "http://127.0.0.1:8080",
        "GEOTRIGGER_WEATHER_OPEN_METEO_API_KEY": "k-123",
        "GEOTRIGGER_WEATHER_OPEN_METEO_USER_AGENT": "acme/1.0 (ops@example.org)",
        "GEOTRIGGER_WEATHER_OPEN_METEO_CONNECT_TIMEOUT_S": "1.5",
        "GEOTRIGGER_WEATHER_OPEN_METEO_READ_TIMEOUT_S": "4",
        "GEOTRIGGER_WEATHER_OPEN_METEO_MAX_ATTEMPTS": "3",
        "GEOTRIGGER_WEATHER_OPEN_METEO_BACKOFF_S": "0",
        "GEOTRIGGER_WEATHER_OPEN_METEO_MAX_BACKOFF_S": "12",
        "GEOTRIGGER_WEATHER_OPEN_METEO_RATE_PER_S": "0.5",
        "GEOTRIGGER_WEATHER_OPEN_METEO_BREAKER_FAILURES": "7",
        "GEOTRIGGER_WEATHER_OPEN_METEO_BREAKER_RESET_S": "90",
        "GEOTRIGGER_WEATHER_OPEN_METEO_PLAN": "free",
        "GEOTRIGGER_WEATHER_OPEN_METEO_BATCH": "20",
        "GEOTRIGGER_WEATHER_OPEN_METEO_INTERVAL_S": "300",  # the sweep's, not an option
        "GEOTRIGGER_WEATHER_NWS_USER_AGENT": "other/1.0",  # another provider's
        "GEOTRIGGER_WEATHER_CELL_M": "5000",  # a core setting
    }
    config = provider_config("open-meteo", environ)
    assert config == ProviderConfig(
        name="open-meteo",
        base_url="http://127.0.0.1:8080",
        api_key="k-123",
        user_agent="acme/1.0 (ops@example.org)",
        connect_timeout_s=1.5,
        read_timeout_s=4.0,
        max_attempts=3,
        backoff_s=0.0,
        max_backoff_s=12.0,
        rate_per_s=0.5,
        breaker_failures=7,
        breaker_reset_s=90.0,
        options={"plan": "free", "batch": "20"},
    )
    assert isinstance(config.max_attempts, int)
    assert "k-123" not in repr(config)


def test_the_user_agent_falls_back_to_the_shared_one() -> None:
    shared = {"GEOTRIGGER_WEATHER_USER_AGENT": "acme/1.0 (ops@example.org)"}
    assert provider_config("metno", shared).user_agent == "acme/1.0 (ops@example.org)"
    own = {**shared, "GEOTRIGGER_WEATHER_METNO_USER_AGENT": "metno-only/2.0"}
    assert provider_config("metno", own).user_agent == "metno-only/2.0"
    blank = {**shared, "GEOTRIGGER_WEATHER_METNO_USER_AGENT": "  "}
    assert provider_config("metno", blank).user_agent == "acme/1.0 (ops@example.org)"


def test_options_are_lower_cased_and_keep_their_value() -> None:
    environ = {
        "GEOTRIGGER_WEATHER_FILE_PATH": "Weather/Day.JSONL",
        "GEOTRIGGER_WEATHER_FILE_AT": "",
    }
    assert provider_config("file", environ).options == {"path": "Weather/Day.JSONL", "at": ""}


def test_a_longer_provider_name_keeps_its_variables() -> None:
    """``open`` would see ``GEOTRIGGER_WEATHER_OPEN_METEO_PLAN`` as option ``meteo_plan``; it is
    open-meteo's (installed), so it is not."""
    environ = {"GEOTRIGGER_WEATHER_OPEN_METEO_PLAN": "free", "GEOTRIGGER_WEATHER_OPEN_ZONE": "a"}
    assert provider_config("open", environ).options == {"zone": "a"}


BAD_NUMBERS = ["abc", "", "nan", "inf", "-1"]


@pytest.mark.parametrize("field", sorted(NUMBER_FIELDS))
@pytest.mark.parametrize("text", BAD_NUMBERS)
def test_a_bad_number_names_its_variable_and_value(field: str, text: str) -> None:
    name = f"GEOTRIGGER_WEATHER_NWS_{field.upper()}"
    with pytest.raises(ConfigError) as caught:
        provider_config("nws", {name: text})
    assert f"{name}={text!r}" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("max_attempts", "0"),
        ("max_attempts", "1.5"),
        ("breaker_failures", "0"),
        ("connect_timeout_s", "0"),
        ("read_timeout_s", "0"),
        ("rate_per_s", "0"),
    ],
)
def test_numbers_out_of_their_range_are_refused(field: str, text: str) -> None:
    name = f"GEOTRIGGER_WEATHER_METNO_{field.upper()}"
    with pytest.raises(ConfigError, match=rf"{name}='{re.escape(text)}': expected"):
        provider_config("metno", {name: text})


def test_zero_is_allowed_where_a_wait_may_be_none() -> None:
    environ = {f"GEOTRIGGER_WEATHER_NWS_{f}": "0" for f in ("BACKOFF_S", "BREAKER_RESET_S")}
    config = provider_config("nws", environ)
    assert (config.backoff_s, config.breaker_reset_s) == (0.0, 0.0)


# --- sweep_interval_s -----------------------------------------------------------------------------


def test_the_sweep_interval_defaults_to_ten_minutes() -> None:
    assert sweep_interval_s("nws", {}) == DEFAULT_SWEEP_INTERVAL_S == 600.0


def test_the_sweep_interval_is_read_per_provider() -> None:
    environ = {
        "GEOTRIGGER_WEATHER_NWS_INTERVAL_S": "120",
        "GEOTRIGGER_WEATHER_METNO_INTERVAL_S": "9",
    }
    assert sweep_interval_s("nws", environ) == 120.0
    assert sweep_interval_s("open-meteo", environ) == 600.0


@pytest.mark.parametrize("text", ["0", "-5", "soon", "inf"])
def test_a_sweep_interval_must_be_positive(text: str) -> None:
    with pytest.raises(ConfigError, match=f"GEOTRIGGER_WEATHER_OPEN_METEO_INTERVAL_S='{text}'"):
        sweep_interval_s("open-meteo", {"GEOTRIGGER_WEATHER_OPEN_METEO_INTERVAL_S": text})


# --- enabled_providers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (None, []),
        ("", []),
        ("  ", []),
        ("nws", ["nws"]),
        (" open-meteo , file,nws ", ["open-meteo", "file", "nws"]),
        ("metno,", ["metno"]),
    ],
)
def test_enabled_providers_in_the_order_given(text: str | None, names: list[str]) -> None:
    environ = {} if text is None else {"GEOTRIGGER_WEATHER_PROVIDERS": text}
    assert enabled_providers(environ) == names


def test_an_unknown_enabled_provider_is_named_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        enabled_providers({"GEOTRIGGER_WEATHER_PROVIDERS": "nws, open-meteoo"})
    message = str(caught.value)
    assert message.startswith("GEOTRIGGER_WEATHER_PROVIDERS='nws, open-meteoo': ")
    assert "unknown weather provider 'open-meteoo' (did you mean 'open-meteo'?)" in message
    assert "installed: file, metno, nws, open-meteo, openweathermap" in message


def test_a_provider_enabled_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"GEOTRIGGER_WEATHER_PROVIDERS=.*'nws' is named twice"):
        enabled_providers({"GEOTRIGGER_WEATHER_PROVIDERS": "nws,file, nws"})


# --- create_provider ------------------------------------------------------------------------------


def test_create_builds_the_named_provider() -> None:
    config = ProviderConfig(name="open-meteo", options={"plan": "free"})
    provider = create_provider(config)
    try:
        assert isinstance(provider, WeatherProvider)
        assert provider.name == "open-meteo"
    finally:
        provider.close()


def test_an_unknown_name_lists_the_installed_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        create_provider(ProviderConfig(name="metnoo"))
    assert str(caught.value) == (
        "unknown weather provider 'metnoo' (did you mean 'metno'?); "
        "installed: file, metno, nws, open-meteo, openweathermap"
    )


def test_a_provider_refusing_its_settings_passes_its_own_error() -> None:
    with pytest.raises(ProviderConfigError, match="user_agent"):
        create_provider(ProviderConfig(name="nws"))


PLUGIN = """
from geotrigger.weather.provider import FetchResult, ProviderConfigError


def crashing(config):
    raise RuntimeError("no licence file")


def refusing(config):
    raise ProviderConfigError(config.name, "option 'zone' is required")


def not_a_provider(config):
    return 42


class Quiet:
    name = "quiet"

    def fetch(self, cells):
        return FetchResult()

    def close(self):
        pass


def quiet(config):
    return Quiet()


def choosy(config):
    return Quiet()


choosy.OPTIONS = ("zone",)
"""


def install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **targets: str) -> None:
    """A real distribution on ``sys.path`` whose entry points (name = target) are ``targets``."""
    (tmp_path / "broken_weather.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "broken_weather-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-weather\nVersion: 0.1\n", encoding="utf-8"
    )
    lines = [f"{name} = {target}" for name, target in targets.items()]
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "broken_weather", raising=False)  # this test's own copy


def test_a_third_party_plugin_joins_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, quiet="broken_weather:quiet")
    assert "quiet" in provider_names()
    assert enabled_providers({"GEOTRIGGER_WEATHER_PROVIDERS": "quiet"}) == ["quiet"]
    assert create_provider(ProviderConfig(name="quiet")).name == "quiet"


def test_a_factory_that_crashes_is_a_config_error_naming_the_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, crashing="broken_weather:crashing")
    with pytest.raises(ConfigError) as caught:
        create_provider(ProviderConfig(name="crashing"))
    assert str(caught.value) == (
        "weather provider plug-in 'crashing' failed to start: RuntimeError: no licence file"
    )


def test_a_factory_refusing_with_a_typed_error_passes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, refusing="broken_weather:refusing")
    with pytest.raises(ProviderConfigError, match="option 'zone' is required"):
        create_provider(ProviderConfig(name="refusing"))


def test_a_factory_returning_no_provider_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, odd="broken_weather:not_a_provider")
    with pytest.raises(ConfigError, match="plug-in 'odd' returned 'int', not a provider"):
        create_provider(ProviderConfig(name="odd"))


def test_a_plugin_that_cannot_be_imported_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, gone="broken_weather_gone:create")
    with pytest.raises(ConfigError, match=r"plug-in 'gone' \(broken_weather_gone:create\) cannot"):
        create_provider(ProviderConfig(name="gone"))


def test_a_name_registered_twice_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, nws="broken_weather:quiet")
    with pytest.raises(ConfigError, match="'nws' is registered by more than one plug-in"):
        create_provider(ProviderConfig(name="nws", user_agent="acme/1.0"))
    assert provider_names().count("nws") == 1


def test_config_numbers_are_finite() -> None:
    config = provider_config("nws", {"GEOTRIGGER_WEATHER_NWS_READ_TIMEOUT_S": "1e3"})
    assert math.isfinite(config.read_timeout_s) and config.read_timeout_s == 1000.0


# --- options each provider declares ---------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "suggested"),
    [
        ("GEOTRIGGER_WEATHER_NWS_USER_AGNT", "GEOTRIGGER_WEATHER_NWS_USER_AGENT"),
        ("GEOTRIGGER_WEATHER_OPEN_METEO_PLANS", "GEOTRIGGER_WEATHER_OPEN_METEO_PLAN"),
        ("GEOTRIGGER_WEATHER_OPEN_METEO_APIKEY", "GEOTRIGGER_WEATHER_OPEN_METEO_API_KEY"),
        ("GEOTRIGGER_WEATHER_FILE_PATHS", "GEOTRIGGER_WEATHER_FILE_PATH"),
        ("GEOTRIGGER_WEATHER_METNO_READ_TIMEOUT", "GEOTRIGGER_WEATHER_METNO_READ_TIMEOUT_S"),
    ],
)
def test_a_misspelt_variable_is_refused_with_the_setting_it_resembles(
    given: str, suggested: str
) -> None:
    name = next(n for n in SHIPPED if given.startswith(f"GEOTRIGGER_WEATHER_{env_name(n)}_"))

    with pytest.raises(ConfigError) as caught:
        provider_config(name, {given: "s3cret-value"})

    message = str(caught.value)
    assert message.startswith(f"{given} is not a setting of weather provider {name!r}")
    assert f"(did you mean {suggested!r}?)" in message
    assert "s3cret-value" not in message


def test_the_options_a_provider_declares_are_listed() -> None:
    with pytest.raises(ConfigError, match=r"its options: batch, plan$"):
        provider_config("open-meteo", {"GEOTRIGGER_WEATHER_OPEN_METEO_ZONE": "a"})
    with pytest.raises(ConfigError, match=r"its options: none$"):
        provider_config("nws", {"GEOTRIGGER_WEATHER_NWS_PLAN": "free"})


def test_a_plugin_declaring_options_on_its_factory_has_them_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, choosy="broken_weather:choosy")

    config = provider_config("choosy", {"GEOTRIGGER_WEATHER_CHOOSY_ZONE": "b"})
    assert config.options == {"zone": "b"}
    with pytest.raises(ConfigError, match="did you mean 'GEOTRIGGER_WEATHER_CHOOSY_ZONE'"):
        provider_config("choosy", {"GEOTRIGGER_WEATHER_CHOOSY_ZONES": "b"})


def test_a_plugin_declaring_no_options_takes_any(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, quiet="broken_weather:quiet")

    config = provider_config("quiet", {"GEOTRIGGER_WEATHER_QUIET_ANYTHING": "x"})

    assert config.options == {"anything": "x"}


def test_the_repr_of_a_config_shows_no_secret() -> None:
    config = ProviderConfig(
        name="nws",
        base_url="https://proxy-user:pa55word@weather.example.org/v1?token=t0ken#part",
        api_key="k3y",
        options={"token": "0pt10n"},
    )

    shown = repr(config)

    assert "base_url='https://weather.example.org/v1'" in shown
    for secret in ("pa55word", "proxy-user", "t0ken", "k3y", "0pt10n", "options"):
        assert secret not in shown
    assert "name='nws'" in shown and "max_attempts=4" in shown
