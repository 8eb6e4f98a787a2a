"""The running API of these tests (see running.py)."""

from tests.api.running import api

__all__ = ["api"]
