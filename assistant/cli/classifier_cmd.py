"""Commands registered on the shared apps (see assistant.cli.common)."""
