"""The benchmark harness (issue 7): load, raw ceilings, projector throughput and growth; see bench/README.md."""
