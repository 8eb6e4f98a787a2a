"""The weather providers installed, and their configuration from the environment.

Providers are plug-ins: a distribution registers a factory ``create(config) -> provider`` in
the entry-point group :data:`~geotrigger.weather.provider.ENTRY_POINT_GROUP` under the
provider's name (``open-meteo``, ``metno``, ``nws``, ``openweathermap``, ``file``, or a third
party's own). Nothing here imports a provider until it is created.

Configuration comes from variables ``GEOTRIGGER_WEATHER_<NAME>_<FIELD>``, NAME being the
provider's name upper-cased with ``-`` as ``_`` (``open-meteo``: ``OPEN_METEO``):

* the fields of :class:`~geotrigger.weather.provider.ProviderConfig` (:data:`TEXT_FIELDS`,
  :data:`NUMBER_FIELDS`), numbers checked here so that a typo names its variable;
  ``USER_AGENT`` falls back to ``GEOTRIGGER_WEATHER_USER_AGENT``, one for every provider;
  a text variable set to blanks counts as not set;
* ``INTERVAL_S``: how often a sweep reads the provider (:func:`sweep_interval_s`);
* anything else is a provider option, by its name lower-cased
  (``GEOTRIGGER_WEATHER_OPEN_METEO_PLAN=free``: ``options["plan"] == "free"``). A plug-in
  declares the options it accepts as ``OPTIONS`` (a collection of names), an attribute of its
  factory or of the factory's module (:func:`declared_options`); a variable that is neither a
  field nor a declared option is a typo, refused with a suggestion rather than silently
  ignored. A plug-in that declares nothing takes every other variable as an option.

``GEOTRIGGER_WEATHER_PROVIDERS`` names the providers a running service reads, comma-separated
(:func:`enabled_providers`). Domain code never reads the environment itself: callers pass it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from geotrigger.config import COUNT, NON_NEGATIVE, POSITIVE, NumberRule, checked_number, names_list
from geotrigger.errors import ConfigError, GeotriggerError
from geotrigger.suggest import did_you_mean
from geotrigger.weather.provider import ENTRY_POINT_GROUP, ProviderConfig, WeatherProvider

PREFIX = "GEOTRIGGER_WEATHER_"
PROVIDERS_VARIABLE = f"{PREFIX}PROVIDERS"
SHARED_USER_AGENT_VARIABLE = f"{PREFIX}USER_AGENT"
INTERVAL_FIELD = "INTERVAL_S"
DEFAULT_SWEEP_INTERVAL_S = 600.0

TEXT_FIELDS = ("base_url", "api_key", "user_agent")


# Number fields and what each accepts, as the HTTP client requires.
NUMBER_FIELDS: Mapping[str, NumberRule] = {
    "connect_timeout_s": POSITIVE,
    "read_timeout_s": POSITIVE,
    "max_attempts": COUNT,
    "backoff_s": NON_NEGATIVE,
    "max_backoff_s": NON_NEGATIVE,
    "rate_per_s": POSITIVE,
    "breaker_failures": COUNT,
    "breaker_reset_s": NON_NEGATIVE,
}


def _entry_points() -> list[EntryPoint]:
    return list(entry_points(group=ENTRY_POINT_GROUP))


def provider_names() -> list[str]:
    """The names of the installed providers, sorted."""
    return sorted({entry.name for entry in _entry_points()})


def env_name(name: str) -> str:
    """A provider's name as it appears in variable names: ``open-meteo`` → ``OPEN_METEO``."""
    return name.upper().replace("-", "_")


def variable(name: str, field: str) -> str:
    """The variable of one setting of a provider: ``GEOTRIGGER_WEATHER_NWS_USER_AGENT``."""
    return f"{PREFIX}{env_name(name)}_{field.upper()}"


def unknown_provider(name: str, *, where: str | None = None) -> ConfigError:
    """The error for a name no installed provider has: the installed ones, a suggestion."""
    installed = provider_names()
    listed = ", ".join(installed) if installed else "none (install geotrigger-providers)"
    given = f"{where}: " if where else ""
    return ConfigError(
        f"{given}unknown weather provider {name!r}{did_you_mean(name, installed)}; "
        f"installed: {listed}"
    )


def create_provider(config: ProviderConfig) -> WeatherProvider:
    """The provider ``config.name``, built by its plug-in's factory.

    ConfigError for a name no plug-in registers, a plug-in that cannot be loaded, a factory
    that fails other than with a GeotriggerError, or that returns no provider; the factory's
    own GeotriggerError (a ProviderConfigError, usually) passes through as it is.
    """
    factory = _factory(config.name)
    try:
        provider = factory(config)
    except GeotriggerError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"weather provider plug-in {config.name!r} failed to start: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(provider, WeatherProvider):
        raise ConfigError(
            f"weather provider plug-in {config.name!r} returned {type(provider).__name__!r}, "
            "not a provider (it needs name, fetch and close)"
        )
    return provider


