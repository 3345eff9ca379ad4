"""Command line: `python -m codeflow_contracts export-schemas [DIR]`."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from codeflow_contracts.schemas import export_schemas

# src/codeflow_contracts/__main__.py -> the package's project directory in a source checkout.
_PROJECT_DIR = Path(__file__).resolve().parents[2]


def _default_schema_dir() -> Path | None:
    if (_PROJECT_DIR / "pyproject.toml").is_file():
        return _PROJECT_DIR / "schemas"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m codeflow_contracts")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser(
        "export-schemas",
        help="write one JSON Schema per message type",
        description="Write `<type>.json` for every message type, removing schemas of types "
        "that no longer exist.",
    )
    export.add_argument(
        "directory",
        nargs="?",
        type=Path,
        help="where to write (default: libs/contracts/schemas in a source checkout)",
    )
    args = parser.parse_args(argv)

    directory: Path | None = args.directory or _default_schema_dir()
    if directory is None:
        parser.error("no source checkout found to write into; pass DIR")
    written = export_schemas(directory)
    print(f"wrote {len(written)} schemas to {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
