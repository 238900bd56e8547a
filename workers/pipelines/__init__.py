"""Chatbot pipelines."""
