"""Configuration files of every service of the test stack (written into the fresh state dir)."""

import base64
import os
import shutil

REGION = "RegionOne"


def _write(path, sections):
    lines = []
    for section, options in sections.items():
        lines.append("[%s]" % section)
        for key, value in options.items():
            lines.append("%s = %s" % (key, value))
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def _auth(stack, user):
    """keystoneauth password options for a service user of the `service` project."""
    return {
        "auth_type": "password",
        "auth_url": stack.url("keystone") + "/v3",
        "username": user,
        "password": stack.password,
        "project_name": "service",
        "user_domain_name": "Default",
        "project_domain_name": "Default",
        "region_name": REGION,
    }


def _authtoken(stack, user):
    options = _auth(stack, user)
    options.update({
        "www_authenticate_uri": stack.url("keystone") + "/v3",
        "interface": "public",
        "service_token_roles_required": "true",
    })
    return options


def _common(stack, service):
    return {
        "oslo_concurrency": {"lock_path": os.path.join(stack.state, "lock", service)},
        "oslo_messaging_notifications": {"driver": "noop"},
    }


def write_keystone(stack):
    conf_dir = stack.conf_dir("keystone")
    key_dir = os.path.join(stack.state, "keystone")
    os.makedirs(key_dir, exist_ok=True)
    for repository in ("fernet-keys", "credential-keys"):
        # What `keystone-manage fernet_setup` makes: key 0 staged, key 1 primary.
        path = os.path.join(key_dir, repository)
        os.makedirs(path, mode=0o700)
        for index in ("0", "1"):
            with open(os.path.join(path, index), "wb") as f:
                f.write(base64.urlsafe_b64encode(os.urandom(32)))
    # MariaDB even for Keystone alone: on SQLite oslo.db opens a connection per check-out and a
    # token validation took about 0.5 s on a busy machine.
    connection = stack.db_url("keystone")
    _write(os.path.join(conf_dir, "keystone.conf"), {
        "DEFAULT": {"use_stderr": "true"},
        "database": {"connection": connection},
        "token": {"provider": "fernet", "expiration": str(stack.args.token_expiration)},
        "fernet_tokens": {"key_repository": os.path.join(key_dir, "fernet-keys")},
        # Bootstrap also checks the receipts' repository (default /etc/keystone/fernet-keys):
        # point it at ours, or a fresh machine without /etc/keystone fails.
        "fernet_receipts": {"key_repository": os.path.join(key_dir, "fernet-keys")},
        "credential": {"key_repository": os.path.join(key_dir, "credential-keys")},
        # One Keystone process: an in-process cache is coherent and saves dozens of queries per
        # token validation (each a context switch, which is slow on a busy 2-core machine).
        "cache": {"enabled": "true", "backend": "dogpile.cache.memory"},
        # bcrypt's minimum cost: password checks are a test fixture here, not a defence.
        "identity": {"password_hash_rounds": "4"},
        # Response schema validation costs about 0.5 s of CPU per call; the stack serves tests.
        "api": {"response_validation": "ignore"},
    })


