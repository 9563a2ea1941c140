"""What every part shares: errors, events, metrics, services, the clock, the exchange
format, the outbox of follow-up work and the scheduler."""
