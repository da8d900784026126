//! OpenStack adapter: Keystone v3, Nova, Neutron, Cinder, Glance.
