"""Infrastructure, on two floors: the ground (HTTP plumbing, Kafka, dead letters, health, metrics, configuration),
which imports only `schemas/` and which every side builds on; and `infra/wiring/`, the roof that builds and runs
the system from all of them."""
