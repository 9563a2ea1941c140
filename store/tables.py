"""Imports every table module so ``SQLModel.metadata`` knows all tables (alembic, tests)."""

import store.change_models  # noqa: F401
import store.models  # noqa: F401
import store.oncall_models  # noqa: F401
import store.otel_models  # noqa: F401
import store.outbox_models  # noqa: F401
import store.report_models  # noqa: F401
import store.runbook_models  # noqa: F401
import store.signal_models  # noqa: F401
import store.slack_models  # noqa: F401
import store.watch_models  # noqa: F401
