"""A stand-in for CitrineOS's HTTP message API, following its routes (citrineos-core:
AbstractModuleApi._toMessagePath, Configuration and EVDriver MessageApi):

    POST /ocpp/{1.6|2.0.1}/{configuration|evdriver}/{reset|changeAvailability|
         triggerMessage|unlockConnector}?identifier=<station>&tenantId=<n>

The body is validated against the OCPP request schema (the `ocpp` package's bundled
ones, as CitrineOS validates with its own copies); a bad body or query gets 400 as from
Fastify, an unknown route 404; success is one IMessageConfirmation per identifier."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import ocpp

ROUTES = {
    ("configuration", "reset"): "Reset",
    ("configuration", "changeAvailability"): "ChangeAvailability",
    ("configuration", "triggerMessage"): "TriggerMessage",
    ("evdriver", "unlockConnector"): "UnlockConnector",
}
SCHEMAS = Path(ocpp.__file__).parent


def schema(version: str, action: str) -> dict[str, Any]:
    if version == "1.6":
        path = SCHEMAS / "v16" / "schemas" / f"{action}.json"
    else:
        path = SCHEMAS / "v201" / "schemas" / f"{action}Request.json"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@dataclass
class Sent:
    version: str
    action: str
    identifier: list[str]
    tenant: int
    body: dict[str, Any]


@dataclass
class CitrineStandIn:
    calls: list[Sent] = field(default_factory=list)
    refuse: bool = False  # answer success: false (station not connected to CitrineOS)

    def __enter__(self) -> CitrineStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:  # http.server's name
                status, body = standin.handle(self.path, self.rfile.read(
                    int(self.headers.get("Content-Length") or 0)))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, path: str, raw: bytes) -> tuple[int, Any]:
        parts = urlsplit(path)
        segments = parts.path.strip("/").split("/")
        if len(segments) != 4 or segments[0] != "ocpp" or segments[1] not in ("1.6", "2.0.1"):
            return 404, {"message": f"Route POST:{parts.path} not found"}
        action = ROUTES.get((segments[2], segments[3]))
        if action is None:
            return 404, {"message": f"Route POST:{parts.path} not found"}
        query = parse_qs(parts.query)
        if "identifier" not in query or not query.get("tenantId", [""])[0].isdigit():
            return 400, {"message": "querystring must have required property 'identifier'"}
        try:
            body = json.loads(raw)
            jsonschema.validate(body, schema(segments[1], action))
        except (ValueError, jsonschema.ValidationError) as exc:
            return 400, {"message": f"body invalid: {str(exc)[:200]}"}
        self.calls.append(Sent(segments[1], action, query["identifier"],
                               int(query["tenantId"][0]), body))
        return 200, [{"success": not self.refuse} for _ in query["identifier"]]
