"""Entry point of the ``gdr`` console script."""

from __future__ import annotations

import importlib

from assistant.cli.common import app

# Each module registers its commands on the shared apps when imported. One module per command or
# command group, named after it: ``gdr X`` lives in ``X_cmd.py``.
_COMMAND_MODULES = (
    "assistant.cli.corpora_cmd",
    "assistant.cli.db_cmd",
    "assistant.cli.ingest_cmd",
    "assistant.cli.serve_cmd",
    "assistant.cli.index_cmd",
    "assistant.cli.search_cmd",
    "assistant.cli.signal_cmd",
    "assistant.cli.eval_cmd",
    "assistant.cli.train_cmd",
    "assistant.cli.triage_cmd",
    "assistant.cli.run_cmd",
    "assistant.cli.users_cmd",
    "assistant.cli.ask_cmd",
    "assistant.cli.audit_cmd",
    "assistant.cli.queue_cmd",
    "assistant.cli.jobs_cmd",
    "assistant.cli.consistency_cmd",
    "assistant.cli.feedback_cmd",
    "assistant.cli.report_cmd",
    "assistant.cli.schemas_cmd",
    "assistant.cli.backup_cmd",
)


def build_app():  # type: ignore[no-untyped-def]
    for name in _COMMAND_MODULES:
        importlib.import_module(name)
    return app


def main() -> None:
    import sys

    from assistant.cli.common import undecodable_argument
    from assistant.cli.i18n import install_french

    problem = undecodable_argument(sys.argv[1:])
    if problem:
        print(f"Erreur : {problem}", file=sys.stderr)
        raise SystemExit(2)
    install_french()
    build_app()(prog_name="gdr")


if __name__ == "__main__":
    main()
