"""HTTP API of GDR Santé (FastAPI). :func:`assistant.api.app.create_app` is the composition root."""
