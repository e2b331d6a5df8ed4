"""Routes of the API; each module exposes ``router`` and calls the services."""
