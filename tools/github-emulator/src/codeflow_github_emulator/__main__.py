"""``python -m codeflow_github_emulator``: serve the emulator with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from codeflow_github_emulator.app import create_app
from codeflow_github_emulator.config import EmulatorSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m codeflow_github_emulator",
        description="Serve a local stand-in for GitHub's OAuth flow and REST API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9000, help="port to listen on")
    parser.add_argument("--log-level", default="info", help="uvicorn's log level")
    args = parser.parse_args(argv)
    uvicorn.run(
        create_app(EmulatorSettings()), host=args.host, port=args.port, log_level=args.log_level
    )


if __name__ == "__main__":
    main()
