"""``python -m codeflow_github_emulator`` listens on loopback unless told otherwise."""

import pytest
import uvicorn

from codeflow_github_emulator import __main__ as command


def test_the_command_listens_on_loopback_port_9000_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, object] = {}

    def fake_run(app: object, **options: object) -> None:
        seen.update(options)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    command.main([])
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 9000)
    command.main(["--port", "9100"])
    assert seen["port"] == 9100
