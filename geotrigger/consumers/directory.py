"""The consumers known to the engine, by id and by device, and who a ping speaks for.

A decision names a consumer, never a raw device id: a ping whose device belongs to no known
consumer is attributed to a pseudonymous id derived from the device id (keyed, see
:mod:`geotrigger.privacy`), stable across runs (so caps and history still add up) but not the
device id itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from geotrigger.consumers.profile import Consumer
from geotrigger.privacy import pseudonym

PSEUDONYM_PREFIX = "device-"


def pseudonymous_id(device_id: str, key: str = "") -> str:
    """The consumer id of a device that belongs to no known consumer: ``"device-"`` and 12
    hex digits of the device id's digest (HMAC-SHA256 with ``key``, SHA-256 without)."""
    return pseudonym(device_id, key=key, prefix=PSEUDONYM_PREFIX)


class ConsumerDirectory:
    """Consumers by id and by device; read-only once built.

    Ids and devices must be unique (the loader reports every clash with its line first);
    ValueError here means a caller built a directory by hand from clashing profiles.
    """

    __slots__ = ("_by_device", "_by_id")

    def __init__(self, consumers: Iterable[Consumer] = ()) -> None:
        by_id: dict[str, Consumer] = {}
        by_device: dict[str, Consumer] = {}
        for consumer in consumers:
            if consumer.id in by_id:
                raise ValueError(f"consumer id {consumer.id!r} is given twice")
            by_id[consumer.id] = consumer
            for device in consumer.devices:
                other = by_device.setdefault(device, consumer)
                if other is not consumer:
                    # The device id is not quoted: it may end up in logs.
                    raise ValueError(
                        f"consumers {other.id!r} and {consumer.id!r} claim the same device"
                    )
        self._by_id: Mapping[str, Consumer] = MappingProxyType(by_id)
        self._by_device: Mapping[str, Consumer] = MappingProxyType(by_device)

    @classmethod
    def empty(cls) -> ConsumerDirectory:
        """A directory without consumers: no consumers file was given."""
        return cls(())

    def get(self, consumer_id: str) -> Consumer | None:
        """The consumer with this id, or None."""
        return self._by_id.get(consumer_id)

    def for_device(self, device_id: str) -> Consumer | None:
        """The consumer that lists this device, or None."""
        return self._by_device.get(device_id)

    def resolve(
        self, consumer_id: str | None, device_id: str, *, key: str = ""
    ) -> tuple[str, Consumer | None]:
        """Who a ping speaks for: the consumer id to record and the profile, if known.

        The ping's own consumer id wins when given; else the consumer listing the device; else
        the device's pseudonymous id (:func:`pseudonymous_id`, with ``key``) with no profile.
        """
        if consumer_id:
            return consumer_id, self._by_id.get(consumer_id)
        consumer = self._by_device.get(device_id)
        if consumer is not None:
            return consumer.id, consumer
        return pseudonymous_id(device_id, key), None

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Consumer]:
        return iter(self._by_id.values())

    def __repr__(self) -> str:
        return f"ConsumerDirectory({len(self)} consumers)"
