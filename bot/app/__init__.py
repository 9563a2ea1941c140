"""The composition root: the HTTP app, the server, wiring and warm-up."""
