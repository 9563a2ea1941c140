"""The Slack user groups a person belongs to, as the Slack API reports them.

Runbook rules name user groups (``S…``). Membership is asked of Slack, never taken
from what a request or a body claims: ``usergroups.list`` with its members, and
``usergroups.users.list`` for a group listed without them (Slack leaves ``users``
out of large groups' entries).
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from runbooks.models import Audience


def user_groups(client: WebClient, user: str) -> list[str]:
    """The ids of the Slack user groups ``user`` is a member of."""
    answer = client.usergroups_list(include_users=True)
    groups: list[dict[str, Any]] = answer.get("usergroups") or []
    found = []
    for group in groups:
        members = group.get("users")
        if members is None:
            members = client.usergroups_users_list(usergroup=group["id"]).get("users", [])
        if user in members:
            found.append(group["id"])
    return found


def groups_for(client: WebClient, user: str, audience: Audience) -> list[str]:
    """``user``'s groups when ``audience`` depends on them; no Slack call when it cannot.

    ``usergroups.list`` is rate limited (tier 2), so an open runbook, or one that
    names the person directly, does not spend a call on it.
    """
    if audience.open or user in audience.users or not audience.groups:
        return []
    return user_groups(client, user)
