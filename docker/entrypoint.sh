#!/bin/sh
# Migrate the database (GEOTRIGGER_DATABASE_URL) to the newest schema, wait for it if it is
# still starting, then run the command given. Every start migrates: upgrading is idempotent.
set -eu

tries=0
until geotrigger db upgrade; do
    tries=$((tries + 1))
    if [ "$tries" -ge 30 ]; then
        echo "entrypoint: the database is still not reachable; giving up" >&2
        exit 1
    fi
    sleep 2
done
exec "$@"
