"""ML2 mechanism driver for Nuage's test stack: binds every port without any agent.

Neutron's ML2 plugin leaves a port `binding_failed` when no mechanism driver binds it, and Nova
then puts the server in ERROR. On the test stack there is no Open vSwitch and no L2 agent, so this
driver binds each port to the first segment with `vif_type = ovs` and marks it ACTIVE. Nova's fake
virt driver plugs nothing, so nothing else is needed. Security-group rules are stored, not
enforced.
"""

from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api


class BindEverythingDriver(api.MechanismDriver):
    """Binds every port to its network's first segment."""

    def initialize(self):
        pass

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True, portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return
