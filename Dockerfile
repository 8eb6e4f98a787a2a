# The geotrigger image: the engine, its migrations, the shipped places, moments and examples.
# Wheels of shapely, rtree and psycopg2-binary carry their native libraries: no system packages.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY geotrigger ./geotrigger
COPY providers ./providers
RUN pip install --no-cache-dir -e . -e ./providers

# Migrations are read from the source folder (alembic/), as in a checkout.
COPY alembic ./alembic
COPY rules ./rules
COPY examples ./examples
COPY docker ./docker

RUN useradd --create-home geotrigger && mkdir -p /app/data && chown geotrigger /app/data
USER geotrigger

# Migrate the database first, then run the command given.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["geotrigger", "--help"]
