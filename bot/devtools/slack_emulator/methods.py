"""The Web API methods the emulator implements, one small function each.

Each takes the workspace, the call's arguments (already authenticated and checked
against the spec) and the calling user, and returns the success body or raises
``SlackError``. ``METHODS`` is the whole list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.devtools.slack_emulator.limits import blocks_errors, view_errors
from bot.devtools.slack_emulator.workspace import SlackError, Workspace

Args = dict[str, Any]
Handler = Callable[[Workspace, Args, str], dict[str, Any]]


def _json_arg(args: Args, name: str, default: Any) -> Any:
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(f"invalid_{name}_format" if name == "blocks"
                             else "invalid_json") from None
    return value


def _blocks(args: Args) -> list[dict[str, Any]]:
    blocks = _json_arg(args, "blocks", [])
    errors = blocks_errors(blocks)
    if errors:
        raise SlackError("invalid_blocks", response_metadata={"messages": errors})
    return blocks


def _bool(args: Args, name: str) -> bool:
    return str(args.get(name, "")).lower() in ("1", "true")


def _message_dict(message: Any) -> dict[str, Any]:
    body = {"type": "message", "ts": message.ts, "user": message.user, "text": message.text,
            "blocks": message.blocks}
    if message.reactions:
        body["reactions"] = [{"name": n, "users": u, "count": len(u)}
                             for n, u in message.reactions.items()]
    return body


def auth_test(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    return {"url": "https://resilio-emulated.slack.com/", "team": "Resilio", "user": "resilio",
            "team_id": ws.team, "user_id": caller, "bot_id": "B0BOT00001"}


def conversations_create(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    channel = ws.create_channel(caller, str(args["name"]), _bool(args, "is_private"))
    return {"channel": channel.as_dict()}


def conversations_set_topic(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    channel = ws.member_channel(args["channel"], caller)
    topic = str(args["topic"])
    if len(topic) > 250:
        raise SlackError("too_long")
    channel.topic = topic
    ws.note(channel.id, caller, "topic", topic)
    return {"channel": channel.as_dict()}


def conversations_set_purpose(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    channel = ws.member_channel(args["channel"], caller)
    channel.purpose = str(args["purpose"])
    return {"channel": channel.as_dict()}


def conversations_invite(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    users = [u.strip() for u in str(args["users"]).split(",") if u.strip()]
    return {"channel": ws.invite(caller, args["channel"], users).as_dict()}


def conversations_join(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    channel = ws.channel(args["channel"])
    if channel.is_private and caller not in channel.members:
        raise SlackError("method_not_supported_for_channel_type")
    if caller not in channel.members:
        channel.members.add(caller)
        ws.note(channel.id, caller, "joined")
    return {"channel": channel.as_dict()}


def conversations_info(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    return {"channel": ws.channel(args["channel"]).as_dict()}


def conversations_members(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    return {"members": sorted(ws.channel(args["channel"]).members),
            "response_metadata": {"next_cursor": ""}}


def conversations_history(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    channel = ws.member_channel(args["channel"], caller)
    limit = int(args.get("limit") or 100)
    inclusive = _bool(args, "inclusive")
    latest = float(args["latest"]) if args.get("latest") else float("inf")
    oldest = float(args["oldest"]) if args.get("oldest") else float("-inf")
    chosen = [m for m in channel.messages
              if (oldest <= float(m.ts) if inclusive else oldest < float(m.ts))
              and (float(m.ts) <= latest if inclusive else float(m.ts) < latest)]
    messages = [_message_dict(m) for m in reversed(chosen)][:limit]
    return {"messages": messages, "has_more": False}


def conversations_list(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    return {"channels": [c.as_dict() for c in ws.channels.values() if not c.is_im],
            "response_metadata": {"next_cursor": ""}}


def chat_post_message(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    blocks = _blocks(args)
    channel, message = ws.post(caller, args["channel"], str(args.get("text") or ""), blocks,
                               args.get("thread_ts"))
    return {"channel": channel.id, "ts": message.ts, "message": _message_dict(message)}


def chat_update(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    blocks = _blocks(args) if args.get("blocks") not in (None, "") else None
    text = args.get("text")
    channel, message = ws.update(caller, args["channel"], str(args["ts"]),
                                 None if text is None else str(text), blocks)
    return {"channel": channel.id, "ts": message.ts, "text": message.text,
            "message": _message_dict(message)}


def chat_post_ephemeral(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    blocks = _blocks(args)
    channel = ws.channel(args["channel"])
    if args["user"] not in channel.members:
        raise SlackError("user_not_in_channel")
    ts = ws.next_ts()
    ws.note(channel.id, caller, "ephemeral", f"(only {args['user']}) {args.get('text') or ''}",
            ts=ts, blocks=blocks)
    return {"message_ts": ts}


def chat_get_permalink(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    channel = ws.channel(args["channel"])
    channel.message(str(args["message_ts"]))
    ts = str(args["message_ts"]).replace(".", "")
    return {"channel": channel.id,
            "permalink": f"https://resilio-emulated.slack.com/archives/{channel.id}/p{ts}"}


def pins_add(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    if not args.get("timestamp"):
        raise SlackError("no_item_specified")
    ws.pin(caller, args["channel"], str(args["timestamp"]))
    return {}


def pins_list(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    channel = ws.channel(args["channel"])
    return {"items": [{"type": "message", "channel": channel.id,
                       "message": _message_dict(channel.message(ts))} for ts in channel.pins]}


def reactions_add(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    ws.react(caller, args["channel"], str(args["timestamp"]), str(args["name"]))
    return {}


def usergroups_users_list(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    group = ws.usergroups.get(str(args["usergroup"]))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group["users"])}


def usergroups_list(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    include = _bool(args, "include_users")
    return {"usergroups": [{k: v for k, v in g.items() if include or k != "users"}
                           for g in ws.usergroups.values()]}


def users_info(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    return {"user": ws.user(str(args.get("user") or ""))}


def _view(args: Args) -> dict[str, Any]:
    view = _json_arg(args, "view", None)
    errors = view_errors(view)
    if errors:
        raise SlackError("invalid_arguments", response_metadata={"messages": errors})
    return view


def _store_view(ws: Workspace, view: dict[str, Any], view_id: str | None = None
                ) -> dict[str, Any]:
    stored = dict(view, id=view_id or ws.next_id("V"), team_id=ws.team,
                  hash=ws.next_ts())
    ws.views[stored["id"]] = stored
    return stored


def views_open(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    view = _view(args)
    ws.use_trigger(str(args["trigger_id"]))
    return {"view": _store_view(ws, view)}


def views_push(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    return views_open(ws, args, caller)


def views_update(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    view = _view(args)
    view_id = args.get("view_id")
    if view_id not in ws.views:
        raise SlackError("not_found")
    return {"view": _store_view(ws, view, view_id)}


def views_publish(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    view = _view(args)
    return {"view": _store_view(ws, view)}


def files_upload(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    file_id = ws.next_id("F")
    ws.files[file_id] = {"id": file_id, "name": args.get("filename") or "file",
                         "title": args.get("title"), "content": args.get("content"),
                         "channels": str(args.get("channels") or "").split(",")}
    return {"file": {"id": file_id, "name": ws.files[file_id]["name"]}}


def files_get_upload_url_external(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    file_id = ws.next_id("F")
    ws.files[file_id] = {"id": file_id, "name": args["filename"], "length": int(args["length"]),
                         "content": None, "complete": False}
    return {"file_id": file_id, "upload_url": f"{{base}}upload/{file_id}"}


def files_complete_upload_external(ws: Workspace, args: Args, caller: str) -> dict[str, Any]:
    entries = _json_arg(args, "files", [])
    if not isinstance(entries, list) or not entries:
        raise SlackError("invalid_arguments")
    done = []
    channel_id = args.get("channel_id")
    for entry in entries:
        file = ws.files.get(entry.get("id", ""))
        if file is None or file.get("content") is None:
            raise SlackError("file_not_found")
        file.update(complete=True, title=entry.get("title") or file["name"])
        done.append({"id": file["id"], "title": file["title"], "name": file["name"]})
        if channel_id:
            channel = ws.member_channel(channel_id, caller)
            ws.note(channel.id, caller, "file",
                    f"{file['title']} ({len(file['content'])} bytes)"
                    + (f" {args['initial_comment']}" if args.get("initial_comment") else ""))
    return {"files": done}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "conversations.create": conversations_create,
    "conversations.setTopic": conversations_set_topic,
    "conversations.setPurpose": conversations_set_purpose,
    "conversations.invite": conversations_invite,
    "conversations.join": conversations_join,
    "conversations.info": conversations_info,
    "conversations.members": conversations_members,
    "conversations.history": conversations_history,
    "conversations.list": conversations_list,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "pins.add": pins_add,
    "pins.list": pins_list,
    "reactions.add": reactions_add,
    "usergroups.users.list": usergroups_users_list,
    "usergroups.list": usergroups_list,
    "users.info": users_info,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "files.upload": files_upload,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
}
