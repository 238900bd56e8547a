"""The write side's HTTP views: parse and validate, run one command, wait for the read model, answer."""
