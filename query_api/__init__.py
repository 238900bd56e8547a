"""The read side's HTTP API: the GET endpoints, answered from MongoDB read models only."""
