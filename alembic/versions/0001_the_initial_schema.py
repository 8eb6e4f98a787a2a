"""The initial schema: every table of geotrigger.store.tables.

On PostgreSQL the PostGIS extension is created (it must be installed on the server) and the
places' geometry gets a GiST index; on SQLite geometries are WKB and need no extension.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 16:09:45.270460
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geotrigger.store.types import WkbGeometry

DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgis = op.get_bind().dialect.name == "postgresql"
    if postgis:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('consumers',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('profile', DOC, nullable=False),
    sa.Column('consent', DOC, nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consumers'))
    )
    op.create_table('decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('consumer_id', sa.String(length=200), nullable=False),
    sa.Column('rule_id', sa.String(length=200), nullable=False),
    sa.Column('place_id', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('gate', sa.String(length=32), nullable=True),
    sa.Column('condition', sa.String(length=32), nullable=True),
    sa.Column('moment_id', sa.String(length=32), nullable=True),
    sa.Column('record', DOC, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    op.create_index('ix_decisions_consumer_id_at', 'decisions', ['consumer_id', 'at'], unique=False)
    op.create_index('ix_decisions_created_at', 'decisions', ['created_at'], unique=False)

    op.create_table('device_state',
    sa.Column('device_id', sa.String(length=200), nullable=False),
    sa.Column('last_ping', DOC, nullable=True),
    sa.Column('last_s', sa.Float(), nullable=True),
    sa.Column('visits', DOC, nullable=False),
    sa.Column('pending', DOC, nullable=False),
    sa.Column('recent_ids', DOC, nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_device_state'))
    )
    op.create_table('exits',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('consumer_id', sa.String(length=200), nullable=False),
    sa.Column('place_id', sa.String(length=200), nullable=False),
    sa.Column('at_s', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exits'))
    )
    op.create_index('ix_exits_consumer_id_place_id_at_s', 'exits', ['consumer_id', 'place_id', 'at_s'], unique=False)

    op.create_table('moments',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('rule_id', sa.String(length=200), nullable=False),
    sa.Column('consumer_id', sa.String(length=200), nullable=False),
    sa.Column('place_id', sa.String(length=200), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('relevance', sa.Float(), nullable=False),
    sa.Column('data', DOC, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moments'))
    )
    op.create_index(op.f('ix_moments_consumer_id'), 'moments', ['consumer_id'], unique=False)
    op.create_index(op.f('ix_moments_rule_id'), 'moments', ['rule_id'], unique=False)

    op.create_table('places',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('brand', sa.Text(), nullable=True),
    sa.Column('tags', DOC, nullable=False),
    sa.Column('geometry', WkbGeometry(), nullable=False),
    sa.Column('radius_m', sa.Float(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('opening_hours', sa.Text(), nullable=True),
    sa.Column('dwell_s', sa.Float(), nullable=True),
    sa.Column('metadata', DOC, nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_places'))
    )
    if postgis:  # spatial queries in SQL (the in-memory index does the engine's matching)
        op.create_index("ix_places_geometry", "places", ["geometry"], postgresql_using="gist")
    op.create_table('raw_pings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', DOC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_pings'))
    )
    op.create_index(op.f('ix_raw_pings_received_at'), 'raw_pings', ['received_at'], unique=False)

    op.create_table('rule_sets',
    sa.Column('version', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('sources', DOC, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_rule_sets')),
    sa.UniqueConstraint('checksum', name=op.f('uq_rule_sets_checksum'))
    )
    op.create_table('weather_readings',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('reading', DOC, nullable=False),
    sa.PrimaryKeyConstraint('key', 'observed_at', name=op.f('pk_weather_readings'))
    )
    op.create_table('cap_ledger',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=600), nullable=False),
    sa.Column('at_s', sa.Float(), nullable=False),
    sa.Column('moment_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['moment_id'], ['moments.id'], name=op.f('fk_cap_ledger_moment_id_moments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cap_ledger')),
    sa.UniqueConstraint('key', 'moment_id', name=op.f('uq_cap_ledger_key_moment_id'))
    )
    op.create_index('ix_cap_ledger_key_at_s', 'cap_ledger', ['key', 'at_s'], unique=False)

    op.create_table('consumer_devices',
    sa.Column('device_id', sa.String(length=200), nullable=False),
    sa.Column('consumer_id', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['consumers.id'], name=op.f('fk_consumer_devices_consumer_id_consumers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_consumer_devices'))
    )
    op.create_index(op.f('ix_consumer_devices_consumer_id'), 'consumer_devices', ['consumer_id'], unique=False)

    op.create_table('outbox',
    sa.Column('moment_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['moment_id'], ['moments.id'], name=op.f('fk_outbox_moment_id_moments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('moment_id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_status_next_attempt_at', 'outbox', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_places_geometry", table_name="places")
    op.drop_index('ix_outbox_status_next_attempt_at', table_name='outbox')

    op.drop_table('outbox')
    op.drop_index(op.f('ix_consumer_devices_consumer_id'), table_name='consumer_devices')

    op.drop_table('consumer_devices')
    op.drop_index('ix_cap_ledger_key_at_s', table_name='cap_ledger')

    op.drop_table('cap_ledger')
    op.drop_table('weather_readings')
    op.drop_table('rule_sets')
    op.drop_index(op.f('ix_raw_pings_received_at'), table_name='raw_pings')

    op.drop_table('raw_pings')
    op.drop_table('places')
    op.drop_index(op.f('ix_moments_rule_id'), table_name='moments')
    op.drop_index(op.f('ix_moments_consumer_id'), table_name='moments')

    op.drop_table('moments')
    op.drop_index('ix_exits_consumer_id_place_id_at_s', table_name='exits')

    op.drop_table('exits')
    op.drop_table('device_state')
    op.drop_index('ix_decisions_created_at', table_name='decisions')
    op.drop_index('ix_decisions_consumer_id_at', table_name='decisions')

    op.drop_table('decisions')
    op.drop_table('consumers')
