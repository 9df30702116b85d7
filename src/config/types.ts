// The server's configuration: a flat set of snake_case keys, read from a JSON config file and
// overridden by PARLEY_<KEY> environment variables. Port 0 turns a listener off.
export type StoreDriver = 'sqlite' | 'postgres';

export interface Config {
  config_file: string | null; // where the file values came from, if any
  data_dir: string;
  store: StoreDriver; // where accounts, sessions and history live
  database_url: string | null; // postgres://… when store is 'postgres'
  sqlite_read_workers: number; // threads reading chat pages and counts on their own connections; 0 = main thread
  sqlite_read_queue: number; // chat reads waiting for a read worker beyond which they are refused
  sqlite_commit_window_ms: number;
  sqlite_wal_limit_mb: number; // WAL size past which the writes are held briefly while the checkpoint worker empties it; 0 = never // how long a write at a low rate may wait to share the last commit's window; 0 = off
  domain: string;
  bind: string;
  c2s_port: number;
  c2s_tls_port: number;
  ws_port: number;
  http_port: number;
  https_port: number;
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  tls_cert_file: string | null;
  tls_key_file: string | null;
  require_starttls: boolean;
  max_stanza_size: number; // characters of one top-level element (bytes for ASCII)
  max_depth: number; // element nesting inside a stanza
  max_attributes: number; // per element
  auth_timeout: number; // seconds a connection may stay unauthenticated
  auth_failures_per_minute: number; // per account and remote address
  auth_attempts_per_minute: number; // every SASL <auth>, per account and remote address
  auth_attempts_per_address_per_minute: number; // every SASL <auth>, per remote address
  max_connections_per_ip: number;
  max_resources_per_user: number; // bound resources (detached ones included) per account on one node
  tls_handshake_timeout: number; // seconds for a TLS handshake (direct-TLS XMPP and HTTPS)
  proxy_protocol_from: string | null; // comma-separated trusted proxy addresses/CIDRs; null = PROXY protocol off
  output_high_water: number; // pending output per connection above which input is held and producers wait
  max_output_buffer: number; // pending output per connection above which the stream ends (policy-violation)
  keepalive_interval: number; // seconds between whitespace keep-alives; 0 = off
  offline_limit: number; // stored offline messages per user
  offline_limit_per_sender: number; // of those, stored from one sender
  session_lifetime: number; // seconds a REST token lives after its last request
  blob_max_size: number; // bytes per uploaded file
  public_api_url: string | null; // announced REST base URL
  upload_quota: number; // bytes of HTTP upload (XEP-0363) files one user may keep; 0 = no limit
  operator_jids: string | null; // comma-separated bare JIDs allowed the operator ad-hoc commands (XEP-0050)
  registration_app_id: number; // application in-band registration (XEP-0077) creates accounts in; 0 = off
  sm_resume_timeout: number; // seconds a dropped stream-management session waits for resumption; 0 = no resumption
  sm_ack_request_every: number; // unacknowledged stanzas after which the server sends <r/>; 0 = never by count
  sm_ack_request_seconds: number; // seconds after an unacknowledged stanza the server sends <r/>; 0 = never by time
  sm_max_unacked: number; // unacknowledged stanzas a session may hold before its stream is closed
  redis_url: string | null; // redis://… turns clustering on: session registry and routing between nodes
  redis_prefix: string; // prefix of every Redis key and channel (several installations can share one Redis)
  cluster_node_id: string | null; // this node's name in the cluster; random when unset
  cluster_ttl: number; // seconds after its last heartbeat a node counts as dead and its sessions are dropped
  cluster_secret: string | null; // shared by the nodes; turns on direct node-to-node links
  cluster_link_bind: string; // address the link listener binds to
  cluster_link_port: number; // port of the link listener; 0 = a free one
  cluster_link_advertise: string | null; // host other nodes dial; cluster_link_bind when unset
  message_max_length: number; // characters of a message's text
  message_custom_max_bytes: number; // bytes of a message's custom parameters + attachments (JSON), and of a dialog's data
  rest_page_max_bytes: number; // bytes of one page of messages or dialogs; a page stops early past it
  login_failures_per_account: number; // failed REST sign-ins per account per login_failure_window
  login_failures_per_ip: number; // failed REST sign-ins per client address per login_failure_window
  login_failure_window: number; // seconds
  trusted_proxies: string | null; // comma list of addresses/CIDRs whose X-Forwarded-For is believed; null = none
  http_max_connections_per_ip: number; // concurrent HTTP(S) connections per client address
  http_headers_timeout: number; // seconds to receive a request's headers
  http_request_timeout: number; // seconds to receive a whole request
  http_keepalive_timeout: number; // seconds an idle keep-alive connection stays open
  shutdown_drain: number; // seconds /ready answers 503 before the listeners close on shutdown
  metrics_port: number; // a listener serving only /metrics; 0 = off
  metrics_bind: string; // the metrics listener's address
  metrics_token: string | null; // bearer token for /metrics on the HTTP(S) ports; null = not served there
  admin_console: boolean; // serve the operator console at /admin on the HTTP(S) ports
  admin_session_lifetime: number; // seconds a console sign-in lasts after its last request
  admin_signins_per_minute: number; // console sign-in attempts allowed per remote address per minute
  smtp_url: string | null; // password reset mail goes out through it
  mail_from: string | null;
  password_reset_ttl: number; // seconds a reset link works
  turn_secret: string | null; // coturn static-auth-secret
  turn_ttl: number; // seconds minted TURN credentials live
  turn_uris: string | null; // comma list of turn:/turns:/stun: URIs
  push_alert_interval: number; // seconds between two chat alerts to one user (0 = no limit)
  push_max_attempts: number; // delivery attempts before a retryable push failure is final
  push_retry_seconds: number; // first retry delay, doubled per attempt
}
