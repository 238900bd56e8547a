"""Wire contracts: request and response bodies, error bodies, and the event envelope and payloads."""
