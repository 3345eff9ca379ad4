"""GitHub's JSON shapes for users, emails and repositories (REST API version 2022-11-28)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from codeflow_github_emulator.fixtures import EmailFixture, OrgFixture, RepoFixture, UserFixture

Json = dict[str, Any]
Account = UserFixture | OrgFixture


def timestamp(moment: datetime) -> str:
    """GitHub's timestamps: UTC, whole seconds, a ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, type_name: str, object_id: int) -> str:
    """A global node id in GitHub's classic form, e.g. ``MDQ6VXNlcjU4MzIzMQ==``."""
    return base64.b64encode(f"{kind}:{type_name}{object_id}".encode()).decode("ascii")


def avatar_url(user: Account, base: str) -> str:
    return user.avatar_url or f"{base}/_emulator/avatars/{user.id}.svg"


def simple_user(user: Account, base: str) -> Json:
    """The compact account found as a repository's ``owner`` and elsewhere."""
    url = f"{base}/users/{user.login}"
    kind = "User" if isinstance(user, UserFixture) else "Organization"
    return {
        "login": user.login,
        "id": user.id,
        "node_id": node_id("04" if kind == "User" else "012", kind, user.id),
        "avatar_url": avatar_url(user, base),
        "gravatar_id": "",
        "url": url,
        "html_url": f"{base}/{user.login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": isinstance(user, UserFixture) and user.site_admin,
    }


def public_user(user: UserFixture, base: str, repos: list[RepoFixture]) -> Json:
    """``GET /users/{username}``; ``email`` is the public profile email or null."""
    return simple_user(user, base) | {
        "name": user.name,
        "company": user.company,
        "blog": user.blog,
        "location": user.location,
        "email": user.email,
        "hireable": user.hireable,
        "bio": user.bio,
        "twitter_username": user.twitter_username,
        "public_repos": sum(1 for repo in repos if not repo.private),
        "public_gists": user.public_gists,
        "followers": user.followers,
        "following": user.following,
        "created_at": timestamp(user.created_at),
        "updated_at": timestamp(user.updated_at),
    }


def private_user(user: UserFixture, base: str, repos: list[RepoFixture]) -> Json:
    """``GET /user`` with a ``user`` or ``read:user`` token: the public shape and more.

    ``email`` stays null for a user who keeps their email private, even here.
    """
    private_repos = sum(1 for repo in repos if repo.private)
    return public_user(user, base, repos) | {
        "user_view_type": "private",
        "notification_email": user.email,
        "private_gists": user.private_gists,
        "total_private_repos": private_repos,
        "owned_private_repos": private_repos,
        "disk_usage": sum(repo.size for repo in repos),
        "collaborators": 0,
        "two_factor_authentication": user.two_factor_authentication,
        "plan": {
            "name": user.plan,
            "space": 976562499,
            "collaborators": 0,
            "private_repos": 10000,
        },
    }


def email(entry: EmailFixture) -> Json:
    """A row of ``GET /user/emails``; only the primary address carries a visibility."""
    return {
        "email": entry.email,
        "primary": entry.primary,
        "verified": entry.verified,
        "visibility": entry.visibility if entry.primary else None,
    }


def repository(repo: RepoFixture, owner: Account, base: str, permissions: dict[str, bool]) -> Json:
    """A repository as ``GET /user/repos`` lists it, with the viewer's ``permissions``."""
    full_name = f"{owner.login}/{repo.name}"
    url = f"{base}/repos/{full_name}"
    html_url = f"{base}/{full_name}"
    templated = {
        "forks_url": "/forks",
        "keys_url": "/keys{/key_id}",
        "collaborators_url": "/collaborators{/collaborator}",
        "teams_url": "/teams",
        "hooks_url": "/hooks",
        "issue_events_url": "/issues/events{/number}",
        "events_url": "/events",
        "assignees_url": "/assignees{/user}",
        "branches_url": "/branches{/branch}",
        "tags_url": "/tags",
        "blobs_url": "/git/blobs{/sha}",
        "git_tags_url": "/git/tags{/sha}",
        "git_refs_url": "/git/refs{/sha}",
        "trees_url": "/git/trees{/sha}",
        "statuses_url": "/statuses/{sha}",
        "languages_url": "/languages",
        "stargazers_url": "/stargazers",
        "contributors_url": "/contributors",
        "subscribers_url": "/subscribers",
        "subscription_url": "/subscription",
        "commits_url": "/commits{/sha}",
        "git_commits_url": "/git/commits{/sha}",
        "comments_url": "/comments{/number}",
        "issue_comment_url": "/issues/comments{/number}",
        "contents_url": "/contents/{+path}",
        "compare_url": "/compare/{base}...{head}",
        "merges_url": "/merges",
        "archive_url": "/{archive_format}{/ref}",
        "downloads_url": "/downloads",
        "issues_url": "/issues{/number}",
        "pulls_url": "/pulls{/number}",
        "milestones_url": "/milestones{/number}",
        "notifications_url": "/notifications{?since,all,participating}",
        "labels_url": "/labels{/name}",
        "releases_url": "/releases{/id}",
        "deployments_url": "/deployments",
    }
    host = base.split("://", 1)[-1]
    return (
        {
            "id": repo.id,
            "node_id": node_id("010", "Repository", repo.id),
            "name": repo.name,
            "full_name": full_name,
            "private": repo.private,
            "owner": simple_user(owner, base),
            "html_url": html_url,
            "description": repo.description,
            "fork": repo.fork,
            "url": url,
        }
        | {key: f"{url}{suffix}" for key, suffix in templated.items()}
        | {
            "created_at": timestamp(repo.created_at),
            "updated_at": timestamp(repo.updated_at),
            "pushed_at": timestamp(repo.pushed_at),
            "git_url": f"git://{host}/{full_name}.git",
            "ssh_url": f"git@{host}:{full_name}.git",
            "clone_url": f"{html_url}.git",
            "svn_url": html_url,
            "homepage": repo.homepage,
            "size": repo.size,
            "stargazers_count": repo.stargazers_count,
            "watchers_count": repo.stargazers_count,
            "language": repo.language,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": repo.forks_count,
            "mirror_url": None,
            "archived": repo.archived,
            "disabled": False,
            "open_issues_count": repo.open_issues_count,
            "license": None,
            "allow_forking": True,
            "is_template": repo.is_template,
            "web_commit_signoff_required": False,
            "topics": list(repo.topics),
            "visibility": "private" if repo.private else "public",
            "forks": repo.forks_count,
            "open_issues": repo.open_issues_count,
            "watchers": repo.stargazers_count,
            "default_branch": repo.default_branch,
            "permissions": permissions,
        }
    )


def full_repository(
    repo: RepoFixture, owner: Account, base: str, permissions: dict[str, bool]
) -> Json:
    """A repository as ``GET /repositories/{id}`` answers: the listed shape and a few more."""
    extra: Json = {"network_count": repo.forks_count, "subscribers_count": 0}
    if isinstance(owner, OrgFixture):
        extra["organization"] = simple_user(owner, base)
    return repository(repo, owner, base, permissions) | extra
