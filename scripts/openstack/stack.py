"""Starts and supervises a real OpenStack stack for Nuage's adapter tests.

Modes:
  keystone  Keystone alone (a few seconds), with sample catalog entries in two regions.
  full      Keystone, Placement, Glance, Neutron (ML2 + the bind-everything driver), Nova (fake
            virt driver) and Cinder (fake volume driver), on the machine's MariaDB and RabbitMQ.

Every start uses a fresh state directory, fresh databases named `nuage_os_<pid>_<service>`, a
fresh RabbitMQ vhost and free loopback ports. When the stack is ready this prints one line
`NUAGE_STACK_READY <path of stack.json>` on stdout; stack.json holds the endpoints, credentials,
seeded resources, set-up time and memory. The stack is torn down (processes stopped, databases
and vhost dropped, state removed) on SIGTERM/SIGINT or as soon as the process given with
`--watch-pid` exits. Run it through `start-stack`, which picks the virtualenv.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

import seed
from http_util import Api, wait_http

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = time.monotonic()
HOST = "127.0.0.1"
REGION = "RegionOne"
SERVICES = ("nova", "neutron", "glance", "placement", "cinder")


def log(msg):
    sys.stderr.write("[stack %6.1fs] %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_open(port, host=HOST):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class Stack:
    def __init__(self, args):
        self.args = args
        self.venv = os.path.dirname(os.path.dirname(os.path.abspath(sys.executable)))
        self.bin = os.path.join(self.venv, "bin")
        self.state = os.path.abspath(args.state_dir)
        self.logs = os.path.join(self.state, "logs")
        self.run_id = "nuage_os_%d" % os.getpid()
        self.procs = {}
        self.password = secrets.token_urlsafe(18)
        self.admin_password = secrets.token_urlsafe(18)
        self.user_password = secrets.token_urlsafe(18)
        self.full = args.mode == "full"
        self.cinder = self.full and not args.no_cinder
        self.ports = {"keystone": free_port()}
        if self.full:
            for name in ("placement", "glance", "neutron", "nova") + (("cinder",) if self.cinder else ()):
                self.ports[name] = free_port()
        self.databases = []
        self.vhost = None

    # ---- helpers -------------------------------------------------------------------------
    def url(self, service):
        return "http://%s:%d" % (HOST, self.ports[service])

    def conf_dir(self, service):
        path = os.path.join(self.state, "etc", service)
        os.makedirs(path, exist_ok=True)
        return path

    def run(self, name, argv, env=None, timeout=600):
        """Runs a set-up command to completion, its output into logs/<name>.log."""
        with open(os.path.join(self.logs, name + ".log"), "ab") as out:
            proc = subprocess.run(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env(env), timeout=timeout, cwd=self.state,
            )
        if proc.returncode != 0:
            raise RuntimeError("%s failed (exit %d): %s; see %s" % (
                name, proc.returncode, " ".join(argv[:3]), self.tail(name)))

    def start(self, name, argv, env=None):
        """Starts a long-running service process, its output into logs/<name>.log."""
        out = open(os.path.join(self.logs, name + ".log"), "ab")
        self.procs[name] = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=self.env(env), cwd=self.state, start_new_session=True,
        )
        out.close()
        log("started %s (pid %d)" % (name, self.procs[name].pid))

    def wsgi(self, name, app, env=None, args=()):
        self.start(name, [
            os.path.join(self.bin, "python"), os.path.join(HERE, "wsgi_server.py"),
            "--host", HOST, "--port", str(self.ports[name]), "--app", app, "--name", name,
            "--", *args,
        ], env)

    def env(self, extra):
        env = dict(os.environ)
        env["PATH"] = self.bin + os.pathsep + env.get("PATH", "")
        env["PYTHONPATH"] = os.path.join(HERE, "pylib")
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("OS_CLOUD", None)
        env.update(extra or {})
        return env

    def tail(self, name, lines=25):
        path = os.path.join(self.logs, name + ".log")
        try:
            with open(path, errors="replace") as f:
                content = f.readlines()[-lines:]
        except OSError:
            return path
        return path + "\n" + "".join(content)

    def check_alive(self):
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError("%s exited with %s during start-up; log: %s" % (
                    name, proc.returncode, self.tail(name)))

    def wait(self, what, predicate, timeout=180, interval=0.25):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if predicate():
                    return
            except Exception:  # the service is not ready yet
                pass
            time.sleep(interval)
        raise RuntimeError("timed out after %ds waiting for %s" % (timeout, what))

    # ---- machine services ---------------------------------------------------------------
    def ensure_mariadb(self):
        if port_open(3306):
            return
        log("MariaDB does not answer on 3306: starting it")
        subprocess.run(["start-stop-daemon", "--start", "--oknodo", "--background",
                        "--exec", "/usr/sbin/mariadbd"], check=False)
        deadline = time.monotonic() + 60
        while not port_open(3306):
            if time.monotonic() > deadline:
                raise RuntimeError("MariaDB did not start on 127.0.0.1:3306")
            time.sleep(0.5)

    def ensure_rabbitmq(self):
        if port_open(5672):
            return
        log("RabbitMQ does not answer on 5672: starting it")
        subprocess.run(["rabbitmq-server", "-detached"], check=False)
        deadline = time.monotonic() + 90
        while not port_open(5672):
            if time.monotonic() > deadline:
                raise RuntimeError("RabbitMQ did not start on 127.0.0.1:5672")
            time.sleep(0.5)

    def sql(self, statements):
        import pymysql

        conn = pymysql.connect(host=HOST, port=3306, user="root", password="", autocommit=True)
        try:
            with conn.cursor() as cur:
                results = []
                for statement in statements:
                    cur.execute(statement)
                    results.append(cur.fetchall())
                return results
        finally:
            conn.close()

    def drop_stale(self):
        """Drops databases and vhosts left by stacks whose supervisor is gone."""
        rows = self.sql(["SHOW DATABASES LIKE 'nuage\\_os\\_%'"])[0]
        stale = []
        for (name,) in rows:
            parts = name.split("_")
            if len(parts) >= 4 and parts[2].isdigit() and not pid_alive(int(parts[2])):
                stale.append(name)
        if stale:
            log("dropping %d stale databases" % len(stale))
            self.sql(["DROP DATABASE IF EXISTS `%s`" % name for name in stale])
        if not self.full:
            return
        out = subprocess.run(["rabbitmqctl", "-q", "list_vhosts", "name"], capture_output=True,
                             text=True, check=False).stdout
        for vhost in out.split():
            parts = vhost.split("_")
            if len(parts) == 3 and vhost.startswith("nuage_os_") and parts[2].isdigit() \
                    and not pid_alive(int(parts[2])):
                subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost],
                               capture_output=True, check=False)

    def create_databases(self):
        names = ["keystone"]
        if self.full:
            names += ["placement", "glance", "neutron", "nova_api", "nova", "nova_cell0"]
        if self.cinder:
            names.append("cinder")
        self.databases = ["%s_%s" % (self.run_id, name) for name in names]
        self.sql(["CREATE DATABASE `%s` CHARACTER SET utf8mb4" % db for db in self.databases])

    def db_url(self, name):
        return "mysql+pymysql://root@%s:3306/%s_%s?charset=utf8mb4" % (HOST, self.run_id, name)

    def create_vhost(self):
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", self.run_id], check=True,
                       capture_output=True)
        self.vhost = self.run_id
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", self.run_id, "guest",
                        ".*", ".*", ".*"], check=True, capture_output=True)

    @property
    def transport_url(self):
        return "rabbit://guest:guest@%s:5672/%s" % (HOST, self.run_id)

    # ---- teardown -----------------------------------------------------------------------
    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 3
        for proc in self.procs.values():
            remaining = max(0.0, deadline - time.monotonic())
            try:
                proc.wait(remaining)
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs.values():
            if proc.poll() is None:  # nova-compute ignores SIGTERM for a long while
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        if self.databases:
            try:
                self.sql(["DROP DATABASE IF EXISTS `%s`" % db for db in self.databases])
            except Exception as exc:
                log("could not drop databases: %s" % exc)
        if self.vhost:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost],
                           capture_output=True, check=False)
        if not self.args.keep_state:
            shutil.rmtree(self.state, ignore_errors=True)
        log("stopped")

    def rss_mb(self):
        total = 0
        for proc in self.procs.values():
            try:
                with open("/proc/%d/status" % proc.pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return round(total / 1024)

    # ---- the stack ----------------------------------------------------------------------
    def boot(self):
        os.makedirs(self.logs, exist_ok=True)
        import configs

        self.ensure_mariadb()
        if self.full:
            self.ensure_rabbitmq()
        self.drop_stale()
        self.create_databases()
        if self.full:
            self.create_vhost()
        configs.write_keystone(self)
        keystone_setup = self.sync_keystone()
        if self.full:
            configs.write_all(self)
            syncs = self.start_syncs()
        # The WSGI application imports while the set-up runs; it reads the database per request.
        self.wsgi("keystone", "keystone.wsgi.api:application",
                  {"OS_KEYSTONE_CONFIG_FILES": os.path.join(self.conf_dir("keystone"), "keystone.conf")})
        self.finish_keystone_setup(keystone_setup)
        log("keystone set up")
        self.wait("keystone", lambda: wait_http(self.url("keystone") + "/v3"), timeout=60)
        log("keystone answers")
        admin = Api(self.url("keystone") + "/v3", "admin", self.admin_password, "admin")
        info = seed.identity(self, admin)
        log("identity seeded")
        if self.full:
            self.finish_syncs(syncs)
            self.start_services()
            info.update(seed.cloud(self, admin, info))
        info["setup_seconds"] = round(time.monotonic() - T0, 1)
        info["rss_mb"] = self.rss_mb()
        info["processes"] = len(self.procs) + 1
        info["pids"] = {name: proc.pid for name, proc in self.procs.items()}
        path = os.path.join(self.state, "stack.json")
        with open(path + ".tmp", "w") as f:
            json.dump(info, f, indent=2)
        os.replace(path + ".tmp", path)
        log("ready in %.1fs, %d MB RSS in %d processes" % (
            info["setup_seconds"], info["rss_mb"], info["processes"]))
        return path

    def sync_keystone(self):
        """Runs Keystone's set-up in the background; returns the process."""
        conf = os.path.join(self.conf_dir("keystone"), "keystone.conf")
        ks = self.url("keystone") + "/v3"
        out = open(os.path.join(self.logs, "keystone-setup.log"), "ab")
        proc = subprocess.Popen([
            os.path.join(self.bin, "python"), os.path.join(HERE, "keystone_setup.py"), conf,
            "--bootstrap-password", self.admin_password,
            "--bootstrap-username", "admin", "--bootstrap-project-name", "admin",
            "--bootstrap-role-name", "admin", "--bootstrap-service-name", "keystone",
            "--bootstrap-region-id", REGION, "--bootstrap-admin-url", ks,
            "--bootstrap-internal-url", ks, "--bootstrap-public-url", ks,
        ], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env(None),
            cwd=self.state)
        out.close()
        return proc

    def finish_keystone_setup(self, proc):
        code = proc.wait(timeout=300)
        if code != 0:
            raise RuntimeError("keystone set-up failed (exit %d): %s" % (
                code, self.tail("keystone-setup")))

    def start_syncs(self):
        """Starts the schema syncs of every service but Keystone, in parallel."""
        b = self.bin
        nova = os.path.join(self.conf_dir("nova"), "nova.conf")
        chains = {
            "placement-sync": [[os.path.join(b, "placement-manage"), "--config-dir",
                                self.conf_dir("placement"), "db", "sync"]],
            "glance-sync": [[os.path.join(b, "glance-manage"), "--config-file",
                             os.path.join(self.conf_dir("glance"), "glance-api.conf"), "db_sync"]],
            "neutron-sync": [[os.path.join(b, "neutron-db-manage"), "--config-file",
                              os.path.join(self.conf_dir("neutron"), "neutron.conf"),
                              "upgrade", "heads"]],
            "nova-sync": [
                [os.path.join(b, "nova-manage"), "--config-file", nova, "api_db", "sync"],
                [os.path.join(b, "nova-manage"), "--config-file", nova, "cell_v2", "map_cell0",
                 "--database_connection", self.db_url("nova_cell0")],
                [os.path.join(b, "nova-manage"), "--config-file", nova, "cell_v2", "create_cell",
                 "--name", "cell1", "--database_connection", self.db_url("nova"),
                 "--transport-url", self.transport_url],
                [os.path.join(b, "nova-manage"), "--config-file", nova, "db", "sync"],
            ],
        }
        if self.cinder:
            chains["cinder-sync"] = [[os.path.join(b, "cinder-manage"), "--config-file",
                                      os.path.join(self.conf_dir("cinder"), "cinder.conf"),
                                      "db", "sync"]]
        scripts = {}
        for name, steps in chains.items():
            script = " && ".join(" ".join(_quote(a) for a in step) for step in steps)
            out = open(os.path.join(self.logs, name + ".log"), "ab")
            scripts[name] = subprocess.Popen(["bash", "-c", script], stdout=out,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             env=self.env(None), cwd=self.state)
            out.close()
        return scripts

    def finish_syncs(self, syncs):
        for name, proc in syncs.items():
            code = proc.wait(timeout=600)
            if code != 0:
                raise RuntimeError("%s failed (exit %d): %s" % (name, code, self.tail(name)))
        log("schemas synced")

    def start_services(self):
        b = self.bin
        nova_env = {"OS_NOVA_CONFIG_DIR": self.conf_dir("nova"),
                    "OS_NOVA_CONFIG_FILES": "api-paste.ini;nova.conf"}
        nova_conf = os.path.join(self.conf_dir("nova"), "nova.conf")
        self.wsgi("placement", "placement.wsgi.api:application",
                  {"OS_PLACEMENT_CONFIG_DIR": self.conf_dir("placement")})
        self.wsgi("glance", "glance.wsgi.api:application",
                  {"OS_GLANCE_CONFIG_DIR": self.conf_dir("glance")})
        self.wsgi("neutron", "neutron.wsgi.api:application",
                  {"OS_NEUTRON_CONFIG_DIR": self.conf_dir("neutron"),
                   "OS_NEUTRON_CONFIG_FILES": "neutron.conf"})
        self.wsgi("nova", "nova.wsgi.osapi_compute:application", nova_env)
        self.start("nova-conductor", [os.path.join(b, "nova-conductor"), "--config-file", nova_conf])
        self.start("nova-scheduler", [os.path.join(b, "nova-scheduler"), "--config-file", nova_conf])
        if self.cinder:
            cinder_conf = os.path.join(self.conf_dir("cinder"), "cinder.conf")
            self.wsgi("cinder", "cinder.wsgi.api:application", args=("--config-file", cinder_conf))
            self.start("cinder-scheduler", [os.path.join(b, "cinder-scheduler"),
                                            "--config-file", cinder_conf])
            self.start("cinder-volume", [os.path.join(b, "cinder-volume"),
                                         "--config-file", cinder_conf])
        for name in ("placement", "glance", "neutron", "nova") + (("cinder",) if self.cinder else ()):
            self.wait(name, lambda name=name: wait_http(self.url(name) + "/"), timeout=120)
        log("APIs answer")
        self.start("nova-compute", [os.path.join(b, "nova-compute"), "--config-file", nova_conf])


