"""Queries of the read models: plain functions of explicit arguments, which never read the HTTP request."""
