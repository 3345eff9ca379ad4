"""The gateway's one route under /api/ without a session: a deletion's progress, read by its
id (docs/adr/0024-deletion-progress-by-its-id.md). Read from the template itself; the real
nginx in front of the real janitor is in tests/e2e/test_e2e_erasure.py.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (REPO_ROOT / "deploy" / "gateway" / "nginx.conf.template").read_text()
# A location's arguments: an optional modifier, then its path or pattern, quoted or bare.
LOCATION = re.compile(
    r'^\s*location\s+(?P<args>(?:[~=^*@]+\s+)?(?:"[^"]*"|[^\s{]+))\s*\{', re.MULTILINE
)


def without_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def blocks() -> dict[str, str]:
    """Every location's arguments and its body (nested locations included), comments left out."""
    text = without_comments(TEMPLATE)
    found: dict[str, str] = {}
    for match in LOCATION.finditer(text):
        depth, end = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        found[match.group("args")] = text[match.end() : end - 1]
    return found


def progress_location() -> tuple[re.Pattern[str], str]:
    """The location that serves the progress: its pattern, compiled, and its body."""
    [(args, body)] = [(a, b) for a, b in blocks().items() if "progress" in a]
    modifier, pattern = args.split(maxsplit=1)
    assert modifier == "~", "a case-sensitive regular expression"
    return re.compile(pattern.strip('"')), body


ID = str(uuid.uuid4())


@pytest.mark.parametrize(
    "path",
    [f"/api/janitor/deletions/{ID}/progress", f"/api/janitor/deletions/{ID.upper()}/progress"],
)
def test_the_progress_of_a_deletion_named_by_a_uuid_has_a_route_of_its_own(path: str) -> None:
    pattern, _ = progress_location()

    assert pattern.search(path)


@pytest.mark.parametrize(
    "path",
    [
        f"/api/janitor/deletions/{ID}",
        f"/api/janitor/deletions/{ID}/progress/",
        f"/api/janitor/deletions/{ID}/progress/more",
        f"/api/janitor/deletions/{ID}x/progress",
        f"/api/janitor/deletions/{ID[:-1]}/progress",
        f"/api/janitor/deletions/{ID.replace('-', '')}/progress",
        "/api/janitor/deletions/not-a-uuid-at-all-no-not-one-of-them/progress",
        "/api/janitor/deletions/progress",
        "/api/janitor/deletions",
        "/api/janitor/sweeps",
        f"/x/api/janitor/deletions/{ID}/progress",
    ],
)
def test_nothing_else_under_api_escapes_the_session_check(path: str) -> None:
    pattern, _ = progress_location()

    assert not pattern.search(path)


def test_the_progress_route_checks_no_session_and_sends_no_identity() -> None:
    _, body = progress_location()

    assert "auth_request" not in body
    # The server-wide headers apply: Authorization and X-User-Id empty, no Cookie (/api/).
    assert "proxy_set_header" not in body
    assert re.search(r"proxy_pass http://janitor/janitor/deletions/\$\w+/progress;", body)


def test_the_progress_route_only_reads_and_is_rate_limited() -> None:
    _, body = progress_location()

    assert re.search(r"if \(\$request_method !~ \^\(GET\|HEAD\)\$\) \{\s*return 405;", body)
    assert re.search(r"limit_req zone=\w+ burst=\d+ nodelay;", body)


def test_the_progress_route_answers_the_gateway_s_own_errors_as_problems() -> None:
    _, body = progress_location()

    # No error_page of its own: it keeps the server's, each a problem document.
    assert "error_page" not in body


def test_every_other_api_route_is_still_behind_the_session_check() -> None:
    api = blocks()["/api/"]
    outside = [
        args
        for args in blocks()
        if "/api" in args and args != "/api/" and f"location {args} {{" not in api
    ]

    assert "auth_request /_verify;" in api
    # Outside /api/: the public API documents, and the progress.
    assert [a for a in outside if "/api/docs/" not in a and "progress" not in a] == []
