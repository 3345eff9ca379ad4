"""A local stand-in for GitHub's OAuth web flow and REST API, quirks included.

``create_app(settings)`` builds the ASGI app; ``EmulatorSettings`` reads
``GITHUB_EMULATOR_*`` variables. See the package README for what is emulated.
"""

from codeflow_github_emulator.app import create_app
from codeflow_github_emulator.clock import Clock, ManualClock, SystemClock
from codeflow_github_emulator.config import EmulatorSettings

__all__ = ["Clock", "EmulatorSettings", "ManualClock", "SystemClock", "create_app"]
