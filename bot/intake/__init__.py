"""Alert intake: parse each source's webhook into ``IncomingAlert`` and store it.

``ingest_alerts`` (in :mod:`bot.intake.ingest`) is the one door alerts go through,
whatever the source; ``ingest_alert_records`` adapts exchange-format alert records.
"""

from bot.intake.ingest import IngestResult, ingest_alert_records, ingest_alerts
from bot.intake.model import IncomingAlert

__all__ = ["IncomingAlert", "IngestResult", "ingest_alert_records", "ingest_alerts"]
