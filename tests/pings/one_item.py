"""What the tests of the client parsers (OwnTracks, Overland, OsmAnd) check of an answer that
should hold one fix: exactly one item, and of the kind expected."""

from __future__ import annotations

from geotrigger.model import Ping, Rejection, RejectReason


def only(items: list[Ping | Rejection]) -> Ping | Rejection:
    """The one item of ``items``."""
    assert len(items) == 1
    return items[0]


def only_ping(items: list[Ping | Rejection]) -> Ping:
    """The one item, which must be a Ping."""
    item = only(items)
    assert isinstance(item, Ping), item
    return item


def only_rejection(items: list[Ping | Rejection]) -> Rejection:
    """The one item, which must be the rejection of a record that could not be read."""
    item = only(items)
    assert isinstance(item, Rejection), item
    assert item.reason is RejectReason.MALFORMED
    return item
