"""Who may do what: sweeps and the summary are for admins (403 for others, 401 without a
token); one deletion is shown to an admin or to the user it concerns, and to nobody else.
"""

from __future__ import annotations

import uuid

import pytest
from janitor_support import StartJanitor, ago, new_user_id

from codeflow_contracts import UserDeletionRequested

pytestmark = pytest.mark.integration


async def test_only_admins_may_sweep_or_list_deletions(start_janitor: StartJanitor) -> None:
    janitor = await start_janitor()
    user = new_user_id()
    not_quite_admin = janitor.tokens.headers_for(user, admin="true")

    async with janitor.client() as client:
        anonymous = await client.post("/janitor/sweeps", json={"dry_run": True})
        as_user = await client.post(
            "/janitor/sweeps", json={"dry_run": True}, headers=janitor.user(user)
        )
        as_string_claim = await client.post(
            "/janitor/sweeps", json={"dry_run": True}, headers=not_quite_admin
        )
        list_anonymous = await client.get("/janitor/deletions")
        list_as_user = await client.get("/janitor/deletions", headers=janitor.user(user))
        bad_status = await client.get("/janitor/deletions?status=lost", headers=janitor.admin())
        as_admin = await client.post(
            "/janitor/sweeps", json={"dry_run": True}, headers=janitor.admin()
        )

    for response in (anonymous, list_anonymous):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    for response in (as_user, as_string_claim, list_as_user):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:codeflow:problem:admin-only"
    assert bad_status.status_code == 422
    assert as_admin.status_code == 200
    assert as_admin.json()["outcome"] == "dry_run"


async def test_a_deletion_is_shown_to_its_user_and_to_admins_only(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor()
    user, someone_else = new_user_id(), new_user_id()
    await janitor.publish(UserDeletionRequested(user_id=user, requested_at=ago(seconds=0)))
    [command] = await janitor.wait_for_commands(user)
    path = f"/janitor/deletions/{command.data.deletion_id}"

    as_user = await janitor.get(path, janitor.user(user))
    as_admin = await janitor.get(path)
    as_someone_else = await janitor.get(path, janitor.user(someone_else))
    anonymous = await janitor.get(path, {})
    unknown = await janitor.get(f"/janitor/deletions/{uuid.uuid4()}")

    assert as_user.json() == as_admin.json()
    assert as_user.json()["reason"] == "requested"
    assert as_user.json()["attempts"] == 1
    assert as_someone_else.status_code == 404
    assert as_someone_else.json() == unknown.json()
    assert unknown.json()["type"] == "urn:codeflow:problem:deletion-not-found"
    assert anonymous.status_code == 401


async def test_a_sweep_takes_a_json_body_and_nothing_else(start_janitor: StartJanitor) -> None:
    """A form posted from another site carries no JSON: it must not start a sweep."""
    janitor = await start_janitor()
    async with janitor.client() as client:
        empty = await client.post("/janitor/sweeps", headers=janitor.admin())
        form = await client.post(
            "/janitor/sweeps", data={"dry_run": "false"}, headers=janitor.admin()
        )
        plain = await client.post(
            "/janitor/sweeps",
            content=b'{"dry_run": true}',
            headers={**janitor.admin(), "Content-Type": "text/plain"},
        )
    for refused in (empty, form, plain):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert (await janitor.sweep(dry_run=True)).json()["outcome"] == "dry_run"
    assert (await janitor.sweep()).status_code == 200
