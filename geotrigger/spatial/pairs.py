"""The exact tests of (point, place) pairs against a :class:`~geotrigger.spatial.table.PlaceTable`.

:func:`test_pairs` decides many candidate (point, slot) pairs at once, without per-pair Python:
one cap test on unit vectors settles circles and prefilters polygons, then polygons get a box
test, the vectorised cover test and, when a distance is asked for, their edge distances.
"""

from __future__ import annotations

import numpy as np
from shapely.geometry.base import BaseGeometry

from geotrigger.spatial.geodesy import EARTH_RADIUS_M, distance_for_chord, distance_to_geometry_m
from geotrigger.spatial.polygons import covers, edge_distance
from geotrigger.spatial.table import (
    BoolArray,
    FloatArray,
    IntArray,
    Pings,
    PlaceTable,
    lon_margin_deg,
    slack_deg,
)


def test_pairs(
    table: PlaceTable,
    pings: Pings,
    ping: IntArray,
    slot: IntArray,
    within_m: float,
    chord2: FloatArray,
) -> tuple[BoolArray, FloatArray]:
    """Decide (point, slot) pairs: whether the place is within ``within_m``, and how far out.

    ``chord2`` is :meth:`PlaceTable.chord2` for ``within_m`` (callers cache it). Returns the
    decision per pair and the distance outside in metres (valid where the decision is True).
    """
    keep = np.zeros(len(ping), dtype=bool)
    dist = np.zeros(len(ping))
    # One cap test for every pair (the circle itself, or a cap holding the polygon widened by
    # within_m) decides circles and prefilters polygons.
    d2 = _chord2_between(np.take(pings.xyz, ping, axis=0), np.take(table.xyz, slot, axis=0))
    hit = np.flatnonzero(d2 <= np.take(chord2, slot))
    poly = table.is_poly[slot[hit]]
    ci = hit[~poly]
    keep[ci] = True
    if within_m > 0.0 and len(ci):
        out = distance_for_chord(np.sqrt(d2[ci])) - np.take(table.radius_m, slot[ci])
        dist[ci] = np.maximum(out, 0.0)
    pi = hit[poly]
    if len(pi):
        keep[pi], dist[pi] = _test_polygons(table, pings, ping[pi], slot[pi], within_m)
    return keep, dist


def _chord2_between(a: FloatArray, b: FloatArray) -> FloatArray:
    """Squared chord between rows of two (n, 3) arrays of unit vectors, column by column."""
    acc = a[:, 0] - b[:, 0]
    acc *= acc
    for k in (1, 2):
        t = a[:, k] - b[:, k]
        t *= t
        acc += t
    return acc


def _test_polygons(
    table: PlaceTable, pings: Pings, ping: IntArray, slot: IntArray, within_m: float
) -> tuple[BoolArray, FloatArray]:
    lat, lon = pings.lat[ping], pings.lon[ping]
    b = table.bounds[slot]
    keep = np.zeros(len(ping), dtype=bool)
    dist = np.zeros(len(ping))
    if within_m <= 0.0:
        box = (lon >= b[:, 0]) & (lon <= b[:, 2]) & (lat >= b[:, 1]) & (lat <= b[:, 3])
        idx = np.flatnonzero(box)
        keep[idx] = covers(table, slot[idx], lon[idx], lat[idx])
        return keep, dist
    m_lat = slack_deg(np.full(len(ping), np.degrees(within_m / EARTH_RADIUS_M)))
    m_lon = lon_margin_deg(table, slot, within_m)
    centre, half = (b[:, 0] + b[:, 2]) / 2.0, (b[:, 2] - b[:, 0]) / 2.0
    off = np.abs((lon - centre + 540.0) % 360.0 - 180.0)
    box = (lat >= b[:, 1] - m_lat) & (lat <= b[:, 3] + m_lat) & (off <= half + m_lon)
    idx = np.flatnonzero(box)
    inside = covers(table, slot[idx], lon[idx], lat[idx])
    keep[idx[inside]] = True
    out = idx[~inside]
    if len(out) == 0:
        return keep, dist
    d = np.empty(len(out))
    so = slot[out]
    big = table.huge[so]
    fine = np.flatnonzero(~big)
    if len(fine):
        d[fine] = edge_distance(table, pings.xyz[ping[out[fine]]], so[fine])
    for k in np.flatnonzero(big).tolist():
        j = int(ping[out[k]])
        geom: BaseGeometry = table.dense[so[k]]
        d[k] = distance_to_geometry_m(geom, float(pings.lat[j]), float(pings.lon[j]))
    near = d <= within_m
    keep[out[near]] = True
    dist[out[near]] = d[near]
    return keep, dist
