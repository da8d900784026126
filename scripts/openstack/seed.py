"""Seeds the test stack as a real deployment would be: identity, catalog, flavors, images, quotas.

What the adapter's tests rely on (all of it is written to stack.json):
  - project `nuage` with user `nuage` (role `member`) and an application credential for it;
  - domain `nuage-domain` with user `nuage-domain-user` holding `member` on the domain and on
    its project `nuage-domain-project` (domain and project scoping);
  - project `nuage-quota` (user `nuage` is a member) with tiny quotas: 1 instance, 1 vCPU,
    1 network, 1 GiB of volumes;
  - flavors m1.tiny .. m1.large, public raw images debian-12 / debian-13 / ubuntu-24.04 with
    `os_distro` and `os_version` properties (full stack only);
  - keystone-only: sample `compute` endpoints in RegionOne (public, internal, admin) and
    RegionTwo (public) for catalog-selection tests.
"""

import time

from http_util import Api, HttpError, request

REGION = "RegionOne"
FLAVORS = [
    # name, vcpus, ram MiB, disk GiB
    ("m1.tiny", 1, 512, 1),
    ("m1.small", 1, 2048, 20),
    ("m1.medium", 2, 4096, 40),
    ("m1.large", 4, 8192, 80),
    ("m1.xlarge", 8, 16384, 160),
]
IMAGES = [("debian-12", "debian", "12"), ("debian-13", "debian", "13"),
          ("ubuntu-24.04", "ubuntu", "24.04")]


def _create(admin, path, key, body):
    return admin.call("POST", admin.keystone + path, {key: body})[key]


def _role_id(admin, name):
    roles = admin.call("GET", admin.keystone + "/roles?name=" + name)["roles"]
    if roles:
        return roles[0]["id"]
    return _create(admin, "/roles", "role", {"name": name})["id"]


def _grant(admin, target, target_id, user_id, role_id):
    admin.call("PUT", admin.keystone + "/%s/%s/users/%s/roles/%s" % (
        target, target_id, user_id, role_id))


def _service(admin, service_type, name, urls):
    service = _create(admin, "/services", "service", {"type": service_type, "name": name})
    for region, interface, url in urls:
        _create(admin, "/endpoints", "endpoint", {
            "service_id": service["id"], "interface": interface, "url": url,
            "region_id": region})


def identity(stack, admin):
    ks = admin.keystone
    member = _role_id(admin, "member")
    admin_role = _role_id(admin, "admin")
    service_role = _role_id(admin, "service")
    default = "default"

    nuage_project = _create(admin, "/projects", "project", {
        "name": "nuage", "domain_id": default, "description": "Nuage adapter tests"})
    quota_project = _create(admin, "/projects", "project", {
        "name": "nuage-quota", "domain_id": default, "description": "tiny quotas"})
    user = _create(admin, "/users", "user", {
        "name": "nuage", "domain_id": default, "password": stack.user_password})
    _grant(admin, "projects", nuage_project["id"], user["id"], member)
    _grant(admin, "projects", quota_project["id"], user["id"], member)

    domain = _create(admin, "/domains", "domain", {"name": "nuage-domain"})
    domain_project = _create(admin, "/projects", "project", {
        "name": "nuage-domain-project", "domain_id": domain["id"]})
    domain_user = _create(admin, "/users", "user", {
        "name": "nuage-domain-user", "domain_id": domain["id"], "password": stack.user_password})
    _grant(admin, "domains", domain["id"], domain_user["id"], member)
    _grant(admin, "projects", domain_project["id"], domain_user["id"], member)

    # An application credential of `nuage` on project `nuage`, created with the user's own token.
    user_api = Api(ks, "nuage", stack.user_password, "nuage")
    app_cred = user_api.call("POST", ks + "/users/%s/application_credentials" % user["id"], {
        "application_credential": {"name": "nuage-tests", "description": "adapter tests"}},
    )["application_credential"]

    info = {
        "mode": stack.args.mode,
        "region": REGION,
        "auth_url": ks,
        "token_expiration": stack.args.token_expiration,
        "admin": {"username": "admin", "password": stack.admin_password, "project": "admin",
                  "domain": "Default"},
        "user": {"username": "nuage", "password": stack.user_password, "id": user["id"],
                 "domain": "Default", "project": "nuage", "project_id": nuage_project["id"]},
        "quota_project": {"name": "nuage-quota", "id": quota_project["id"]},
        "domain_user": {"username": "nuage-domain-user", "password": stack.user_password,
                        "domain": "nuage-domain", "domain_id": domain["id"],
                        "project": "nuage-domain-project", "project_id": domain_project["id"]},
        "application_credential": {"id": app_cred["id"], "name": app_cred["name"],
                                   "secret": app_cred["secret"]},
    }

    if not stack.full:
        _create(admin, "/regions", "region", {"id": "RegionTwo"})
        _service(admin, "compute", "nova", [
            (REGION, "public", "http://compute.region-one.example/public/v2.1"),
            (REGION, "internal", "http://compute.region-one.example/internal/v2.1"),
            (REGION, "admin", "http://compute.region-one.example/admin/v2.1"),
            ("RegionTwo", "public", "http://compute.region-two.example/public/v2.1"),
        ])
        return info

    service_project = _create(admin, "/projects", "project", {
        "name": "service", "domain_id": default})
    for name in ("nova", "neutron", "glance", "placement", "cinder"):
        if name == "cinder" and not stack.cinder:
            continue
        service_user = _create(admin, "/users", "user", {
            "name": name, "domain_id": default, "password": stack.password})
        _grant(admin, "projects", service_project["id"], service_user["id"], admin_role)
        _grant(admin, "projects", service_project["id"], service_user["id"], service_role)
    everywhere = lambda url: [(REGION, i, url) for i in ("public", "internal", "admin")]
    _service(admin, "compute", "nova", everywhere(stack.url("nova") + "/v2.1"))
    _service(admin, "placement", "placement", everywhere(stack.url("placement")))
    _service(admin, "image", "glance", everywhere(stack.url("glance")))
    _service(admin, "network", "neutron", everywhere(stack.url("neutron")))
    if stack.cinder:
        volume_url = stack.url("cinder") + "/v3/%(project_id)s"
        _service(admin, "volumev3", "cinderv3", everywhere(volume_url))
        _service(admin, "block-storage", "cinder", everywhere(volume_url))
    return info


