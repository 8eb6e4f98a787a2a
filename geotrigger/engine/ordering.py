"""Re-ordering pings by their own timestamps, within a bounded lateness.

Devices and networks deliver fixes late and out of order. :class:`Reorderer` holds pings in a
heap keyed by timestamp and releases them once the **watermark** — the newest timestamp seen,
minus ``lateness_s`` — has passed them, so a ping that arrives up to ``lateness_s`` late still
takes its place in time order. A ping that arrives later than that is released at once, in
arrival order; if it is older than its device's last accepted ping, the out-of-order filter
rejects it (it never makes a transition). Ties keep arrival order.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable

from geotrigger.model import Ping


class Reorderer:
    """A heap with a watermark: push pings in arrival order, get them back in time order.

    Most streams arrive nearly in order, so a ping no older than every ping before it goes to
    the end of a queue that stays sorted (no heap work at all); only a ping that overtakes
    others goes to the heap. Release takes the smaller head of the two, by (time, arrival).
    """

    def __init__(self, lateness_s: float) -> None:
        """``lateness_s``: how late (in event time) a ping may arrive and still be ordered."""
        self.lateness_s = lateness_s
        self._in_order: deque[tuple[float, int, Ping]] = deque()
        self._heap: list[tuple[float, int, Ping]] = []
        self._seq = 0
        self._newest = -math.inf

    def __len__(self) -> int:
        return len(self._in_order) + len(self._heap)

    @property
    def watermark(self) -> float:
        """Epoch seconds before which every ping has been released."""
        return self._newest - self.lateness_s

    def push(self, ping: Ping, out: list[Ping]) -> None:
        """Take one ping; append to ``out`` the pings that are now safe to release, in order."""
        ts = ping.epoch_s
        self._seq += 1
        if ts >= self._newest:
            self._in_order.append((ts, self._seq, ping))
            self._newest = ts
        else:
            heapq.heappush(self._heap, (ts, self._seq, ping))
        self._release(self._newest - self.lateness_s, out)

    def push_all(self, pings: Iterable[Ping]) -> list[Ping]:
        """Push many pings; the released ones, in time order."""
        out: list[Ping] = []
        for ping in pings:
            self.push(ping, out)
        return out

    def flush(self, out: list[Ping]) -> None:
        """Release everything still held (end of the input), in time order."""
        self._release(math.inf, out)

    def _release(self, watermark: float, out: list[Ping]) -> None:
        queue, heap = self._in_order, self._heap
        while queue and not heap:  # the common case: nothing overtook
            if queue[0][0] > watermark:
                return
            out.append(queue.popleft()[2])
        while queue or heap:
            if heap and (not queue or heap[0] < queue[0]):
                if heap[0][0] > watermark:
                    return
                out.append(heapq.heappop(heap)[2])
            else:
                if queue[0][0] > watermark:
                    return
                out.append(queue.popleft()[2])
