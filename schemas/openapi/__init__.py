"""Our OpenAPI 3 document (SPEC §9.5): each operation's text, keyed by the name of the view that serves it, and
the document built from those texts and the routes the apps register (`document.py`)."""
