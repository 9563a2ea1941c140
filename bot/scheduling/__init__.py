"""Timed entry points: every job the scheduler persists, by name."""
