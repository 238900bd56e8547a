"""Wiring and running: configuration, the composition root, the local servers, the CLI and the front door."""
