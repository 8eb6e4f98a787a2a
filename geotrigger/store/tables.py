"""The tables: the one ``MetaData`` that Alembic's migrations and the repositories share.

Every aggregate the engine keeps: places (and the log of their changes), rule sets
(versioned, with the YAML they came from), consumers and their devices, device state,
decisions (kept for a configured time), moments, the frequency-cap ledger, the ledger of what
monitor and holdout rules would have fired, exits (for re-entry), the delivery outbox, weather
readings, and raw pings (only when keeping them is switched on; deleted after their time to
live).

Times are ``timestamp with time zone`` (UTC); event times that caps and cooldowns compare are
also kept as epoch seconds (``*_s``), the unit the engine computes in.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from geotrigger.store.types import Document, WkbGeometry

# Names for constraints and indexes, so that migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


def _stamp(name: str = "updated_at") -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=False)


places = Table(
    "places",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", Text, nullable=False),
    Column("brand", Text),
    Column("tags", Document, nullable=False),
    # A circle is its centre (a point) and a radius; a polygon has no radius.
    Column("geometry", WkbGeometry(), nullable=False),
    Column("radius_m", Float),
    Column("timezone", String(64)),
    Column("opening_hours", Text),
    Column("dwell_s", Float),
    Column("metadata", Document, nullable=False),
    _stamp(),
)
# the GiST index of places.geometry is made by the migration, on PostGIS only

# Every write to ``places`` appends the ids it touched, in commit order (writers hold a lock),
# so that a running engine reads only what changed since it last looked (store/place_feed.py).
place_changes = Table(
    "place_changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("place_id", String(200), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,  # never reuse a number, even once the log is pruned empty
)

rule_sets = Table(
    "rule_sets",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=True),
    Column("checksum", String(64), nullable=False, unique=True),
    Column("sources", Document, nullable=False),  # file name -> the YAML text, as applied
    Column("active", Boolean, nullable=False),
    _stamp("created_at"),
)

consumers = Table(
    "consumers",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("profile", Document, nullable=False),  # traits, segments, zone, affinities
    Column("consent", Document, nullable=False),  # purpose -> given
    _stamp(),
)

consumer_devices = Table(
    "consumer_devices",
    metadata,
    Column("device_id", String(200), primary_key=True),
    Column(
        "consumer_id",
        String(200),
        ForeignKey("consumers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)

device_state = Table(
    "device_state",
    metadata,
    Column("device_id", String(200), primary_key=True),
    Column("last_ping", Document),  # the last accepted ping
    Column("last_s", Float),
    Column("visits", Document, nullable=False),  # place id -> the visit (enter time, fixes)
    Column("pending", Document, nullable=False),  # enters and exits not yet confirmed
    Column("recent_ids", Document, nullable=False),  # for duplicate detection
    _stamp(),
)

moments = Table(
    "moments",
    metadata,
    Column("id", String(32), primary_key=True),  # deterministic: no double fire
    Column("rule_id", String(200), nullable=False, index=True),
    Column("consumer_id", String(200), nullable=False, index=True),
    Column("place_id", String(200), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("relevance", Float, nullable=False),
    Column("data", Document, nullable=False),
    _stamp("created_at"),
)

cap_ledger = Table(
    "cap_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(600), nullable=False),  # scope and ids, e.g. consumer_rule|c-1|r-1
    Column("at_s", Float, nullable=False),
    Column("moment_id", String(32), ForeignKey("moments.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("key", "moment_id"),
    Index("ix_cap_ledger_key_at_s", "key", "at_s"),
)

# What monitor rules and holdout groups would have fired: it counts for those rules' own caps,
# cooldowns and shared limits (see geotrigger.moments.shadow), and nothing is ever sent.
would_be_ledger = Table(
    "would_be_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", String(200), nullable=False),  # whose shadow
    Column("consumer_id", String(200), nullable=False, index=True),  # for erasure
    Column("key", String(600), nullable=False),
    Column("at_s", Float, nullable=False),
    Column("moment_id", String(32), nullable=False),
    UniqueConstraint("rule_id", "key", "moment_id"),
    Index("ix_would_be_ledger_rule_id_key_at_s", "rule_id", "key", "at_s"),
)

exits = Table(
    "exits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer_id", String(200), nullable=False),
    Column("place_id", String(200), nullable=False),
    Column("at_s", Float, nullable=False),
    Index("ix_exits_consumer_id_place_id_at_s", "consumer_id", "place_id", "at_s"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("moment_id", String(32), ForeignKey("moments.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(16), nullable=False),  # pending, sent, expired, dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    _stamp(),
    Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer_id", String(200), nullable=False),
    Column("rule_id", String(200), nullable=False),
    Column("place_id", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("gate", String(32)),
    Column("condition", String(32)),
    Column("moment_id", String(32)),
    Column("record", Document, nullable=False),  # the whole trace
    _stamp("created_at"),  # retention counts from here
    # one per candidate (decision_key); NULL in rows stored before migration 0006
    Column("key", String(32)),
    Index("ix_decisions_consumer_id_at", "consumer_id", "at"),
    Index("ix_decisions_created_at", "created_at"),
    Index("ix_decisions_key", "key", unique=True),  # NULLs never collide
)

# Every reading a weather sweep stored, numbered in commit order (writers hold a lock), so
# that a running engine reads only the readings stored since it last looked
# (store/weather_readings.py). One row per key, provider and observation time.
weather_readings = Table(
    "weather_readings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),  # place id or weather cell
    Column("source", String(64), nullable=False),  # the provider
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True)),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("reading", Document, nullable=False),  # every field of the reading
    UniqueConstraint("key", "source", "observed_at"),
    Index("ix_weather_readings_key_observed_at", "key", "observed_at"),
    sqlite_autoincrement=True,  # never reuse a number, even once old readings are pruned
)

raw_pings = Table(
    "raw_pings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(200), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
    Column("payload", Document, nullable=False),
)

# API keys: only a hash of the secret is kept; a key is shown once, when it is created.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),  # the public part of the key, e.g. "gk_3f9a..."
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(128), nullable=False),  # hex digest of the secret part
    Column("scopes", Document, nullable=False),  # sorted list: ingest, admin, read
    Column("rate_per_s", Float),  # requests per second; NULL: the service's default
    Column("device_prefix", String(200)),  # pings only for device ids starting so; NULL: any
    _stamp("created_at"),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)

# One row per moment and webhook destination: the delivery state the outbox relay keeps.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("moment_id", String(32), ForeignKey("moments.id", ondelete="CASCADE"), nullable=False),
    Column("destination", String(100), nullable=False),  # a destination's name in the config
    Column("status", String(16), nullable=False),  # pending, sent, expired, dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_status", Integer),  # the receiver's last HTTP status
    Column("last_error", Text),
    Column("sent_at", DateTime(timezone=True)),
    _stamp("created_at"),
    UniqueConstraint("moment_id", "destination"),
    Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
)

# What a moment achieved: delivered, opened, converted (once each), reported by the channel
# or the retailer. The moment is a fired one or, for the lift over holdout, a would-be moment
# of a holdout consumer (its id is in that decision): so no foreign key to ``moments``.
outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("moment_id", String(32), nullable=False),
    Column("rule_id", String(200), nullable=False),
    Column("consumer_id", String(200), nullable=False, index=True),  # for erasure
    Column("cohort", String(16), nullable=False),  # treated (fired) or holdout (would-be)
    Column("kind", String(16), nullable=False),  # delivered, opened, converted
    Column("at", DateTime(timezone=True), nullable=False),  # when it happened
    Column("data", Document, nullable=False),  # e.g. {"value": 12.5, "currency": "EUR"}
    _stamp("received_at"),
    UniqueConstraint("moment_id", "kind"),
    Index("ix_outcomes_rule_id_kind", "rule_id", "kind"),
)

# Ingestion receipts: a ping sent again (same device, same ping id) gets the answer it got the
# first time and is not processed twice. Keyed by a keyed digest of device and ping id, never
# the ids themselves; pruned after a day.
ping_receipts = Table(
    "ping_receipts",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("result", Document, nullable=False),  # the per-ping answer that was given
    _stamp("received_at"),
    Index("ix_ping_receipts_received_at", "received_at"),
)

# When each scheduled job last ran, whichever process ran it: a second scheduler skips a
# sweep another one has just made (store/job_runs.py).
job_runs = Table(
    "job_runs",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("finished_at", DateTime(timezone=True), nullable=False),
)
