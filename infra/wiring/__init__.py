"""The roof of infra/: the composition root and what runs the system (the CLI, the local stack and its servers,
the WSGI entry points, the front door). The only room that imports across rooms; nothing but entry points
imports it."""
