"""geotrigger: a location and environment trigger engine."""

__version__ = "0.1.0"
