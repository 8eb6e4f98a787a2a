"""The holdout bucket: which consumers are the control group of a rule.

A consumer's bucket for a rule is the first 8 bytes of ``sha256(rule_id, consumer_id)`` read
as a number in ``[0, 1)``. It is stable (the same consumer stays in or out of the control group
for the life of the rule, in every process) and uniform, and independent between rules, so the
control group of one rule is not the control group of every rule.
"""

from __future__ import annotations

import hashlib

_SCALE = float(2**64)


def holdout_bucket(rule_id: str, consumer_id: str) -> float:
    """The consumer's stable, uniform bucket in ``[0, 1)`` for this rule."""
    digest = hashlib.sha256(f"holdout\x1f{rule_id}\x1f{consumer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE
