"""The contract of a suppression gate, and the two ways a gate answers.

A gate is a small object with a ``name`` (one of :data:`GATE_ORDER`) and a ``check``. It is
pure: it reads only the candidate, the history and its own settings (fixed when it is built),
never a clock, a file or a database, so the same inputs always give the same answer. It says
pass, or suppressed with the reason in plain words and the values it saw; ``monitor`` and
``holdout`` suppress with ``would_fire`` set, because by the time they run every other gate
has said yes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from geotrigger.moments.decision import Candidate, GateResult
from geotrigger.moments.history import History


class Gate(Protocol):
    """One suppression gate: pure, named, settings fixed when built."""

    @property
    def name(self) -> str:
        """The gate's name in traces: one of GATE_ORDER."""
        ...

    def check(self, candidate: Candidate, history: History) -> GateResult:
        """Pass, or why not, with the values seen."""
        ...


def passed(gate: str, reason: str, seen: Mapping[str, Any]) -> GateResult:
    """A gate's yes, with what it looked at."""
    return GateResult(gate=gate, passed=True, reason=reason, seen=seen)


def suppressed(
    gate: str, reason: str, seen: Mapping[str, Any], *, would_fire: bool = False
) -> GateResult:
    """A gate's no: why, and what it looked at."""
    return GateResult(gate=gate, passed=False, reason=reason, seen=seen, would_fire=would_fire)
