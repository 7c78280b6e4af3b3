"""A stand-in for the part of Panther's public GraphQL API that `pat upload` uses, on loopback.

The operations and their shapes come from panther_analysis_tool itself (backend/graphql/*.graphql
and backend/public_api_client.py): introspection (does the API offer async uploads? here: no),
`schemas` (log types, for validating the detections' LogTypes), `uploadDetectionEntities` (the
upload: the zip, base64, in `input.data`), `featureFlags`. It records every request and answers
like Panther, or rejects the upload when told to.
"""

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG_TYPES = ("AWS.CloudTrail",)


@dataclass
class Request:
    headers: dict
    query: str
    variables: dict


@dataclass
class FakePanther:
    reject_upload: str = ""  # an error message to answer the upload with, or "" to accept it
    requests: list[Request] = field(default_factory=list)
    uploads: list[bytes] = field(default_factory=list)

    def answer(self, query: str, variables: dict) -> dict:  # noqa: PLR0911 - one per operation
        if "__schema" in query:
            fields = [{"name": "uploadDetectionEntities"}, {"name": "schemas"}]
            types = [
                {"name": name, "kind": "OBJECT", "fields": fields} for name in ("Mutation", "Query")
            ]
            return {"data": {"__schema": {"types": types}}}
        if "schemas(" in query:
            edges = [
                {
                    "node": {
                        "name": name,
                        "createdAt": "",
                        "description": "",
                        "isManaged": True,
                        "referenceURL": "",
                        "revision": 1,
                        "spec": "",
                        "updatedAt": "",
                    }
                }
                for name in LOG_TYPES
            ]
            return {"data": {"schemas": {"edges": edges}}}
        if "featureFlags(" in query:
            flags = [
                {"flag": f["flag"], "treatment": False}
                for f in variables.get("input", {}).get("flags", [])
            ]
            return {"data": {"featureFlags": {"flags": flags}}}
        if "uploadDetectionEntities(" in query:
            if self.reject_upload:
                error = {"message": self.reject_upload, "path": ["uploadDetectionEntities"]}
                return {"data": None, "errors": [error]}
            self.uploads.append(base64.b64decode(variables["input"]["data"]))
            stats = {"modified": 0, "new": 1, "total": 1}
            keys = (
                "dataModels",
                "globalHelpers",
                "lookupTables",
                "policies",
                "rules",
                "queries",
                "correlationRules",
                "scheduledPrompts",
            )
            return {"data": {"uploadDetectionEntities": dict.fromkeys(keys, stats)}}
        if "generalSettings" in query:
            return {"data": {"generalSettings": {"pantherVersion": "1.200.0"}}}
        return {"data": None, "errors": [{"message": f"unsupported operation: {query[:80]}"}]}


def serve(panther: FakePanther) -> tuple[ThreadingHTTPServer, str]:
    """Start the fake on 127.0.0.1 (a free port); returns the server and its GraphQL URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            query, variables = body.get("query", ""), body.get("variables") or {}
            panther.requests.append(Request(dict(self.headers), query, variables))
            payload = json.dumps(panther.answer(query, variables)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args):  # keep test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/public/graphql"
