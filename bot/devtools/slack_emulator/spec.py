"""Which Web API methods exist and which arguments they require.

The source of truth is Slack's published OpenAPI 2.0 spec. It is incomplete
("they don't always tell the whole truth"): newer methods are missing and many
``conversations.*`` arguments that Slack does require are marked optional. The
known gaps are listed in ``SPEC_GAPS`` so every deviation from the file is in one
place, with the reason.

An installed package cannot count on the reference file being on disk, so a
compact extract (method -> required and optional arguments) is bundled as
``web_api_methods.yml``; ``tests/slack`` checks that it equals the extract of the
reference file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

SPEC_ENV = "RESILIO_SLACK_API_SPEC"
BUNDLED = "web_api_methods.yml"


@dataclass(frozen=True)
class MethodSpec:
    name: str
    required: frozenset[str]
    optional: frozenset[str]


# Methods the 2020 spec lacks, and arguments it calls optional that Slack rejects when absent.
SPEC_GAPS: dict[str, dict[str, list[str]]] = {
    "apps.connections.open": {"required": [], "optional": []},
    "files.getUploadURLExternal": {"required": ["filename", "length"],
                                   "optional": ["alt_txt", "snippet_type"]},
    "files.completeUploadExternal": {"required": ["files"],
                                     "optional": ["channel_id", "channels", "initial_comment",
                                                  "thread_ts"]},
    "conversations.create": {"required": ["name"], "optional": []},
    "conversations.setTopic": {"required": ["channel", "topic"], "optional": []},
    "conversations.setPurpose": {"required": ["channel", "purpose"], "optional": []},
    "conversations.invite": {"required": ["channel", "users"], "optional": ["force"]},
    "conversations.join": {"required": ["channel"], "optional": []},
    "conversations.info": {"required": ["channel"], "optional": []},
    "conversations.history": {"required": ["channel"], "optional": []},
    "conversations.members": {"required": ["channel"], "optional": []},
    "conversations.replies": {"required": ["channel", "ts"], "optional": []},
    "chat.postMessage": {"required": [], "optional": ["metadata"]},
    "chat.update": {"required": [], "optional": ["metadata", "reply_broadcast"]},
}


def extract_methods(spec: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Method name -> sorted required and optional argument names (the token excluded)."""
    methods: dict[str, dict[str, list[str]]] = {}
    for path, operations in spec.get("paths", {}).items():
        required: set[str] = set()
        optional: set[str] = set()
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                if name == "token":
                    continue
                (required if parameter.get("required") else optional).add(name)
        methods[path.lstrip("/")] = {"required": sorted(required),
                                     "optional": sorted(optional - required)}
    return dict(sorted(methods.items()))


def _apply_gaps(methods: dict[str, dict[str, list[str]]]) -> dict[str, MethodSpec]:
    table: dict[str, MethodSpec] = {}
    for name in set(methods) | set(SPEC_GAPS):
        base = methods.get(name, {"required": [], "optional": []})
        gap = SPEC_GAPS.get(name, {"required": [], "optional": []})
        required = frozenset(base["required"]) | frozenset(gap["required"])
        optional = (frozenset(base["optional"]) | frozenset(gap["optional"])) - required
        table[name] = MethodSpec(name, required, optional)
    return table


def load_methods(spec_path: str | Path | None = None) -> dict[str, MethodSpec]:
    """The method table from the OpenAPI file given (or ``$RESILIO_SLACK_API_SPEC``),
    else from the bundled extract of the same file."""
    path = spec_path or os.environ.get(SPEC_ENV)
    if path:
        return dict(_load_file(str(path)))
    text = resources.files(__package__).joinpath(BUNDLED).read_text()
    return _apply_gaps(yaml.safe_load(text))


@lru_cache(maxsize=4)
def _load_file(path: str) -> dict[str, MethodSpec]:
    with open(path) as file:
        return _apply_gaps(extract_methods(json.load(file)))


def write_bundled_extract(spec_path: str | Path, out: str | Path) -> None:
    """Regenerate ``web_api_methods.yml`` from the reference spec."""
    with open(spec_path) as file:
        methods = extract_methods(json.load(file))
    header = ("# Extract of Slack's Web API OpenAPI v2 spec (slackapi/slack-api-specs, MIT):\n"
              "# method -> required and optional arguments. Regenerate with\n"
              "# python -m bot.devtools.slack_emulator.spec SPEC.json\n")
    Path(out).write_text(header + yaml.safe_dump(methods, sort_keys=True, width=100))


if __name__ == "__main__":
    import sys

    write_bundled_extract(sys.argv[1], Path(__file__).with_name(BUNDLED))
