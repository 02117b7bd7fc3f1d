"""A tiny HTTP server running a CGI program per request (MapServer's ``mapserv`` in the tests).

Run in its own process: GDAL, the client under test, holds Python's GIL while it waits for an
answer, so a server thread in the test's own process would never answer it.

    python -m tests.ingest.cgi_server PORT PROGRAM KEY=VALUE ...   (environment for the program)
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys


def main() -> None:
    port, program, *assignments = sys.argv[1:]
    extra = dict(a.split("=", 1) for a in assignments)
    fixed_query = extra.pop("QUERY_PREFIX", "")

    class CGI(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            query = self.path.partition("?")[2]
            env = {
                **os.environ,
                **extra,
                "QUERY_STRING": f"{fixed_query}&{query}" if fixed_query else query,
                "REQUEST_METHOD": "GET",
            }
            out = subprocess.run([program], env=env, capture_output=True, check=False).stdout
            head, _, body = out.replace(b"\r\n", b"\n").partition(b"\n\n")
            self.send_response(200)
            for line in head.decode(errors="replace").splitlines():
                name, _, value = line.partition(":")
                self.send_header(name.strip(), value.strip())
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), CGI)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
