"""Prepares a fresh Keystone in one process: db_sync then bootstrap.

Usage: python keystone_setup.py CONFIG_FILE BOOTSTRAP_ARGS...
Each step is `keystone-manage <step>`, run in-process so that Keystone is imported once
(each `keystone-manage` run costs seconds of imports on a busy 2-core machine). The fernet and
credential keys are written by stack.py beforehand (the API process needs them to start).
"""

import sys

from keystone.cmd import cli
from keystone.conf import CONF


def main():
    conf, bootstrap_args = sys.argv[1], sys.argv[2:]
    for step in (["db_sync"], ["bootstrap", *bootstrap_args]):
        cli.main(argv=["keystone-manage", "--config-file", conf, *step])
        CONF.reset()
        CONF.unregister_opt(cli.command_opt)


if __name__ == "__main__":
    main()
