"""An OTLP/HTTP request body as an ``ExportMetricsServiceRequest``, or the reason it is not one.

The OTLP specification's HTTP transport: ``application/x-protobuf`` (binary
protobuf) or ``application/json`` (protobuf's JSON mapping, with trace and span
ids in hex rather than base64), optionally ``Content-Encoding: gzip``. The
messages are the ``opentelemetry-proto`` package's, never hand-written.
Unknown fields are ignored, as the specification requires of receivers.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class BadRequest(ValueError):
    """The body cannot be read; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Decoded:
    request: ExportMetricsServiceRequest
    encoding: str  # PROTOBUF or JSON: the response is written the same way


def media_type(content_type: str | None) -> str:
    """The request's encoding from its Content-Type; 415 for anything else."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in (PROTOBUF, "application/protobuf"):
        return PROTOBUF
    if kind == JSON:
        return JSON
    raise BadRequest(f"Content-Type {content_type or '(none)'!r} is not supported: send "
                     f"{PROTOBUF} or {JSON}", status=415)


def gunzip(body: bytes, limit: int) -> bytes:
    """Inflate a gzip body, refusing one that grows past ``limit`` bytes (a zip bomb)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise BadRequest(f"Content-Encoding gzip, but the body is not gzip data: {error}") \
            from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise BadRequest(f"the inflated body is over the limit of {limit} bytes", status=413)
    if not inflater.eof:
        raise BadRequest("Content-Encoding gzip, but the gzip stream is truncated")
    return out


_ID_FIELDS = {"traceId", "spanId", "trace_id", "span_id"}


def _hex_ids_to_base64(value: Any) -> Any:
    """OTLP/JSON writes trace and span ids in hex; protobuf's JSON mapping wants base64."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _ID_FIELDS and isinstance(item, str):
                try:
                    item = base64.b64encode(bytes.fromhex(item)).decode()
                except ValueError:
                    raise BadRequest(f"{key} {item[:40]!r} is not hex") from None
            out[key] = _hex_ids_to_base64(item)
        return out
    if isinstance(value, list):
        return [_hex_ids_to_base64(item) for item in value]
    return value


def decode(body: bytes, *, content_type: str | None, content_encoding: str | None,
           limit: int) -> Decoded:
    """The request in ``body``; raises :class:`BadRequest` saying what is wrong and where."""
    encoding = media_type(content_type)
    coding = (content_encoding or "identity").strip().lower()
    if coding == "gzip":
        body = gunzip(body, limit)
    elif coding not in ("identity", ""):
        raise BadRequest(f"Content-Encoding {content_encoding!r} is not supported (gzip is)",
                         status=415)
    request = ExportMetricsServiceRequest()
    if encoding == PROTOBUF:
        try:
            request.ParseFromString(body)
        except (DecodeError, ValueError, RecursionError) as error:
            raise BadRequest(f"the body is not an OTLP ExportMetricsServiceRequest in "
                             f"protobuf: {error}") from None
        return Decoded(request, encoding)
    try:
        document = json.loads(body)
    except UnicodeDecodeError:
        raise BadRequest("the JSON body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise BadRequest(f"malformed JSON: {error.msg} at line {error.lineno} column "
                         f"{error.colno}") from None
    if not isinstance(document, dict):
        raise BadRequest(f"an ExportMetricsServiceRequest is a JSON object, got "
                         f"{type(document).__name__}")
    if "exemplars" in body.decode("utf-8", errors="replace"):
        document = _hex_ids_to_base64(document)
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as error:
        raise BadRequest(f"not an OTLP ExportMetricsServiceRequest: {error}") from None
    return Decoded(request, encoding)
