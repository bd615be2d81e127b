"""Snowflake key-pair authentication: SNOWFLAKE_PRIVATE_KEY_PATH (+ passphrase) is read,
handed to the real connector as ``private_key``, which logs in with a JWT signed by that key;
a missing, garbled or wrongly-locked key file is a one-line error naming the setting."""

from __future__ import annotations

import base64
import gzip
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from f1pipe.config import load_settings
from f1pipe.errors import ConfigError, F1PipeError
from f1pipe.warehouse.snowflake.client import SnowflakeDestination, connect_kwargs
from tests.fixtures.snowflake import FAKE_ACCOUNT

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_key(path, passphrase: bytes | None = None):
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    path.write_bytes(KEY.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8, encryption))
    return path


def key_settings(path, passphrase: str | None = None, **more):
    account = {k: v for k, v in FAKE_ACCOUNT.items() if k != "snowflake_password"}
    return load_settings(**account, snowflake_password=None, snowflake_private_key_path=path,
                         snowflake_private_key_passphrase=passphrase, **more)


def same_key(der: bytes) -> bool:
    loaded = serialization.load_der_private_key(der, password=None)
    return loaded.private_numbers() == KEY.private_numbers()


def test_key_is_read_and_passed_instead_of_a_password(tmp_path):
    kwargs = connect_kwargs(key_settings(write_key(tmp_path / "key.p8")))
    assert "password" not in kwargs
    assert same_key(kwargs["private_key"])


def test_encrypted_key_is_opened_with_the_passphrase(tmp_path):
    path = write_key(tmp_path / "key.p8", b"pit-wall")
    assert same_key(connect_kwargs(key_settings(path, "pit-wall"))["private_key"])


@pytest.mark.parametrize(("content", "passphrase", "expected"), [
    (None, None, "cannot read .*key.p8: No such file"),
    (b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", None,
     "is not a PEM private key$"),
    (b"\x00\xff binary garbage", None, "is not a PEM private key$"),
    ("encrypted", None, "is encrypted: set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE$"),
    ("encrypted", "wrong", r"not a PEM private key \(or SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is "
                           r"wrong\)$"),
    ("clear", "unneeded", "is not encrypted: unset SNOWFLAKE_PRIVATE_KEY_PASSPHRASE$"),
])
def test_bad_key_file_is_one_line_naming_the_setting(tmp_path, content, passphrase, expected):
    path = tmp_path / "key.p8"
    if content == "encrypted":
        write_key(path, b"pit-wall")
    elif content == "clear":
        write_key(path)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        connect_kwargs(key_settings(path, passphrase))
    message = str(caught.value)
    assert message.startswith("bad setting SNOWFLAKE_PRIVATE_KEY_PATH: ")
    assert "\n" not in message and "pit-wall" not in message
    assert re.search(expected, message), message


def test_neither_password_nor_key_names_both_settings():
    account = {k: v for k, v in FAKE_ACCOUNT.items() if k != "snowflake_password"}
    with pytest.raises(ConfigError, match="SNOWFLAKE_PASSWORD \\(or SNOWFLAKE_PRIVATE_KEY_PATH"):
        connect_kwargs(load_settings(**account, snowflake_password=None))


class _RecordLogin(BaseHTTPRequestHandler):
    """Keeps the login request's JSON body, then refuses the login as Snowflake does."""

    bodies: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).bodies.append(json.loads(body or b"{}"))
        answer = json.dumps({"data": None, "code": "390144", "success": False,
                             "message": "JWT token is invalid."}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


def test_the_real_connector_logs_in_with_a_jwt_signed_by_the_key(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordLogin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings = key_settings(write_key(tmp_path / "key.p8"), snowflake_host="127.0.0.1",
                                snowflake_port=server.server_address[1],
                                snowflake_protocol="http")
        with pytest.raises(F1PipeError) as caught:
            SnowflakeDestination.open(settings)
    finally:
        server.shutdown()
        server.server_close()
    assert "SNOWFLAKE_PRIVATE_KEY_PATH" in str(caught.value)
    login = _RecordLogin.bodies[-1]["data"]
    assert login["AUTHENTICATOR"] == "SNOWFLAKE_JWT" and "PASSWORD" not in login
    header, payload, signature = login["TOKEN"].split(".")
    pad = lambda part: base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))  # noqa: E731
    KEY.public_key().verify(pad(signature), f"{header}.{payload}".encode(),
                            padding.PKCS1v15(), hashes.SHA256())  # raises if not our key
    assert json.loads(pad(payload))["sub"] == "FAKESNOW.F1PIPE"


def test_fakesnow_accepts_a_key_pair_connection(fakesnow_account, tmp_path):
    settings = key_settings(write_key(tmp_path / "key.p8"))
    destination = SnowflakeDestination.open(settings)
    assert destination.fetch("SELECT 41 + 1 AS answer") == (["answer"], [(42,)])
