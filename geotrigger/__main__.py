"""``python -m geotrigger`` runs the command line."""

from geotrigger.cli import main

raise SystemExit(main())
