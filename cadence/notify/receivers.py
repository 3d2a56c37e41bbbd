"""Local alert receivers on 127.0.0.1, for tests and for trying alerts without Slack or a mail server.

- ``LocalWebhook``: an HTTP server that records every POST (path and JSON body); it can answer 503 to the
  first N requests, like a receiver that is down and comes back.
- ``LocalSmtp``: a real SMTP server (aiosmtpd, a dev dependency) that records every message; it can be
  created on a port and started later, like a mail server that is down at first.

``python -m cadence.notify.receivers`` runs both and prints the apprise URLs to put in CADENCE_ALERT_URLS.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class LocalWebhook:
    def __init__(self, fail_first: int = 0, fail_status: int = 503):
        self.received: list[tuple[str, dict]] = []
        self.refused = 0
        self.fail_remaining = fail_first
        self.fail_status = fail_status
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if hook.fail_remaining > 0:
                    hook.fail_remaining -= 1
                    hook.refused += 1
                    self.send_response(hook.fail_status)
                else:
                    hook.received.append((self.path, json.loads(body or b"{}")))
                    self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args):
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def start(self) -> LocalWebhook:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def bodies(self, path: str | None = None) -> list[dict]:
        return [body for p, body in self.received if path is None or p == path]


class LocalSmtp:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self._controller = None

    def start(self) -> LocalSmtp:
        from aiosmtpd.controller import Controller

        box = self.messages

        class Handler:
            async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 (aiosmtpd's name)
                box.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        self._controller = Controller(Handler(), hostname=HOST, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @staticmethod
    def text(message: EmailMessage) -> str:
        """The message's text (its plain part, else its HTML part)."""
        part = message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


def main() -> None:  # pragma: no cover (manual tool)
    hook, smtp = LocalWebhook().start(), LocalSmtp().start()
    print("Local receivers on 127.0.0.1. For example:")
    print(f'  export CADENCE_ALERT_URLS="json://{HOST}:{hook.port}/alerts '
          f'mailto://{HOST}:{smtp.port}?from=cadence@example.com&to=ops@example.com&mode=insecure"')
    try:
        seen = 0
        while True:
            time.sleep(1)
            for path, body in hook.received[seen:]:
                print(f"--- webhook {path}\n{json.dumps(body, indent=2)}")
            seen = len(hook.received)
            while smtp.messages:
                msg = smtp.messages.pop(0)
                print(f"--- e-mail to {msg['To']}: {msg['Subject']}\n{LocalSmtp.text(msg)}")
    except KeyboardInterrupt:
        hook.stop()
        smtp.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
