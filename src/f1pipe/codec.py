"""The one codec: envelope messages <-> Kafka message bytes (JSON, with msgspec).

Producer, replay, live feed, tower and consumer encode and decode here and nowhere else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from f1pipe.schemas import BY_SCHEMA, Payload, make_message

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()

DecodeError = msgspec.DecodeError
SCHEMA_HEADER = "schema"


def encode(message: dict) -> bytes:
    """A JSON-ready envelope message as compact JSON bytes."""
    return _encoder.encode(message)


def decode(raw: bytes | str) -> Any:
    """JSON bytes as Python values (~4x faster than ``json.loads`` on lap messages).

    Raises :data:`DecodeError` (a ``ValueError``) when ``raw`` is not valid JSON.
    """
    return _decoder.decode(raw)


_HEADERS: dict[tuple, list[tuple[str, bytes]]] = {}


def schema_headers(message: dict) -> list[tuple[str, bytes]]:
    """The Kafka headers of a message: its ``schema`` header, ``b"<name>/<version>"``. One
    list per schema, kept and handed out again (librdkafka copies headers; never mutate)."""
    ref = message["schema"]
    key = (ref["name"], ref["version"])
    headers = _HEADERS.get(key)
    if headers is None:
        headers = _HEADERS[key] = [(SCHEMA_HEADER, f"{key[0]}/{key[1]}".encode())]
    return headers


def schema_header(message: dict) -> tuple[str, bytes]:
    """The ``schema`` header of a message: ``b"<name>/<version>"``."""
    return schema_headers(message)[0]


def keyed(payload: Payload, source: str, produced_at: datetime | None = None
          ) -> tuple[str, dict]:
    """``(Kafka key, envelope message)`` of a payload: what sources hand to the producer."""
    return payload.kafka_key(), make_message(payload, source, produced_at)


def key_of(message: dict) -> str:
    """The Kafka key of an envelope message built by :func:`~f1pipe.schemas.make_message`,
    read from its fields (no validation: the message was built from a valid payload)."""
    schema = BY_SCHEMA[(message["schema"]["name"], message["schema"]["version"])]
    return "-".join("" if message.get(f) is None else str(message[f])
                    for f in schema.partition_key_fields)


# --- The consumer's fast path: schemas checked in C (msgspec Structs generated from the
# pydantic models of schemas.py, the one contract) --------------------------------------
#
# A Struct accepts a subset of what its model accepts (strict types, the same bounds), so a
# message it takes is one the model takes, with the same values: the lake line is encoded
# straight from it. Anything it refuses goes through the model (schemas.validate_message),
# which accepts it or gives the one dead-letter reason, exactly as before.


class Unsupported(TypeError):
    """A field type the generated Structs do not cover (the model alone checks it)."""


def _iso_ascii():
    """The ISO UTC timestamp pattern of the schemas with ASCII digits only (a subset of what
    the model's ``\\d`` takes). Matched in ``__post_init__``: a msgspec ``pattern`` on the
    field costs ~4x more per message."""
    import re

    from f1pipe.schemas import _ISO_UTC

    return re.compile(_ISO_UTC.pattern.replace(r"\d", "[0-9]")).fullmatch


ISO_MAX_CHARS = 32  # 2024-05-01T14:03:07.123456+00:00


_FLOAT_MAX = 1.7976931348623157e308


def _field_type(annotation: Any, metadata: list) -> tuple[Any, bool]:
    """The msgspec type of one model field, and whether it holds an ISO UTC timestamp."""
    import types
    import typing
    from typing import Annotated, Literal

    import annotated_types as at
    from pydantic.fields import FieldInfo

    from f1pipe import schemas

    optional = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise Unsupported(annotation)
        optional, annotation = True, args[0]
    extra = list(metadata)
    while typing.get_origin(annotation) is Annotated:
        annotation, *more = typing.get_args(annotation)
        for item in more:
            extra.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    if annotation not in (int, float, str, bool):
        raise Unsupported(annotation)
    base, meta, timestamp = annotation, {}, False
    for item in extra:
        if isinstance(item, (at.Ge, at.Le, at.Gt, at.Lt, at.MaxLen)):
            name = type(item).__name__.lower().replace("maxlen", "max_length")
            meta[name] = getattr(item, name)
        elif getattr(item, "func", None) is schemas._session_code:
            base = Literal[tuple(sorted(schemas.SESSION_CODES))]
        elif getattr(item, "func", None) is schemas._iso_utc:
            meta["max_length"], timestamp = ISO_MAX_CHARS, True
        else:
            raise Unsupported(item)
    if base is int:
        meta.setdefault("ge", schemas.INT64_MIN)
        meta.setdefault("le", schemas.INT64_MAX)
    elif base is float:
        meta.setdefault("ge", -_FLOAT_MAX)
        meta.setdefault("le", _FLOAT_MAX)
    elif base is str:
        meta["max_length"] = min(meta.get("max_length", schemas.STR_MAX_CHARS),
                                 schemas.STR_MAX_CHARS)
    typed = Annotated[base, msgspec.Meta(**meta)] if meta else base
    return (typed | None if optional else typed), timestamp


def _schema_ref(model: type) -> type:
    """The Struct of ``model``'s ``schema`` envelope field: its name and version only (the
    decoder refuses any other, in C)."""
    from typing import Literal

    return msgspec.defstruct(f"{model.__name__}Ref", [
        ("name", Literal[model.schema_name]), ("version", Literal[model.schema_version])],
        forbid_unknown_fields=True, gc=False)


def _post_init(timestamps: tuple[str, ...], session_typed: bool):
    """The Struct's ``__post_init__``: what its field types cannot say. Timestamps must match
    the ISO UTC pattern (ASCII digits) and ``fromisoformat`` must take them (it refuses
    impossible dates, as the model's validator does). ``session_type`` is filled or checked
    as :class:`SessionTyped` does. Generated as straight-line code: it runs once per
    message."""
    from f1pipe.schemas import SESSION_TYPES, SPRINT_NAMED_SQ_UNTIL

    lines = ["def __post_init__(self):", "    pass"]
    if "produced_at" in timestamps:
        # produced_at: messages sent together share it; a checked one is remembered
        lines += ["    v = self.produced_at",
                  "    if v not in seen:",
                  "        if iso(v) is None:", "            raise ValueError('not ISO UTC')",
                  "        fromiso(v)",
                  "        if len(seen) > 1024:", "            seen.clear()",
                  "        seen[v] = None"]
    for name in timestamps:
        if name == "produced_at":
            continue
        lines += [f"    v = self.{name}", "    if v is not None:",
                  "        if iso(v) is None:", "            raise ValueError('not ISO UTC')",
                  "        fromiso(v)"]
    if session_typed:
        # session_type(code, season), inlined: SQ until 2023 was the sprint
        lines += ["    code = self.session",
                  "    expected = 'sprint' if code == 'SQ' and self.season <= sprint_sq_until "
                  "else types.get(code)",
                  "    if self.session_type is None:",
                  "        self.session_type = expected",
                  "    elif expected is not None and self.session_type != expected:",
                  "        raise ValueError('session_type does not match session')"]
    namespace = {"fromiso": datetime.fromisoformat, "iso": _iso_ascii(), "seen": {},
                 "types": SESSION_TYPES,
                 "sprint_sq_until": SPRINT_NAMED_SQ_UNTIL}
    exec("\n".join(lines), namespace)  # noqa: S102 - code built above from field names
    return namespace["__post_init__"]


def _payload_fields(model: type) -> tuple[list[tuple], tuple[str, ...]] | None:
    """The msgspec fields of ``model``'s payload, in order (``(name, type[, default])``),
    and the names of its timestamp fields; None when a field type is not covered."""
    fields: list[tuple] = []
    timestamps = []
    try:
        for name, info in model.model_fields.items():
            typed, timestamp = _field_type(info.annotation, info.metadata)
            fields.append((name, typed) if info.is_required() else (name, typed, info.default))
            if timestamp:
                timestamps.append(name)
    except Unsupported:
        return None
    return fields, tuple(timestamps)


# The Kafka coordinates close every lake line. In the Struct they are typed so that no
# value decodes (a message carrying one is refused, as the model refuses an extra field);
# the consumer sets them after decoding, and the Struct encodes as the whole lake line.
_NEVER = Annotated[int, msgspec.Meta(ge=1, le=0)]
KAFKA_FIELDS = (("kafka_topic", _NEVER, ""), ("kafka_partition", _NEVER, 0),
                ("kafka_offset", _NEVER, 0), ("kafka_timestamp", _NEVER, 0))


def lake_struct(model: type) -> type | None:
    """A msgspec Struct of a whole lake line of ``model``: envelope, the model's fields in
    order, then the Kafka coordinates (never decoded, set by the consumer); None when a field
    type is not covered (the model alone checks those)."""
    from f1pipe.schemas import ENVELOPE_ID_MAX_CHARS, SessionTyped

    short = Annotated[str, msgspec.Meta(max_length=ENVELOPE_ID_MAX_CHARS)]
    fields: list[tuple] = [
        ("schema", _schema_ref(model)), ("event_id", short),
        ("produced_at", Annotated[str, msgspec.Meta(max_length=ISO_MAX_CHARS)]),
        ("source", short),
    ]
    payload = _payload_fields(model)
    if payload is None:
        return None
    fields += [*payload[0], *KAFKA_FIELDS]
    timestamps = ("produced_at", *payload[1])
    namespace = {"__post_init__": _post_init(timestamps, issubclass(model, SessionTyped))}
    # gc=False: scalars only, no cycles; the collector never walks the consumer's batches.
    return msgspec.defstruct(f"{model.__name__}Line", fields, namespace=namespace, kw_only=True,
                             forbid_unknown_fields=True, gc=False)


_lake_decoders: dict[type, msgspec.json.Decoder | None] = {}


def _lake_decoder(model: type) -> msgspec.json.Decoder | None:
    if model not in _lake_decoders:
        struct = lake_struct(model)
        _lake_decoders[model] = None if struct is None else msgspec.json.Decoder(struct)
    return _lake_decoders[model]


def _holds_nul(raw: bytes) -> bool:
    """Whether ``raw`` may hold a NUL character, raw or escaped: the model then gives its
    reason (find() is ~4x faster than `in` on bytes)."""
    return raw.find(b"\x00") >= 0 or (raw.find(b"\\") >= 0 and raw.find(b"\\u0000") >= 0)


def fast_lake_line(raw: bytes, model: type, topic: str, partition: int, offset: int,
                   timestamp_ms: int) -> tuple[tuple[int, int, str], bytes] | None:
    """``((season, round, session), lake line)`` when ``raw`` is a valid message of ``model``
    by the strict generated Struct: the line is the message's fields as the model dumps them,
    then the Kafka coordinates, then a newline. None otherwise (the model then decides, and
    gives the reason if it refuses)."""
    decoder = _lake_decoders.get(model) or _lake_decoder(model)
    if decoder is None or _holds_nul(raw):
        return None
    try:
        message = decoder.decode(raw)
    except (msgspec.DecodeError, ValueError, TypeError):
        return None
    message.kafka_topic = topic
    message.kafka_partition = partition
    message.kafka_offset = offset
    message.kafka_timestamp = timestamp_ms
    return (message.season, message.round, message.session), _encoder.encode(message) + b"\n"


LakeLines = tuple[tuple[int, int, str], bytes, int, int]  # group, lines, records, 1st offset
_OPENS, _CLOSES = {b"{"}, {b"}"}


def fast_lake_lines(raws: list[bytes], model: type, topic: str, partition: int,
                    offsets: list[int], timestamps_ms: list[int]) -> list[LakeLines] | None:
    """The lake lines of a run of messages of one partition, all checked by ``model``'s
    generated Struct in one decoder call: per (season, round, session), in order of first
    appearance, ``(group, lines, records, offset of its first)``, each line as
    :func:`fast_lake_line` makes it. None when any message is not taken (then each is
    handled alone and the bad ones get their reasons).

    The messages are decoded as one buffer, joined by newlines. A value cannot cross from
    one message into the next: each message starts with ``{`` and ends with ``}``, so after
    its last byte the decoder has ended a value, or is inside a string (a raw newline there
    is refused: JSON strings cannot hold one), or is inside an object or array, where the
    next message's ``{`` cannot come; and exactly one value per message is required."""
    decoder = _lake_decoders.get(model) or _lake_decoder(model)
    if decoder is None or not raws:
        return None
    if {r[:1] for r in raws} != _OPENS or {r[-1:] for r in raws} != _CLOSES:
        return None
    buffer = b"\n".join(raws)
    if _holds_nul(buffer):
        return None
    try:
        messages = decoder.decode_lines(buffer)
    except (msgspec.DecodeError, ValueError, TypeError):
        return None
    if len(messages) != len(raws):
        return None
    groups: dict[tuple[int, int, str], list] = {}
    key = members = None
    for message, offset, timestamp in zip(messages, offsets, timestamps_ms, strict=True):
        message.kafka_topic = topic
        message.kafka_partition = partition
        message.kafka_offset = offset
        message.kafka_timestamp = timestamp
        if (message.season, message.round, message.session) != key:
            key = (message.season, message.round, message.session)
            members = groups.setdefault(key, [])
        members.append(message)
    return [(group, _encoder.encode_lines(members), len(members), members[0].kafka_offset)
            for group, members in groups.items()]


# --- The producer's fast path: envelope messages built from plain field values ------------
#
# A trusted decoder (the live feed's telemetry) hands over thousands of samples a second;
# building a pydantic model per sample was most of ``f1pipe live``'s time. The Struct
# generated from the model (as above) checks the fields instead, in C, when every value
# already has its field's exact type: the model would take such values unchanged, so the
# message is the one :func:`~f1pipe.schemas.make_message` builds. Anything else (a value
# the model would coerce or refuse) goes through the model, which gives the one reason.

_SORTED = msgspec.json.Encoder(order="sorted")


def payload_struct(model: type) -> type | None:
    """A msgspec Struct of ``model``'s payload fields alone (strict types, the model's
    bounds, timestamps matched); None when a field type is not covered or the model fills
    fields itself (``SessionTyped``)."""
    from f1pipe.schemas import SessionTyped

    payload = None if issubclass(model, SessionTyped) else _payload_fields(model)
    if payload is None:
        return None
    fields, timestamps = payload
    namespace = {"__post_init__": _post_init(timestamps, False)}
    return msgspec.defstruct(f"{model.__name__}Fields", fields, namespace=namespace,
                             kw_only=True, forbid_unknown_fields=True, gc=False)


def uuid5_text(namespace_bytes: bytes, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` from the namespace's 16 bytes, without building
    UUID objects: SHA-1 of namespace + name, version 5 and RFC 4122 variant bits set."""
    import hashlib

    digest = bytearray(hashlib.sha1(namespace_bytes + name.encode(),
                                    usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class MessageBuilder:
    """``(Kafka key, envelope message)`` pairs of one payload model from field values, as
    :func:`keyed` gives for the model built from them, without building it.

    :meth:`build` returns None when the values are not all of their field's exact type or
    the generated Struct refuses them: the caller then builds the model (which coerces
    them or raises the one reason), so nothing is accepted that the model refuses."""

    def __init__(self, model: type, source: str):
        import hashlib
        import json

        from f1pipe.schemas import EVENT_ID_NAMESPACE, plain_type

        self._sha256, self._dumps = hashlib.sha256, json.dumps
        self.model = model
        self.source = source
        self.struct = payload_struct(model)
        fields = model.model_fields
        self.order = tuple(fields)
        self.defaults = {n: i.default for n, i in fields.items() if not i.is_required()}
        self.types = {n: plain_type(i.annotation) for n, i in fields.items()}
        self.schema = {"name": model.schema_name, "version": model.schema_version}
        self.prefix = f"{model.schema_name}/{model.schema_version}/"
        self.key_fields = model.key_fields
        self.partition_fields = model.partition_key_fields
        self.namespace = EVENT_ID_NAMESPACE.bytes

    def build(self, values: dict[str, Any], produced_at: str) -> tuple[str, dict] | None:
        """The key and message of the payload ``values`` (``produced_at``: ISO UTC text with
        ms, as :func:`~f1pipe.schemas.make_message` writes it); None: ask the model."""
        if self.struct is None:
            return None
        types, plain = self.types, True
        for name, value in values.items():
            kind = types.get(name)
            if value is None or type(value) is kind:
                if kind is str and value is not None:
                    if "\x00" in value:
                        return None  # the model's reason
                    plain = plain and value.isascii() and value.isprintable()
                elif kind is float:
                    plain = False
                continue
            return None  # unknown field, or a value the model would coerce or refuse
        try:
            msgspec.convert(values, self.struct)
        except (msgspec.ValidationError, ValueError, TypeError):
            return None
        if len(values) == len(self.order) and tuple(values) == self.order:
            dump = values  # every field, in order: as the model dumps them
        else:
            dump = {**self.defaults, **values}
            dump = {name: dump[name] for name in self.order}
        return self._key(dump, self.partition_fields), {
            "schema": dict(self.schema), "event_id": self._event_id(dump, plain),
            "produced_at": produced_at, "source": self.source, **dump}

    def _event_id(self, dump: dict, plain: bool) -> str:
        """:func:`~f1pipe.schemas.event_id`: the sorted compact JSON of the fields (msgspec
        writes the same bytes as ``json.dumps`` for ints and printable ASCII strings), its
        SHA-256, the natural key, as a UUID 5."""
        if plain:
            body = _SORTED.encode(dump)
        else:
            body = self._dumps(dump, sort_keys=True, separators=(",", ":")).encode()
        digest = self._sha256(body).hexdigest()
        name = f"{self.prefix}{self._key(dump, self.key_fields)}/{digest}"
        return uuid5_text(self.namespace, name)

    @staticmethod
    def _key(dump: dict, fields: tuple[str, ...]) -> str:
        return "-".join("" if dump[f] is None else str(dump[f]) for f in fields)
