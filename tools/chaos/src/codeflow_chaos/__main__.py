"""``python -m codeflow_chaos <command>``: each command's parser comes from its own module."""

from __future__ import annotations

import argparse
import sys

from codeflow_chaos.run_cli import add_run_parser
from codeflow_chaos.workload_cli import add_workload_parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeflow_chaos")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_run_parser(subparsers)
    add_workload_parser(subparsers)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