def _quote(arg):
    import shlex

    return shlex.quote(arg)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--mode", choices=("keystone", "full"), default="full")
    parser.add_argument("--no-cinder", action="store_true")
    parser.add_argument("--watch-pid", type=int, default=0,
                        help="tear the stack down when this process exits")
    parser.add_argument("--token-expiration", type=int, default=3600,
                        help="Keystone token lifetime in seconds")
    parser.add_argument("--keep-state", action="store_true",
                        help="keep the state directory (logs, configs) after teardown")
    args = parser.parse_args()

    if os.path.exists(os.path.join(args.state_dir, "stack.json")):
        sys.exit("state dir %s already holds a stack: use a fresh one" % args.state_dir)
    os.makedirs(args.state_dir, exist_ok=True)
    stack = Stack(args)
    stopping = []

    def on_signal(signum, _frame):
        stopping.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        path = stack.boot()
    except KeyboardInterrupt:
        stack.stop()
        sys.exit(1)
    except Exception as exc:  # report, tear down, fail
        log("FAILED: %s" % exc)
        stack.args.keep_state = True
        stack.stop()
        log("state and logs kept in %s" % stack.state)
        sys.exit(1)
    try:
        sys.stdout.write("NUAGE_STACK_READY %s\n" % path)
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    try:
        while True:
            if args.watch_pid and not pid_alive(args.watch_pid):
                log("watched process %d is gone" % args.watch_pid)
                break
            for name, proc in stack.procs.items():
                if proc.poll() is not None and not getattr(proc, "reported", False):
                    proc.reported = True
                    log("%s exited with %s: %s" % (name, proc.returncode, stack.tail(name, 10)))
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stack.stop()


if __name__ == "__main__":
    main()
