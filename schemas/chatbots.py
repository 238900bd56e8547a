"""What a chatbot answers with, as every side names it."""

# `openai`: any OpenAI-compatible endpoint; `echo`: offline, replies with the last message.
PROVIDERS = ("openai", "echo")
