"""Change events from the systems that make them (model and prompt registries, CI/CD,
GitOps, flag services), each verified by its own signature and turned into
exchange-format ``change`` records."""
