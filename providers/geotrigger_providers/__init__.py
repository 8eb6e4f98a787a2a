"""Weather provider plug-ins for geotrigger, registered in the ``geotrigger.weather_providers``
entry-point group (see ``pyproject.toml``)."""
