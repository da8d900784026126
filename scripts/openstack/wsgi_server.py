"""A small threaded WSGI server for the OpenStack APIs of Nuage's test stack.

Every OpenStack API ships as a WSGI application; this serves one of them on a loopback port.
Usage: python wsgi_server.py --host H --port P --app module:attribute [--name NAME] [-- ARGS...]
`sys.argv` is reset to `[NAME, *ARGS]` before the application is imported, since oslo.config
parses the command line at import time (Cinder reads `--config-file` from there).
"""

import argparse
import importlib
import socketserver
import sys
from wsgiref import simple_server


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _Handler(simple_server.WSGIRequestHandler):
    def address_string(self):
        return self.client_address[0]

    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))


def _skip_thread_yield():
    """Drops oslo.db's `time.sleep(0)` on every connection check-in.

    It exists for eventlet green threads; with real threads on a busy 2-core machine each sleep
    hands the core to another process, and a Keystone call (dozens of check-ins) took seconds.
    """
    try:
        from oslo_db.sqlalchemy import engines
    except ImportError:
        return
    engines._thread_yield = lambda dbapi_con, con_record: None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--name", default="wsgi")
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    sys.argv = [args.name, *rest]
    _skip_thread_yield()
    module_name, _, attribute = args.app.partition(":")
    module = importlib.import_module(module_name)
    app = getattr(module, attribute)
    if callable(app) and attribute.startswith("init"):
        app = app()
    server = simple_server.make_server(
        args.host, args.port, app, server_class=_Server, handler_class=_Handler
    )
    sys.stderr.write("%s serving %s on %s:%d\n" % (args.name, args.app, args.host, args.port))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
