"""The incident domain: lifecycle, the service that changes incidents, escalation, post-mortems."""
