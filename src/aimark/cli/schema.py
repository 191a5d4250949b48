"""``aimark schema``: print the report's JSON Schema (draft 2020-12), docs/report.schema.json."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_parser", "run_command", "schema_text"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``schema`` to the CLI's sub-commands."""
    sub.add_parser(
        "schema",
        help="print the JSON Schema of the verification report (verify --json, the service)",
        description="Print the JSON Schema (draft 2020-12) that every report of `aimark verify "
        "--json`, Report.to_dict() and the service's POST /v1/verify follows; the same file as "
        "docs/report.schema.json.",
    )


def schema_text() -> str:
    """The schema as the published file holds it (2-space indent, trailing newline)."""
    from aimark.server.openapi import report_json_schema

    return json.dumps(report_json_schema(), indent=2, ensure_ascii=False) + "\n"


def run_command(args: argparse.Namespace) -> int:
    """Run ``aimark schema``; returns the exit code."""
    print(schema_text(), end="")
    return 0
