//! Dedicated-hosts adapter: pools of libvirt hosts.
