"""pings layer."""
