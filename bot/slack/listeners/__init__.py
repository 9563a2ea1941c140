"""Thin Slack listeners, one module per surface: ack at once (no I/O), parse, call the
domain after the ack, send what a view built.

``commands`` (``/incident``), ``runbooks`` (``/runbook``, its buttons and form),
``oncall`` (``/oncall``, ``/silence``), ``slo`` (``/slo``, ``/budget``), ``actions`` (the
summary's buttons), ``views`` (modal submissions), ``events`` (reactions, mentions).
Each handler is a top-level function; a module's ``register(app, services)`` only binds
them (:func:`bot.slack.listeners.common.acked`).
"""
