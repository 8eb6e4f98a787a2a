"""The HTTP API: ingestion in geotrigger's own format and in real tracker apps' formats,
consumers, admin, explain, outcomes, health and metrics. The only package that knows HTTP."""
