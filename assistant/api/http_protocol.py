"""The HTTP protocol ``gdr serve`` runs: uvicorn's httptools protocol, answering in French.

A request that the HTTP parser itself rejects (a header line without a colon, a request line or headers
beyond the parser's limits) never reaches the application, so its error handlers cannot translate it:
uvicorn answered « Invalid HTTP request received. » in English plain text. This subclass sends the
application's error shape instead (JSON ``detail`` in French, ``code``), still with status 400.
"""

from __future__ import annotations

import json
from typing import Any

BAD_REQUEST_FR = ("Requête HTTP illisible : ligne de requête ou en-têtes mal formés, ou trop longs (adresse de "
                  "plus de quelques dizaines de kilo-octets, par exemple) ; envoyez les données dans le corps "
                  "de la requête.")


def bad_request_bytes(default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The whole 400 response, headers included (pure)."""
    body = json.dumps({"detail": BAD_REQUEST_FR, "code": "bad_http_request"}, ensure_ascii=False).encode("utf-8")
    lines = [b"HTTP/1.1 400 Bad Request\r\n"]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines += [b"content-type: application/json\r\n", b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
              b"connection: close\r\n", b"\r\n", body]
    return b"".join(lines)


def french_http_protocol() -> type[Any]:
    """uvicorn's ``HttpToolsProtocol`` with a French 400 (imported here: uvicorn is only needed to serve)."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class FrenchHttpToolsProtocol(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:  # msg: uvicorn's English text, logged by uvicorn
            self.transport.write(bad_request_bytes(list(self.server_state.default_headers)))
            self.transport.close()

    return FrenchHttpToolsProtocol
