#!/usr/bin/python3
"""harbor-lab registryctl (NOT Harbor): answers /api/health like Harbor's registryctl, so the
layout and the compose file match. The program does not call it; GC is not modelled."""
import http.server
import labcommon

log = labcommon.logger("registryctl")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        log("%s %s", self.address_string(), fmt % args)

    def do_GET(self):
        code, body = (200, b"") if self.path == "/api/health" else (404, b"not found\n")
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    labcommon.exit_on_sigterm(log)
    log("listening on :8080")
    labcommon.Server(("", 8080), Handler).serve_forever()
