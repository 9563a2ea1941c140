"""Secrets and endpoints from the environment; the catalog file holds everything else."""

from __future__ import annotations

import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")


class Settings(BaseSettings):
    """Read once at start. Each field is an environment variable of the same name."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = Field(default="sqlite:///resilio.db", alias="DATABASE_URL")
    db_pool_size: int = Field(default=10, alias="RESILIO_DB_POOL_SIZE")
    db_max_overflow: int = Field(default=20, alias="RESILIO_DB_MAX_OVERFLOW")
    db_pool_timeout: float = Field(default=5.0, alias="RESILIO_DB_POOL_TIMEOUT")

    config_path: str | None = Field(default=None, alias="RESILIO_CONFIG")

    webhook_token: str | None = Field(default=None, alias="RESILIO_WEBHOOK_TOKEN")
    # Per-source overrides: a source with its own token accepts only that one.
    alertmanager_token: str | None = Field(default=None, alias="RESILIO_ALERTMANAGER_TOKEN")
    grafana_token: str | None = Field(default=None, alias="RESILIO_GRAFANA_TOKEN")
    generic_token: str | None = Field(default=None, alias="RESILIO_GENERIC_TOKEN")
    api_token: str | None = Field(default=None, alias="RESILIO_API_TOKEN")
    # People's own API tokens, "U…:token" pairs separated by commas: each acts as that
    # Slack user (and in the user groups Slack reports for them).
    user_tokens: str | None = Field(default=None, alias="RESILIO_USER_TOKENS")
    otlp_token: str | None = Field(default=None, alias="RESILIO_OTLP_TOKEN")
    # Signed change webhooks: each source has its own secret; unset, the source is closed.
    mlflow_webhook_secret: str | None = Field(default=None, alias="RESILIO_MLFLOW_WEBHOOK_SECRET")
    github_webhook_secret: str | None = Field(default=None, alias="RESILIO_GITHUB_WEBHOOK_SECRET")
    argocd_token: str | None = Field(default=None, alias="RESILIO_ARGOCD_TOKEN")
    change_webhook_secret: str | None = Field(default=None,
                                              alias="RESILIO_CHANGE_WEBHOOK_SECRET")

    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")

    public_url: str = Field(default="http://localhost:8080", alias="RESILIO_PUBLIC_URL")
    max_body_bytes: int = Field(default=5 * 1024 * 1024, alias="RESILIO_MAX_BODY_BYTES")
    run_scheduler: bool = Field(default=True, alias="RESILIO_RUN_SCHEDULER")
    # Stored signals older than this are pruned daily; keep it above the longest SLO window.
    signal_retention_days: float = Field(default=35.0, gt=0, alias="RESILIO_SIGNAL_RETENTION_DAYS")
    leader_poll_seconds: float = Field(default=5.0, alias="RESILIO_LEADER_POLL_SECONDS")
    # Follow-up work (bot.core.outbox): how often each replica looks for due rows, how long a
    # claim holds before another worker may take the row, and attempts before "dead".
    outbox_poll_seconds: float = Field(default=2.0, gt=0, alias="RESILIO_OUTBOX_POLL_SECONDS")
    outbox_lease_seconds: float = Field(default=120.0, gt=0, alias="RESILIO_OUTBOX_LEASE_SECONDS")
    outbox_max_attempts: int = Field(default=8, ge=1, alias="RESILIO_OUTBOX_MAX_ATTEMPTS")
    # A runbook run whose heartbeat is older than this lost its process and is taken over
    # (its runner beats four times per period).
    runbook_stale_seconds: float = Field(default=20.0, gt=0, alias="RESILIO_RUNBOOK_STALE_SECONDS")
    # Test-only: leave follow-up rows untouched until they are this old, so a crash test
    # can kill the server "right after the answer" with the work certainly not yet done.
    outbox_hold_seconds: float = Field(default=0.0, ge=0, alias="RESILIO_OUTBOX_HOLD_SECONDS")

    @field_validator("user_tokens")
    @classmethod
    def _pairs(cls, value: str | None) -> str | None:
        for pair in (value or "").split(","):
            user, _, token = pair.strip().partition(":")
            if pair.strip() and not (_SLACK_USER.fullmatch(user) and token.strip()):
                raise ValueError(f"RESILIO_USER_TOKENS: {user or pair!r} is not "
                                 "'<Slack user id>:<token>' (e.g. U024BE7LH:s3cret)")
        return value

    def person_tokens(self) -> dict[str, str]:
        """Slack user id -> that person's token."""
        pairs = (pair.strip().partition(":") for pair in (self.user_tokens or "").split(","))
        return {user: token.strip() for user, _, token in pairs if user}

    def webhook_tokens(self) -> list[str]:
        """Every token that may post alerts, signals or changes."""
        tokens = (self.webhook_token, self.alertmanager_token, self.grafana_token,
                  self.generic_token)
        return [token for token in tokens if token]

    def token_for(self, source: str) -> str | None:
        """The bearer token a webhook source must present (its override, else the shared one)."""
        override = getattr(self, f"{source}_token", None)
        return override or self.webhook_token


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def exposure_problem(settings: Settings, host: str) -> str | None:
    """Why ``serve`` must not listen on ``host`` with these settings; None when it may.

    Every endpoint is closed without tokens, so such a server would answer nothing
    but 401 to the network: refusing to start says so at once, and the same check
    keeps the webhook token from carrying the API's rights.
    """
    webhooks = settings.webhook_tokens()
    api = [t for t in (settings.api_token, *settings.person_tokens().values()) if t]
    if host not in LOOPBACK_HOSTS and not host.startswith("127.") and not (webhooks or api):
        return (f"refusing to listen on {host}: no token is set, so anyone on the network "
                "would meet an API without keys. Set RESILIO_WEBHOOK_TOKEN (alerts, signals, "
                "changes) and RESILIO_API_TOKEN (the JSON API), or listen on 127.0.0.1")
    if set(webhooks) & set(api):
        return ("a webhook token is also an API token: the token given to Alertmanager "
                "would read incidents and run runbooks. Give RESILIO_API_TOKEN and "
                "RESILIO_USER_TOKENS values of their own")
    return None
