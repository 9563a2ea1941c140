"""Acting once per Slack request, even when Slack retries or a person double-clicks.

The key is claimed with an insert under a unique constraint, so two replicas (or
two threads) racing on the same event agree on which one acts.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.core.services import Services
from store.db import session_scope
from store.slack_models import SlackProcessedRequest


def first_time(services: Services, key: str, kind: str) -> bool:
    """True the first time ``key`` is seen; False for every repeat."""
    try:
        with session_scope(services.engine) as session:
            session.add(SlackProcessedRequest(key=key[:300], kind=kind,
                                              processed_at=services.clock()))
        return True
    except IntegrityError:
        return False
