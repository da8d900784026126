"""Minimal JSON-over-HTTP helpers (standard library only) for seeding the test stack."""

import json
import urllib.error
import urllib.request


def wait_http(url):
    """True once `url` answers HTTP at all (any status)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True


class HttpError(RuntimeError):
    def __init__(self, method, url, status, body):
        super().__init__("%s %s -> %d: %s" % (method, url, status, body[:500]))
        self.status = status


class Api:
    """Keystone-authenticated client: password auth, project scope, token kept."""

    def __init__(self, keystone_v3, user, password, project, domain="Default"):
        self.keystone = keystone_v3
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "password": password, "domain": {"name": domain}}}},
            "scope": {"project": {"name": project, "domain": {"name": domain}}},
        }}
        status, headers, data = request("POST", keystone_v3 + "/auth/tokens", body)
        self.token = headers["X-Subject-Token"]
        self.catalog = data["token"]["catalog"]
        self.project_id = data["token"]["project"]["id"]
        self.user_id = data["token"]["user"]["id"]

    def endpoint(self, service_type):
        for service in self.catalog:
            if service["type"] == service_type:
                for endpoint in service["endpoints"]:
                    if endpoint["interface"] == "public":
                        return endpoint["url"].rstrip("/")
        raise KeyError(service_type)

    def call(self, method, url, body=None, headers=None, raw=None):
        all_headers = {"X-Auth-Token": self.token}
        all_headers.update(headers or {})
        return request(method, url, body, all_headers, raw)[2]


def request(method, url, body=None, headers=None, raw=None):
    headers = dict(headers or {})
    data = None
    if raw is not None:
        data = raw
        headers.setdefault("Content-Type", "application/octet-stream")
    elif body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    if data is not None:
        req.add_header("Content-Length", str(len(data)))
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            payload = resp.read()
            parsed = json.loads(payload) if payload.strip() else None
            return resp.status, resp.headers, parsed
    except urllib.error.HTTPError as exc:
        raise HttpError(method, url, exc.code, exc.read().decode(errors="replace")) from None
