#!/bin/sh
# Wait for the database (GEOTRIGGER_DATABASE_URL) to answer, migrate it to the newest schema,
# then run the command given. Every start migrates: upgrading is idempotent. A failing
# migration stops the container at once (only an unreachable database is waited for).
set -eu

tries=0
until geotrigger db current >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 30 ]; then
        echo "entrypoint: the database is still not reachable; giving up" >&2
        geotrigger db current
        exit 1
    fi
    sleep 2
done
geotrigger db upgrade
exec "$@"