def write_all(stack):
    venv_etc = os.path.join(stack.venv, "etc")
    state = stack.state
    host = "nuage-os-%d" % os.getpid()

    placement = {
        "DEFAULT": {"use_stderr": "true"},
        "placement_database": {"connection": stack.db_url("placement")},
        "api": {"auth_strategy": "keystone"},
        "keystone_authtoken": _authtoken(stack, "placement"),
    }
    placement.update(_common(stack, "placement"))
    _write(os.path.join(stack.conf_dir("placement"), "placement.conf"), placement)

    glance_dir = stack.conf_dir("glance")
    shutil.copy(os.path.join(venv_etc, "glance", "glance-api-paste.ini"), glance_dir)
    glance = {
        "DEFAULT": {"use_stderr": "true", "enabled_backends": "fs:file",
                    "bind_host": "127.0.0.1", "bind_port": str(stack.ports["glance"]),
                    "worker_self_reference_url": stack.url("glance")},
        "glance_store": {"default_backend": "fs"},
        "fs": {"filesystem_store_datadir": os.path.join(state, "glance", "images")},
        "os_glance_staging_store": {"filesystem_store_datadir": os.path.join(state, "glance", "staging")},
        "os_glance_tasks_store": {"filesystem_store_datadir": os.path.join(state, "glance", "tasks")},
        "database": {"connection": stack.db_url("glance")},
        "keystone_authtoken": _authtoken(stack, "glance"),
        "paste_deploy": {"flavor": "keystone"},
    }
    glance.update(_common(stack, "glance"))
    _write(os.path.join(glance_dir, "glance-api.conf"), glance)

    neutron_dir = stack.conf_dir("neutron")
    shutil.copy(os.path.join(venv_etc, "neutron", "api-paste.ini"), neutron_dir)
    neutron = {
        "DEFAULT": {
            "use_stderr": "true", "core_plugin": "ml2", "service_plugins": "",
            "auth_strategy": "keystone", "transport_url": stack.transport_url,
            "notify_nova_on_port_status_changes": "false",
            "notify_nova_on_port_data_changes": "false",
            "state_path": os.path.join(state, "neutron"),
            "api_paste_config": os.path.join(neutron_dir, "api-paste.ini"),
            "host": host,
        },
        "database": {"connection": stack.db_url("neutron")},
        "keystone_authtoken": _authtoken(stack, "neutron"),
        "ml2": {"type_drivers": "flat,vlan,vxlan", "tenant_network_types": "vxlan",
                "mechanism_drivers": "nuage_bind_all", "extension_drivers": "port_security"},
        "ml2_type_vxlan": {"vni_ranges": "1:10000"},
        "ml2_type_flat": {"flat_networks": "*"},
        "securitygroup": {"enable_security_group": "true", "firewall_driver": "noop"},
    }
    neutron.update(_common(stack, "neutron"))
    _write(os.path.join(neutron_dir, "neutron.conf"), neutron)

    nova_dir = stack.conf_dir("nova")
    shutil.copy(os.path.join(venv_etc, "nova", "api-paste.ini"), nova_dir)
    nova = {
        "DEFAULT": {
            "use_stderr": "true", "transport_url": stack.transport_url,
            "compute_driver": "fake.FakeDriver", "host": host, "my_ip": "127.0.0.1",
            "state_path": os.path.join(state, "nova"),
            "instances_path": os.path.join(state, "nova", "instances"),
            "enabled_apis": "osapi_compute", "osapi_compute_workers": "1",
            "allow_resize_to_same_host": "true",
        },
        "api": {"auth_strategy": "keystone"},
        "wsgi": {"api_paste_config": os.path.join(nova_dir, "api-paste.ini")},
        "api_database": {"connection": stack.db_url("nova_api")},
        "database": {"connection": stack.db_url("nova")},
        "keystone_authtoken": _authtoken(stack, "nova"),
        "service_user": dict(_auth(stack, "nova"), send_service_user_token="true"),
        "placement": dict(_auth(stack, "nova"), valid_interfaces="public"),
        "neutron": dict(_auth(stack, "nova"), valid_interfaces="public"),
        "glance": {"valid_interfaces": "public", "region_name": REGION},
        "cinder": dict(_auth(stack, "nova"), catalog_info="volumev3:cinderv3:publicURL",
                       os_region_name=REGION),
        "scheduler": {"discover_hosts_in_cells_interval": "-1", "workers": "1"},
        "conductor": {"workers": "1"},
        "vnc": {"enabled": "false"},
        "compute": {"cpu_allocation_ratio": "4.0"},
    }
    del nova["cinder"]["region_name"]
    nova.update(_common(stack, "nova"))
    _write(os.path.join(nova_dir, "nova.conf"), nova)

    if stack.cinder:
        cinder_dir = stack.conf_dir("cinder")
        shutil.copy(os.path.join(venv_etc, "cinder", "api-paste.ini"), cinder_dir)
        # The list filters Cinder accepts (name, metadata, status...) as deployed by default.
        shutil.copy(os.path.join(venv_etc, "cinder", "resource_filters.json"), cinder_dir)
        cinder = {
            "DEFAULT": {
                "use_stderr": "true", "transport_url": stack.transport_url,
                "auth_strategy": "keystone", "enabled_backends": "fake", "host": host,
                "my_ip": "127.0.0.1", "state_path": os.path.join(state, "cinder"),
                "api_paste_config": os.path.join(cinder_dir, "api-paste.ini"),
                "osapi_volume_workers": "1",
                "resource_query_filters_file": os.path.join(cinder_dir, "resource_filters.json"),
            },
            "fake": {"volume_driver": "cinder.tests.fake_driver.FakeLoggingVolumeDriver",
                     "volume_backend_name": "fake"},
            "database": {"connection": stack.db_url("cinder")},
            "keystone_authtoken": _authtoken(stack, "cinder"),
        }
        cinder.update(_common(stack, "cinder"))
        _write(os.path.join(cinder_dir, "cinder.conf"), cinder)
