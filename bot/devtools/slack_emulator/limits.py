"""Slack's limits on names, messages, blocks and views, as the emulator enforces them.

``slack_sdk``'s model validation catches some limits (section text, header text)
but not others: it does not look inside ``actions`` elements and knows nothing of
the per-message block count. Each check returns the error strings Slack would
put in ``response_metadata.messages``; an empty list means the payload is fine.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MAX_CHANNEL_NAME = 80
MAX_MESSAGE_TEXT = 40_000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3_000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_VIEW_TITLE = 24
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_PRIVATE_METADATA = 3_000
MAX_TEXT_OBJECT = 3_000
MAX_INPUT_LABEL = 2_000
MAX_INPUT_HINT = 2_000
MAX_PLACEHOLDER = 150
MAX_INPUT_LENGTH = 3_000

_NAME_CHARS = re.compile(r"^[a-z0-9_\-]+$")


def channel_name_error(name: str) -> str | None:
    """The ``conversations.create`` error for ``name``, or None when Slack would take it."""
    if not name:
        return "invalid_name_required"
    if len(name) > MAX_CHANNEL_NAME:
        return "invalid_name_maxlength"
    if not _NAME_CHARS.match(name):
        return "invalid_name_specials"
    if not re.search(r"[a-z0-9]", name):
        return "invalid_name_punctuation"
    return None


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def _element_errors(where: str, element: dict[str, Any]) -> list[str]:
    errors = []
    action_id = element.get("action_id")
    if action_id is not None and len(action_id) > MAX_ACTION_ID:
        errors.append(f"{where}.action_id: must be at most {MAX_ACTION_ID} characters")
    if element.get("type") == "button":
        if len(_text_of(element.get("text"))) > MAX_BUTTON_TEXT:
            errors.append(f"{where}.text: must be at most {MAX_BUTTON_TEXT} characters")
        if len(element.get("value") or "") > MAX_BUTTON_VALUE:
            errors.append(f"{where}.value: must be at most {MAX_BUTTON_VALUE} characters")
    options = element.get("options") or []
    if len(options) > MAX_OPTIONS:
        errors.append(f"{where}.options: at most {MAX_OPTIONS} options")
    for index, option in enumerate(options):
        if len(_text_of(option.get("text"))) > MAX_OPTION_TEXT:
            errors.append(f"{where}.options[{index}].text: must be at most "
                          f"{MAX_OPTION_TEXT} characters")
        if len(str(option.get("value") or "")) > MAX_OPTION_VALUE:
            errors.append(f"{where}.options[{index}].value: must be at most "
                          f"{MAX_OPTION_VALUE} characters")
    if len(_text_of(element.get("placeholder"))) > MAX_PLACEHOLDER:
        errors.append(f"{where}.placeholder: must be at most {MAX_PLACEHOLDER} characters")
    if element.get("type") == "plain_text_input":
        most = element.get("max_length", MAX_INPUT_LENGTH)
        if not isinstance(most, int) or not 1 <= most <= MAX_INPUT_LENGTH:
            errors.append(f"{where}.max_length: 1 to {MAX_INPUT_LENGTH}")
        elif len(str(element.get("initial_value") or "")) > most:
            errors.append(f"{where}.initial_value: longer than max_length {most}")
    return errors


def _text_object_errors(where: str, value: Any) -> list[str]:
    """Every text object anywhere in a block: 1 to 3,000 characters (Slack's rule for all)."""
    errors: list[str] = []
    if isinstance(value, dict):
        if value.get("type") in ("plain_text", "mrkdwn") and "text" in value:
            length = len(str(value.get("text") or ""))
            if not 1 <= length <= MAX_TEXT_OBJECT:
                errors.append(f"{where}.text: a text object needs 1 to {MAX_TEXT_OBJECT} "
                              f"characters, got {length}")
        for key, item in value.items():
            errors += _text_object_errors(f"{where}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors += _text_object_errors(f"{where}[{index}]", item)
    return errors


def _block_errors(where: str, block: Any) -> list[str]:
    if not isinstance(block, dict) or "type" not in block:
        return [f"{where}: must be an object with a type"]
    errors: list[str] = []
    parsed = Block.parse(block)
    if parsed is None:
        return [f"{where}: unknown block type {block['type']!r}"]
    try:
        parsed.validate_json()
    except SlackObjectFormationError as error:
        errors.append(f"{where}: {error}")
    kind = block["type"]
    if len(block.get("block_id") or "") > MAX_BLOCK_ID:
        errors.append(f"{where}.block_id: must be at most {MAX_BLOCK_ID} characters")
    if kind == "section":
        if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
            errors.append(f"{where}.text: must be at most {MAX_SECTION_TEXT} characters")
        fields = block.get("fields") or []
        if len(fields) > MAX_SECTION_FIELDS:
            errors.append(f"{where}.fields: at most {MAX_SECTION_FIELDS} fields")
        for index, field in enumerate(fields):
            if len(_text_of(field)) > MAX_FIELD_TEXT:
                errors.append(f"{where}.fields[{index}]: must be at most "
                              f"{MAX_FIELD_TEXT} characters")
        if isinstance(block.get("accessory"), dict):
            errors += _element_errors(f"{where}.accessory", block["accessory"])
        if not block.get("text") and not fields:
            errors.append(f"{where}: a section needs text or fields")
    elif kind == "header" and len(_text_of(block.get("text"))) > MAX_HEADER_TEXT:
        errors.append(f"{where}.text: must be at most {MAX_HEADER_TEXT} characters")
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements or len(elements) > MAX_ACTIONS_ELEMENTS:
            errors.append(f"{where}.elements: 1 to {MAX_ACTIONS_ELEMENTS} elements")
        for index, element in enumerate(elements):
            errors += _element_errors(f"{where}.elements[{index}]", element)
    elif kind == "context" and len(block.get("elements") or []) > MAX_CONTEXT_ELEMENTS:
        errors.append(f"{where}.elements: at most {MAX_CONTEXT_ELEMENTS} elements")
    elif kind == "input":
        if len(_text_of(block.get("label"))) > MAX_INPUT_LABEL:
            errors.append(f"{where}.label: must be at most {MAX_INPUT_LABEL} characters")
        if len(_text_of(block.get("hint"))) > MAX_INPUT_HINT:
            errors.append(f"{where}.hint: must be at most {MAX_INPUT_HINT} characters")
        if isinstance(block.get("element"), dict):
            errors += _element_errors(f"{where}.element", block["element"])
    errors += _text_object_errors(where, block)
    return sorted(set(errors), key=errors.index)


def blocks_errors(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks: must be an array"]
    errors = []
    if len(blocks) > max_blocks:
        errors.append(f"blocks: must be at most {max_blocks} items, got {len(blocks)}")
    for index, block in enumerate(blocks):
        errors += _block_errors(f"blocks[{index}]", block)
    return errors


def view_errors(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view: must be an object"]
    errors = []
    if view.get("type") not in ("modal", "home"):
        errors.append("view.type: must be modal or home")
    if view.get("type") == "modal":
        title = _text_of(view.get("title"))
        if not title or len(title) > MAX_VIEW_TITLE:
            errors.append(f"view.title: 1 to {MAX_VIEW_TITLE} characters")
        for key in ("submit", "close"):
            if len(_text_of(view.get(key))) > MAX_VIEW_TITLE:
                errors.append(f"view.{key}: at most {MAX_VIEW_TITLE} characters")
    if len(view.get("private_metadata") or "") > MAX_PRIVATE_METADATA:
        errors.append(f"view.private_metadata: at most {MAX_PRIVATE_METADATA} characters")
    errors += [f"view.{e}" for e in blocks_errors(view.get("blocks", []),
                                                   max_blocks=MAX_VIEW_BLOCKS)]
    return errors
