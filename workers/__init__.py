"""LLM workers: consume chat message events, ask the chatbot's LLM, and record replies on the write model."""