def _factory(name: str) -> Callable[[ProviderConfig], Any]:
    """The factory registered under ``name``, loaded."""
    found = [entry for entry in _entry_points() if entry.name == name]
    targets = sorted({entry.value for entry in found})
    if not found:
        raise unknown_provider(name)
    if len(targets) > 1:
        raise ConfigError(
            f"weather provider {name!r} is registered by more than one plug-in: "
            f"{', '.join(targets)}; uninstall one"
        )
    try:
        factory = found[0].load()
    except Exception as exc:
        raise ConfigError(
            f"weather provider plug-in {name!r} ({targets[0]}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not callable(factory):
        raise ConfigError(f"weather provider plug-in {name!r} ({targets[0]}) is not callable")
    return factory


def declared_options(name: str) -> frozenset[str] | None:
    """The options provider ``name`` accepts: ``OPTIONS`` of its factory, else of the factory's
    module; None when no installed plug-in is named so or it declares none (then any option
    goes). ConfigError for a plug-in that cannot be loaded, or an ``OPTIONS`` that is not a
    collection of names."""
    if name not in provider_names():
        return None
    factory = _factory(name)
    declared = getattr(factory, "OPTIONS", None)
    if declared is None:
        declared = getattr(sys.modules.get(getattr(factory, "__module__", "")), "OPTIONS", None)
    if declared is None:
        return None
    if isinstance(declared, str) or not all(isinstance(option, str) for option in declared):
        raise ConfigError(
            f"weather provider plug-in {name!r}: OPTIONS must be a collection of option names"
        )
    return frozenset(option.lower() for option in declared)


def provider_config(name: str, environ: Mapping[str, str]) -> ProviderConfig:
    """The configuration of provider ``name`` from ``environ`` (see the module).

    ConfigError naming the variable and its value for a number that is not one or is out of
    range, and naming the variable (with the closest setting) for one that is neither a field
    nor an option the provider declares.
    """
    own = _own_variables(name, environ)
    values: dict[str, Any] = {}
    for field in TEXT_FIELDS:
        text = own.pop(field.upper(), None)
        if text is not None and text.strip():
            values[field] = text.strip()
    if "user_agent" not in values:
        shared = environ.get(SHARED_USER_AGENT_VARIABLE, "").strip()
        if shared:
            values["user_agent"] = shared
    for field, rule in NUMBER_FIELDS.items():
        text = own.pop(field.upper(), None)
        if text is not None:
            values[field] = checked_number(variable(name, field), text, rule)
    own.pop(INTERVAL_FIELD, None)
    options = {option.lower(): value for option, value in own.items()}
    _check_options(name, options)
    return ProviderConfig(name=name, options=options, **values)


def _check_options(name: str, options: Mapping[str, str]) -> None:
    """Refuse an option the provider does not declare: a misspelt variable would otherwise be
    dropped without a word (``..._USER_AGNET`` leaving the User-Agent unset)."""
    accepted = declared_options(name)
    if accepted is None:
        return
    unknown = sorted(set(options) - accepted)
    if not unknown:
        return
    settings = [*TEXT_FIELDS, *NUMBER_FIELDS, INTERVAL_FIELD, *sorted(accepted)]
    known = [variable(name, setting) for setting in settings]
    given = variable(name, unknown[0])
    listed = ", ".join(sorted(accepted)) if accepted else "none"
    raise ConfigError(
        f"{given} is not a setting of weather provider {name!r}{did_you_mean(given, known)}; "
        f"its options: {listed}"
    )


def _own_variables(name: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of provider ``name`` by what follows its prefix; those of another
    installed provider whose variable name is longer (``OPEN`` beside ``OPEN_METEO``) are
    theirs, not options of this one."""
    prefix = f"{PREFIX}{env_name(name)}_"
    others = [
        f"{PREFIX}{env_name(other)}_"
        for other in provider_names()
        if len(env_name(other)) > len(env_name(name)) and env_name(other).startswith(env_name(name))
    ]
    return {
        key[len(prefix) :]: value
        for key, value in environ.items()
        if key.startswith(prefix)
        and len(key) > len(prefix)
        and not any(key.startswith(o) for o in others)
    }


def sweep_interval_s(name: str, environ: Mapping[str, str]) -> float:
    """How often a sweep reads provider ``name``: ``GEOTRIGGER_WEATHER_<NAME>_INTERVAL_S``
    seconds, :data:`DEFAULT_SWEEP_INTERVAL_S` when unset; ConfigError unless positive."""
    name_of_variable = variable(name, INTERVAL_FIELD)
    text = environ.get(name_of_variable)
    if text is None:
        return DEFAULT_SWEEP_INTERVAL_S
    return float(checked_number(name_of_variable, text, POSITIVE))


def enabled_providers(environ: Mapping[str, str]) -> list[str]:
    """The providers named in ``GEOTRIGGER_WEATHER_PROVIDERS`` (comma-separated, spaces
    allowed), in the order given; [] when unset or empty. ConfigError for a name no installed
    provider has, or one named twice."""
    text = environ.get(PROVIDERS_VARIABLE, "")
    names = names_list(text)
    installed = set(provider_names())
    seen: set[str] = set()
    for name in names:
        if name not in installed:
            raise unknown_provider(name, where=f"{PROVIDERS_VARIABLE}={text!r}")
        if name in seen:
            raise ConfigError(f"{PROVIDERS_VARIABLE}={text!r}: provider {name!r} is named twice")
        seen.add(name)
    return names
