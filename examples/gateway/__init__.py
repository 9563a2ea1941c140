"""A toy AI model gateway that the shipped runbooks act on (``python -m examples.gateway``)."""
