"""The ``segments`` condition: the consumer is in at least one of ``any_of``, in every one of
``all_of`` and in none of ``none_of``. An unknown consumer fails: no segment is known."""

from __future__ import annotations

from collections.abc import Mapping

from geotrigger.moments.decision import Candidate, ConditionResult
from geotrigger.rules.model import SegmentTest


def check_segments(test: SegmentTest, candidate: Candidate) -> ConditionResult:
    """Whether the consumer's segments pass ``test``."""
    if candidate.consumer is None:
        return _result(False, "unknown consumer: segments unknown", {"segments": None})
    segments = candidate.consumer.segments
    seen = {"segments": sorted(segments)}
    if test.any_of and segments.isdisjoint(test.any_of):
        return _result(False, f"in none of the segments {_names(test.any_of)}", seen)
    missing = test.all_of - segments
    if missing:
        return _result(False, f"not in the segments {_names(missing)}", seen)
    barred = test.none_of & segments
    if barred:
        return _result(False, f"in the excluded segments {_names(barred)}", seen)
    return _result(True, f"segments fit ({_names(segments) or 'none'})", seen)


def _names(segments: frozenset[str]) -> str:
    return ", ".join(sorted(segments))


def _result(held: bool, reason: str, seen: Mapping[str, object]) -> ConditionResult:
    return ConditionResult(name="segments", held=held, reason=reason, seen=seen)
