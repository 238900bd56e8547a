"""Event-sourced aggregates: the write model that every consistent decision is made on."""
