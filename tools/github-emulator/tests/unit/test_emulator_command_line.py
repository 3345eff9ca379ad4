"""``python -m codeflow_github_emulator`` listens on loopback unless told otherwise."""

from codeflow_github_emulator import __main__ as command


def test_the_command_listens_on_loopback_port_9000_by_default() -> None:
    served = command.server_config([])
    assert (served.host, served.port) == ("127.0.0.1", 9000)
    assert command.server_config(["--port", "9100"]).port == 9100
