"""persisted names: follow-up rows and scheduler jobs name what to run after the move

The restructure moved the functions that outbox rows and APScheduler jobs name.
Outbox rows now keep a stable follow-up name ("diagnose") instead of a code path;
stored timers point at the functions' new modules. Rows written before keep working.

Revision ID: 0008_names
Revises: 0008_checks
"""

import pickle

import sqlalchemy as sa
from alembic import op

revision = "0008_names"
down_revision = "0008_checks"
branch_labels = None
depends_on = None

# outbox handler (a code path before) -> follow-up name
HANDLERS = {
    "bot.reactions:classify_on_open": "diagnose",
    "bot.slack_channels:on_opened": "open-channel",
    "bot.escalation:on_opened": "arm-escalation",
    "bot.reactions:price_budget_impact": "price-budget-impact",
    "bot.slack_channels:on_changed": "refresh-summary",
    "bot.slack_channels:on_relabelled": "post-relabel",
    "bot.slack_channels:on_classified": "post-diagnosis",
    "bot.escalation:on_escalated": "page-escalation",
}
# scheduler job function before -> after
JOBS = {
    "bot.escalation:check_acknowledged": "bot.oncall.escalation:check_acknowledged",
    "bot.jobs:watch_job": "bot.scheduling.jobs:watch_job",
    "bot.jobs:burn_alerts_job": "bot.scheduling.jobs:burn_alerts_job",
    "bot.jobs:recover_runs_job": "bot.scheduling.jobs:recover_runs_job",
    "bot.jobs:prune_signals_job": "bot.scheduling.jobs:prune_signals_job",
    "bot.jobs:prune_outbox_job": "bot.scheduling.jobs:prune_outbox_job",
    "bot.jobs:release_holds_job": "bot.scheduling.jobs:release_holds_job",
}


def _rename(mapping: dict[str, str]) -> None:
    outbox = sa.table("outbox", sa.column("handler", sa.String))
    for old, new in mapping.items():
        op.execute(outbox.update().where(outbox.c.handler == old).values(handler=new))


def _move_jobs(mapping: dict[str, str]) -> None:
    """APScheduler keeps each job pickled; its ``func`` is a ``module:function`` text."""
    bind = op.get_bind()
    if not sa.inspect(bind).has_table("apscheduler_jobs"):
        return  # a database no scheduler has started on yet
    jobs = sa.table("apscheduler_jobs", sa.column("id", sa.String),
                    sa.column("job_state", sa.LargeBinary))
    for job_id, blob in bind.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        state = pickle.loads(blob)
        if state.get("func") in mapping:
            state["func"] = mapping[state["func"]]
            bind.execute(jobs.update().where(jobs.c.id == job_id)
                         .values(job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL)))


def upgrade() -> None:
    _rename(HANDLERS)
    _move_jobs(JOBS)


def downgrade() -> None:
    _rename({new: old for old, new in HANDLERS.items()})
    _move_jobs({new: old for old, new in JOBS.items()})
