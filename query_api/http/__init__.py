"""The read side's HTTP views: parse the request, run one query, answer."""
