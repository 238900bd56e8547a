"""The read side's writers: Kafka consumers that project events into MongoDB read models."""
