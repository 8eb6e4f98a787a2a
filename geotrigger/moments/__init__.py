"""Deciding moments: candidates, conditions, relevance, the suppression gates, decisions."""
