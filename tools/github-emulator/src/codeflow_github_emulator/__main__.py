"""``python -m codeflow_github_emulator``: serve the emulator with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from codeflow_github_emulator.app import create_app
from codeflow_github_emulator.config import EmulatorSettings

KEEP_ALIVE_SECONDS = 75
"""How long the emulator keeps an idle connection: longer than its clients keep one (httpx's
5 s: auth's GitHub client, the tests' browsers), so the client always closes first. With
uvicorn's own 5 s, a request sent as the server closed the connection got no answer
(``RemoteProtocolError: Server disconnected without sending a response``)."""


def server_config(argv: list[str] | None = None) -> uvicorn.Config:
    parser = argparse.ArgumentParser(
        prog="python -m codeflow_github_emulator",
        description="Serve a local stand-in for GitHub's OAuth flow and REST API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9000, help="port to listen on")
    parser.add_argument("--log-level", default="info", help="uvicorn's log level")
    args = parser.parse_args(argv)
    return uvicorn.Config(
        create_app(EmulatorSettings()),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


def main(argv: list[str] | None = None) -> None:
    uvicorn.Server(server_config(argv)).run()


if __name__ == "__main__":
    main()
