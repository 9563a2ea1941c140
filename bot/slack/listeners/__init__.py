"""Thin Slack listeners: ack at once (no I/O), parse, call the domain in a lazy function."""
