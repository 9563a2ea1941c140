"""Secrets and endpoints from the environment; the catalog file holds everything else."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    def token_for(self, source: str) -> str | None:
        """The bearer token a webhook source must present (its override, else the shared one)."""
        override = getattr(self, f"{source}_token", None)
        return override or self.webhook_token
