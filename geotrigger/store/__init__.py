"""The only place that knows SQLAlchemy: tables, migrations, connections, repositories."""
