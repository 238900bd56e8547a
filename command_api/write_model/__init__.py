"""The write model's plumbing: the eventsourcing application, its event stores and encoding, and the repository
that loads an aggregate by id and kind."""
