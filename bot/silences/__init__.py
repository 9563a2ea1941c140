"""Silences and maintenance windows: alerts that are recorded but page nobody."""
