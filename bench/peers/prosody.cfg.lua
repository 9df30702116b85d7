-- Prosody 0.12.3 for the Parley benchmark: loopback only, plaintext PLAIN, plain password storage
-- (internal_plain), no mod_limits, no MAM, no offline storage. placeholders in double braces are filled by bench/harness.
pidfile = "{{DIR}}/prosody.pid"
data_path = "{{DIR}}/data"
plugin_paths = {}
log = { warn = "{{DIR}}/prosody.log" }
daemonize = false
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { {{PORT}} }
c2s_direct_tls_ports = {}
s2s_ports = {}
component_ports = {}
http_ports = {}
https_ports = {}
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
network_settings = { tcp_backlog = 1024 }
c2s_stanza_size_limit = 262144
modules_enabled = { "roster", "saslauth", "disco", "ping", "presence", "message", "iq", "version" }
modules_disabled = { "limits", "offline", "c2s_limits", "s2s", "tls", "mam", "carbons", "smacks", "bosh", "websocket", "http" }
VirtualHost "{{DOMAIN}}"
Component "conference.{{DOMAIN}}" "muc"
  restrict_room_creation = false
  max_history_messages = 0
  muc_room_default_history_length = 0
  muc_room_default_persistent = false
  muc_max_occupants = 1000
  muc_room_locking = false