def cloud(stack, admin, info):
    """Waits for compute (and volume) hosts, then seeds flavors, images and quotas."""
    admin = type(admin)(admin.keystone, "admin", stack.admin_password, "admin")  # fresh catalog
    nova = admin.endpoint("compute")
    placement = admin.endpoint("placement")
    stack.wait("nova-compute in os-services", lambda: admin.call(
        "GET", nova + "/os-services?binary=nova-compute")["services"], timeout=120)
    stack.run("nova-manage", [stack.bin + "/nova-manage", "--config-file",
                              stack.conf_dir("nova") + "/nova.conf", "cell_v2",
                              "discover_hosts"])
    stack.wait("compute resource provider", lambda: admin.call(
        "GET", placement + "/resource_providers",
        headers={"OpenStack-API-Version": "placement 1.14"})["resource_providers"], timeout=120)

    flavors = {}
    for name, vcpus, ram, disk in FLAVORS:
        flavor = admin.call("POST", nova + "/flavors", {"flavor": {
            "name": name, "vcpus": vcpus, "ram": ram, "disk": disk}})["flavor"]
        flavors[name] = flavor["id"]

    glance = admin.endpoint("image")
    images = {}
    for name, distro, version in IMAGES:
        image = admin.call("POST", glance + "/v2/images", {
            "name": name, "disk_format": "raw", "container_format": "bare",
            "visibility": "public", "os_distro": distro, "os_version": version})
        admin.call("PUT", glance + "/v2/images/%s/file" % image["id"], raw=b"\0" * 1024)
        images[name] = image["id"]

    quota_id = info["quota_project"]["id"]
    admin.call("PUT", nova + "/os-quota-sets/" + quota_id, {"quota_set": {
        "instances": 1, "cores": 1}})
    neutron = admin.endpoint("network")
    admin.call("PUT", neutron + "/v2.0/quotas/" + quota_id, {"quota": {"network": 1}})
    out = {"flavors": flavors, "images": images,
           "endpoints": {"compute": nova, "image": glance, "network": neutron,
                         "placement": placement}}
    if stack.cinder:
        cinder = admin.endpoint("volumev3")
        stack.wait("cinder-volume up", lambda: any(
            s["binary"] == "cinder-volume" and s["state"] == "up"
            for s in admin.call("GET", cinder + "/os-services")["services"]), timeout=120)
        admin.call("PUT", cinder + "/os-quota-sets/" + quota_id, {"quota_set": {
            "gigabytes": 1}})
        out["endpoints"]["volumev3"] = cinder
    for image_id in images.values():
        stack.wait("image active", lambda image_id=image_id: admin.call(
            "GET", glance + "/v2/images/" + image_id)["status"] == "active", timeout=60)
    return out


__all__ = ["identity", "cloud", "HttpError", "request", "time"]
