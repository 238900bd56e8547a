"""The write side: HTTP commands, the event-sourced write model, and the relay to Kafka."""
