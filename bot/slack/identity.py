"""The Slack user groups a person belongs to, as the Slack API reports them.

Runbook rules name user groups (``S…``). Membership is asked of Slack, never taken
from what a request or a body claims: ``usergroups.list`` with its members, and
``usergroups.users.list`` for a group listed without them (Slack leaves ``users``
out of large groups' entries).
"""

from __future__ import annotations

from typing import Any


def user_groups(client: Any, user: str) -> list[str]:
    """The ids of the Slack user groups ``user`` is a member of."""
    answer = client.usergroups_list(include_users=True)
    found = []
    for group in answer.get("usergroups", []):
        members = group.get("users")
        if members is None:
            members = client.usergroups_users_list(usergroup=group["id"]).get("users", [])
        if user in members:
            found.append(group["id"])
    return found
