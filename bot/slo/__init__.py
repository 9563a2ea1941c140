"""Quality-aware SLOs: definitions, budgets, burn-rate alerts and incident budget impact."""
