#!/usr/bin/env bash
# A minimal live OpenStack (Zed, from Debian 12's packages) on this host, for the OpenStack driver's
# live tests and benchmark: PostgreSQL, RabbitMQ, Keystone, Placement, Glance, Nova API, conductor,
# scheduler and compute (libvirt driver, KVM, on this host's qemu:///system). No Neutron: servers are
# created with `networks: none` (compute microversion >= 2.37). No systemd: every service is a plain
# process with a pid file under the state dir. Idempotent; needs root; prints how long each step took.
#
#   scripts/openstack-up.sh          bring it up (or start what is not running)
#   scripts/openstack-up.sh --check  say what runs and whether Keystone and Nova answer; changes nothing
#   scripts/openstack-up.sh --down   stop the services and delete the guests Nova made (state dir kept)
#   scripts/openstack-up.sh --purge  --down, then remove the state dir
#
# The packages come from .ci/run's list (installed there with --no-install-recommends, a policy-rc.d
# answering 101 so no package starts its daemon). Secrets (the admin and test-user passwords) are made
# here, kept in $FOUNDRY_OS_DIR (mode 0700) and written only to its clouds.yaml (0600). See docs/openstack-live.md.
set -euo pipefail

D=${FOUNDRY_OS_DIR:-/var/lib/foundry-openstack}
P_KEYSTONE=${FOUNDRY_OS_PORT_BASE:-17000}
P_PLACEMENT=$((P_KEYSTONE + 1))
P_NOVA=$((P_KEYSTONE + 2))
P_GLANCE=$((P_KEYSTONE + 3))
P_PG=$((P_KEYSTONE + 4))
P_AMQP=$((P_KEYSTONE + 5))
P_NEUTRON=$((P_KEYSTONE + 6))
TOKEN_TTL=${FOUNDRY_OS_TOKEN_TTL:-600}   # short (10 min): a token expires within a test run; shorter ones expired mid-build on a loaded 2-core machine
MAX_LIMIT=${FOUNDRY_OS_MAX_LIMIT:-5}     # small on purpose: listings page after 5 servers
HOST=$(hostname)
KS="http://127.0.0.1:$P_KEYSTONE/v3"
LOG=$D/log
RUN=$D/run
ETC=$D/etc
PGBIN=/usr/lib/postgresql/15/bin

T0=$(date +%s.%N)
step_start=$T0
step() { # step NAME: ends the previous step's timing line, starts a new one
  local now; now=$(date +%s.%N)
  [ -n "${step_name:-}" ] && printf '  %-28s %6.1f s\n' "$step_name" "$(awk "BEGIN{print $now - $step_start}")"
  step_name=$1; step_start=$now
}
die() { echo "openstack-up: $*" >&2; exit 1; }
alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }
wait_http() { # wait_http URL WHAT SECONDS
  for _ in $(seq 1 $(($3 * 5))); do curl -s -o /dev/null -m 2 "$1" && return 0; sleep 0.2; done
  die "$2 did not answer at $1 within $3 s (see $LOG/)"
}
daemon() { # daemon NAME CMD...: starts CMD detached with a pid file, unless already running
  local name=$1; shift
  alive "$name" && return 0
  setsid "$@" >>"$LOG/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}
stop() { # stop NAME: SIGTERM, then SIGKILL after 10 s
  alive "$1" || { rm -f "$RUN/$1.pid"; return 0; }
  local pid; pid=$(cat "$RUN/$1.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$RUN/$1.pid"
}
SERVICES=(nova-compute nova-scheduler nova-conductor nova-api neutron-api glance-api placement-api keystone)
# As Debian's uwsgi ini files for these services: "Connection: close" (keystoneauth would reuse a
# connection uwsgi's plain http-socket has closed: RemoteDisconnected).
# Nova's and Neutron's apps monkey-patch with eventlet, which deadlocks across uwsgi threads ("greenlet.error:
# cannot switch to a different thread"): they run single-threaded (Nova in 2 processes; Neutron in one, so
# that the warm-up query below reaches its only worker).
uwsgi_app() { # uwsgi_app NAME PORT WSGI-SCRIPT ENV=VALUE|--uwsgi-option value...
  local name=$1 port=$2 script=$3; shift 3
  local envs=(); for e in "$@"; do case $e in --*|config:*) envs+=("$e") ;; *=*) envs+=(--env "$e") ;; *) envs+=("$e") ;; esac; done
  daemon "$name" uwsgi --plugin python3 --master --die-on-term --processes "${UWSGI_PROCESSES:-1}" --threads "${UWSGI_THREADS:-4}" --lazy-apps \
    --http-socket "127.0.0.1:$port" --add-header "Connection: close" --wsgi-file "$script" --buffer-size 65535 "${envs[@]}"
}
once() { # once NAME CMD...: runs CMD (output to the log) unless it succeeded before (a marker in the state dir)
  local name=$1; shift
  [ -f "$D/done/$name" ] && return 0
  "$@" >>"$LOG/setup.log" 2>&1 || die "$name failed: $* (see $LOG/setup.log)"
  mkdir -p "$D/done"; touch "$D/done/$name"
}
pg() { runuser -u postgres -- "$PGBIN/psql" -h 127.0.0.1 -p "$P_PG" -U postgres -qAt "$@"; }
rabbit_env() { export RABBITMQ_NODENAME=foundry-os@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$P_AMQP \
  RABBITMQ_DIST_PORT=$((P_AMQP + 20000)) RABBITMQ_MNESIA_BASE=$D/rabbitmq/mnesia RABBITMQ_LOG_BASE=$LOG/rabbitmq \
  RABBITMQ_CONFIG_FILE=$D/rabbitmq/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$D/rabbitmq/enabled_plugins \
  RABBITMQ_PID_FILE=$RUN/rabbitmq.pid HOME=$D/rabbitmq PATH=/usr/lib/rabbitmq/bin:$PATH; }
# (Debian's /usr/sbin wrappers switch to the rabbitmq user and its /var/lib dirs: the real tools run as root here.)
# RabbitMQ runs when its pid file names a live process or its AMQP port takes connections: a second
# server must never be started beside a running one (it dies on the taken ports and removes the pid file).
rabbit_running() { alive rabbitmq || (exec 3<>"/dev/tcp/127.0.0.1/$P_AMQP") 2>/dev/null; }

check() {
  local bad=0
  for s in postgres rabbitmq "${SERVICES[@]}"; do
    if [ "$s" = postgres ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/pg" status >/dev/null 2>&1 && echo "ok    $s" || { echo "DOWN  $s"; bad=1; }
    elif [ "$s" = rabbitmq ]; then rabbit_running && echo "ok    $s" || { echo "DOWN  $s"; bad=1; }
    elif alive "$s"; then echo "ok    $s"; else echo "DOWN  $s"; bad=1; fi
  done
  curl -sf -m 15 "$KS" >/dev/null && echo "ok    keystone answers at $KS" || { echo "DOWN  keystone at $KS"; bad=1; }
  curl -s -m 15 -o /dev/null "http://127.0.0.1:$P_NOVA/" && echo "ok    nova answers at :$P_NOVA" || { echo "DOWN  nova api at :$P_NOVA"; bad=1; }
  return $bad
}

down() {
  for s in "${SERVICES[@]}"; do stop "$s"; done
  # Guests Nova made carry its instance name template; nothing else on this libvirtd is touched.
  for dom in $(virsh -c qemu:///system list --all --name 2>/dev/null | grep '^fos-instance-' || true); do
    virsh -c qemu:///system destroy "$dom" >/dev/null 2>&1 || true
    virsh -c qemu:///system undefine "$dom" --nvram >/dev/null 2>&1 || virsh -c qemu:///system undefine "$dom" >/dev/null 2>&1 || true
  done
  if [ -d "$D/rabbitmq" ]; then (rabbit_env; rabbitmqctl -q stop >/dev/null 2>&1 || true); fi
  [ -d "$D/pg" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/pg" -m fast stop >/dev/null 2>&1 || true
  echo "openstack: stopped"
}

case "${1:-}" in
  --check) check; exit $? ;;
  --down) [ -d "$RUN" ] && down; exit 0 ;;
  --purge) [ -d "$RUN" ] && down; rm -rf "$D"; exit 0 ;;
  '') ;;
  *) die "unknown option $1 (use --check, --down or --purge)" ;;
esac

[ "$(id -u)" = 0 ] || die "needs root"
for cmd in keystone-manage placement-manage glance-manage glance-api nova-manage nova-api-wsgi nova-conductor nova-scheduler nova-compute uwsgi /usr/lib/rabbitmq/bin/rabbitmq-server "$PGBIN/initdb" virsh qemu-img; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd is missing: install the OpenStack packages .ci/run lists (apt-get install --no-install-recommends ...)"
done
[ -f /usr/lib/uwsgi/plugins/python3_plugin.so ] || die "uwsgi's python3 plugin is missing (uwsgi-plugin-python3)"
virsh -c qemu:///system version >/dev/null 2>&1 || die "libvirtd does not answer on qemu:///system (run scripts/host-setup.sh)"
echo "openstack: bringing up a minimal cloud in $D (keystone $KS)"

step "state dir and secrets"
mkdir -p "$D" "$LOG" "$RUN" "$ETC"/{keystone,nova,placement,glance,neutron} "$D/images" "$D/instances" "$D/rabbitmq" "$D/keys"
chmod 711 "$D"; chmod 700 "$D/keys" "$ETC"   # postgres must reach its data dir; secrets stay private
for s in admin user; do [ -s "$D/keys/$s-password" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$D/keys/$s-password"); done
ADMIN_PW=$(cat "$D/keys/admin-password")
USER_PW=$(cat "$D/keys/user-password")

step "postgresql"
if [ ! -f "$D/pg/PG_VERSION" ]; then
  install -d -o postgres -g postgres -m 700 "$D/pg"
  runuser -u postgres -- "$PGBIN/initdb" -D "$D/pg" -U postgres --auth=trust -E UTF8 >/dev/null
fi
install -d -o postgres -g postgres "$LOG/pg"
install -d -o postgres -g postgres "$RUN/pg"
if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/pg" status >/dev/null 2>&1; then
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/pg" -w -l "$LOG/pg/postgres.log" \
    -o "-p $P_PG -c listen_addresses=127.0.0.1 -k $RUN/pg -c max_connections=300 -c fsync=off -c synchronous_commit=off" start >/dev/null
fi
for db in keystone placement glance neutron nova_api nova nova_cell0; do
  [ "$(pg -c "SELECT 1 FROM pg_database WHERE datname='$db'")" = 1 ] || pg -c "CREATE DATABASE $db"
done
DB="postgresql+psycopg2://postgres@127.0.0.1:$P_PG"

step "rabbitmq"
printf '[].\n' > "$D/rabbitmq/enabled_plugins"
printf 'loopback_users.guest = true\nlisteners.tcp.default = %s\n' "$P_AMQP" > "$D/rabbitmq/rabbitmq.conf"
if ! rabbit_running && ! (rabbit_env; rabbitmqctl -q status >/dev/null 2>&1); then
  (rabbit_env; setsid rabbitmq-server >>"$LOG/rabbitmq.log" 2>&1 < /dev/null &)
  (rabbit_env; rabbitmqctl -q wait --timeout 60 "$RUN/rabbitmq.pid" >/dev/null 2>&1) || die "rabbitmq did not start (see $LOG/rabbitmq.log)"
fi
AMQP="rabbit://guest:guest@127.0.0.1:$P_AMQP/"

# Every service authenticates to Keystone as the bootstrap admin (one user keeps this small).
authtoken() { cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $KS
auth_url = $KS
auth_type = password
username = admin
password = $ADMIN_PW
user_domain_name = Default
project_name = admin
project_domain_name = Default
# Validations are cached 20 s (default 300): a revoked token stops working within that.
token_cache_time = 20
EOF
}
svcauth() { # svcauth SECTION: keystoneauth password settings of a section
  printf '[%s]\nauth_url = %s\nauth_type = password\nusername = admin\npassword = %s\nuser_domain_name = Default\nproject_name = admin\nproject_domain_name = Default\nregion_name = RegionOne\n' "$1" "$KS" "$ADMIN_PW"
}

step "keystone"
(umask 077; cat > "$ETC/keystone/keystone.conf" <<EOF
[DEFAULT]
log_dir = $LOG
[database]
connection = $DB/keystone
[identity]
# bcrypt's cheapest cost: every service and test logs in with a password, on a small shared machine.
password_hash_rounds = 4
[token]
provider = fernet
expiration = $TOKEN_TTL
[fernet_tokens]
key_repository = $D/keys/fernet
[credential]
key_repository = $D/keys/credential
EOF
)
KCONF=(--config-file "$ETC/keystone/keystone.conf")
once keystone-db keystone-manage "${KCONF[@]}" db_sync
[ -d "$D/keys/fernet" ] || keystone-manage "${KCONF[@]}" fernet_setup --keystone-user root --keystone-group root
[ -d "$D/keys/credential" ] || keystone-manage "${KCONF[@]}" credential_setup --keystone-user root --keystone-group root
export OS_BOOTSTRAP_PASSWORD=$ADMIN_PW   # from the environment: never in a process's arguments
once keystone-bootstrap keystone-manage "${KCONF[@]}" bootstrap --bootstrap-admin-url "$KS" \
  --bootstrap-public-url "$KS" --bootstrap-internal-url "$KS" --bootstrap-region-id RegionOne
unset OS_BOOTSTRAP_PASSWORD
uwsgi_app keystone "$P_KEYSTONE" /usr/bin/keystone-wsgi-public "OS_KEYSTONE_CONFIG_FILES=$ETC/keystone/keystone.conf"
wait_http "$KS" keystone 60

step "keystone catalog and projects"
# One admin token; then idempotent creates through the Identity API (the openstack CLI costs 2 s a call).
# Secrets go to curl on stdin or from a 0600 header file, never in its arguments (ps shows those).
HDR=$D/keys/admin-token-header
api() { # api METHOD URL [JSON]: prints the body
  if [ -n "${3:-}" ]; then printf '%s' "$3" | curl -sf -m 20 -X "$1" -H "@$HDR" -H 'Content-Type: application/json' -d @- "$2"
  else curl -sf -m 20 -X "$1" -H "@$HDR" "$2"; fi
}
py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
admin_token() { # a fresh admin token into $HDR (tokens live only $TOKEN_TTL s here)
  local tok
  tok=$(printf '%s' "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"},\"password\":\"$ADMIN_PW\"}}},\"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"}}}}}" |
    curl -sf -m 20 -D - -o /dev/null -H 'Content-Type: application/json' -d @- "$KS/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p')
  [ -n "$tok" ] || die "keystone refused the admin password (see $LOG/keystone.log)"
  (umask 077; printf 'X-Auth-Token: %s\n' "$tok" > "$HDR")
}
admin_token
ensure_service() { # ensure_service TYPE NAME URL
  local sid
  sid=$(api GET "$KS/services?type=$1" | py "print(next((s['id'] for s in d['services']), ''))")
  [ -n "$sid" ] || sid=$(api POST "$KS/services" "{\"service\":{\"type\":\"$1\",\"name\":\"$2\"}}" | py "print(d['service']['id'])")
  for i in public internal admin; do
    [ -n "$(api GET "$KS/endpoints?service_id=$sid&interface=$i" | py "print(len(d['endpoints']) or '')")" ] ||
      api POST "$KS/endpoints" "{\"endpoint\":{\"service_id\":\"$sid\",\"interface\":\"$i\",\"url\":\"$3\",\"region_id\":\"RegionOne\"}}" >/dev/null
  done
}
ensure_service placement placement "http://127.0.0.1:$P_PLACEMENT"
ensure_service image glance "http://127.0.0.1:$P_GLANCE"
ensure_service network neutron "http://127.0.0.1:$P_NEUTRON"
ensure_service compute nova "http://127.0.0.1:$P_NOVA/v2.1"
ensure_project() { # prints the id
  local id; id=$(api GET "$KS/projects?name=$1" | py "print(next((p['id'] for p in d['projects']), ''))")
  [ -n "$id" ] || id=$(api POST "$KS/projects" "{\"project\":{\"name\":\"$1\",\"domain_id\":\"default\",\"description\":\"foundry live tests\"}}" | py "print(d['project']['id'])")
  echo "$id"
}
PROJ=$(ensure_project foundry)
PROJ_Q=$(ensure_project foundry-quota)
ADMIN_PROJ=$(ensure_project admin)
USER_ID=$(api GET "$KS/users?name=foundry" | py "print(next((u['id'] for u in d['users']), ''))")
[ -n "$USER_ID" ] || USER_ID=$(api POST "$KS/users" "{\"user\":{\"name\":\"foundry\",\"domain_id\":\"default\",\"password\":\"$USER_PW\"}}" | py "print(d['user']['id'])")
MEMBER=$(api GET "$KS/roles?name=member" | py "print(d['roles'][0]['id'])")
for p in "$PROJ" "$PROJ_Q"; do api PUT "$KS/projects/$p/users/$USER_ID/roles/$MEMBER" >/dev/null; done
(umask 077; cat > "$D/clouds.yaml" <<EOF
# Written by scripts/openstack-up.sh: the live test cloud on this host (loopback only).
clouds:
  foundry:
    auth: {auth_url: "$KS", username: foundry, user_domain_name: Default, password: "$USER_PW", project_name: foundry, project_domain_name: Default}
    region_name: RegionOne
  foundry-quota:
    auth: {auth_url: "$KS", username: foundry, user_domain_name: Default, password: "$USER_PW", project_name: foundry-quota, project_domain_name: Default}
    region_name: RegionOne
  foundry-admin:
    auth: {auth_url: "$KS", username: admin, user_domain_name: Default, password: "$ADMIN_PW", project_name: admin, project_domain_name: Default}
    region_name: RegionOne
EOF
)

step "placement"
(umask 077; { cat <<EOF
[DEFAULT]
log_dir = $LOG
[placement_database]
connection = $DB/placement
[api]
auth_strategy = keystone
EOF
authtoken; } > "$ETC/placement/placement.conf")
once placement-db placement-manage --config-file "$ETC/placement/placement.conf" db sync
uwsgi_app placement-api "$P_PLACEMENT" /usr/bin/placement-api "OS_PLACEMENT_CONFIG_DIR=$ETC/placement"
wait_http "http://127.0.0.1:$P_PLACEMENT/" placement 60

step "glance"
(umask 077; { cat <<EOF
[DEFAULT]
log_file = $LOG/glance-api.log
bind_host = 127.0.0.1
bind_port = $P_GLANCE
workers = 1
enabled_backends = file:file
[database]
connection = $DB/glance
[glance_store]
default_backend = file
[file]
filesystem_store_datadir = $D/images
[os_glance_staging_store]
filesystem_store_datadir = $D/images/staging
[os_glance_tasks_store]
filesystem_store_datadir = $D/images/tasks
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
EOF
authtoken; } > "$ETC/glance/glance-api.conf")
once glance-db glance-manage --config-file "$ETC/glance/glance-api.conf" db_sync
daemon glance-api glance-api --config-file "$ETC/glance/glance-api.conf"
wait_http "http://127.0.0.1:$P_GLANCE/" glance 60

step "neutron (api only)"
# Nova asks Neutron for an instance's ports when it deletes it (compute/manager.py _deallocate_network),
# so even servers with no network need Neutron's API: ML2 with no mechanism drivers, no agents. Zed's
# port listing reads Port.port_forwardings, a relation only the port_forwarding plugin's model (it needs
# the router plugin) defines.
(umask 077; { cat <<EOF
[DEFAULT]
log_dir = $LOG
core_plugin = ml2
service_plugins = router,port_forwarding
auth_strategy = keystone
transport_url = $AMQP
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
[database]
connection = $DB/neutron
[oslo_concurrency]
lock_path = $D/neutron-lock
[ml2]
type_drivers = flat
tenant_network_types =
mechanism_drivers =
extension_drivers =
EOF
authtoken; } > "$ETC/neutron/neutron.conf")
once neutron-db neutron-db-manage --config-file "$ETC/neutron/neutron.conf" upgrade heads
UWSGI_PROCESSES=1 UWSGI_THREADS=1 uwsgi_app neutron-api "$P_NEUTRON" /usr/bin/neutron-api --paste "config:/etc/neutron/api-paste.ini" --pyargv "--config-file=$ETC/neutron/neutron.conf"
wait_http "http://127.0.0.1:$P_NEUTRON/" neutron 60
# Zed's port listing reads the Port.port_forwardings relation before its first query, and SQLAlchemy adds
# that backref only when a query configures the mappers: one query first, or Nova's port look-ups get 500.
admin_token
api GET "http://127.0.0.1:$P_NEUTRON/v2.0/networks" >/dev/null

step "nova config and db sync"
(umask 077; { cat <<EOF
[DEFAULT]
log_dir = $LOG
state_path = $D/nova-state
instances_path = $D/instances
host = $HOST
transport_url = $AMQP
compute_driver = libvirt.LibvirtDriver
instance_name_template = fos-instance-%08x
use_neutron_default_nets = false
[api]
auth_strategy = keystone
max_limit = $MAX_LIMIT
[api_database]
connection = $DB/nova_api
[database]
connection = $DB/nova
[glance]
api_servers = http://127.0.0.1:$P_GLANCE
[libvirt]
virt_type = kvm
connection_uri = qemu:///system
cpu_mode = none
[vnc]
enabled = false
[spice]
enabled = false
[oslo_concurrency]
lock_path = $D/nova-state/lock
[scheduler]
discover_hosts_in_cells_interval = 5
[service_user]
send_service_user_token = true
EOF
authtoken; svcauth placement; svcauth neutron; svcauth service_user; } > "$ETC/nova/nova.conf")
cp /etc/nova/api-paste.ini "$ETC/nova/api-paste.ini"
NCONF=(--config-file "$ETC/nova/nova.conf")
mkdir -p "$D/nova-state/lock"
once nova-api-db nova-manage "${NCONF[@]}" api_db sync
once nova-cell0 nova-manage "${NCONF[@]}" cell_v2 map_cell0 --database_connection "$DB/nova_cell0"
[ -f "$D/done/nova-cell1" ] || ! nova-manage "${NCONF[@]}" cell_v2 list_cells 2>/dev/null | grep ' cell1 ' >/dev/null || touch "$D/done/nova-cell1"
once nova-cell1 nova-manage "${NCONF[@]}" cell_v2 create_cell --name cell1 --verbose
once nova-db nova-manage "${NCONF[@]}" db sync

step "nova services"
UWSGI_PROCESSES=2 UWSGI_THREADS=1 uwsgi_app nova-api "$P_NOVA" /usr/bin/nova-api-wsgi "OS_NOVA_CONFIG_DIR=$ETC/nova"
daemon nova-conductor nova-conductor "${NCONF[@]}"
daemon nova-scheduler nova-scheduler "${NCONF[@]}"
daemon nova-compute nova-compute "${NCONF[@]}"
wait_http "http://127.0.0.1:$P_NOVA/" nova-api 90

step "compute host discovered"
NOVA="http://127.0.0.1:$P_NOVA/v2.1"
admin_token
for i in $(seq 1 120); do
  up=$(api GET "$NOVA/os-hypervisors" 2>/dev/null | py "print(len([h for h in d['hypervisors'] if h['state']=='up']))" 2>/dev/null || echo 0)
  [ "${up:-0}" -ge 1 ] && break
  # The scheduler also discovers hosts every 5 s ([scheduler] discover_hosts_in_cells_interval).
  [ $((i % 15)) = 5 ] && { nova-manage "${NCONF[@]}" cell_v2 discover_hosts >>"$LOG/setup.log" 2>&1 || true; }
  sleep 1
done
[ "${up:-0}" -ge 1 ] || die "nova-compute did not register a hypervisor within 120 s (see $LOG/nova-compute.log)"

step "image, flavor, quota"
admin_token
IMG=$(api GET "http://127.0.0.1:$P_GLANCE/v2/images?name=foundry-tiny" | py "print(next((i['id'] for i in d['images'] if i['status']=='active'), ''))")
if [ -z "$IMG" ]; then
  # A blank 64 MiB qcow2 made here (nothing outside is reachable): QEMU runs it (SeaBIOS finds no boot disk and waits).
  qemu-img create -q -f qcow2 "$D/foundry-tiny.qcow2" 64M
  IMG=$(api POST "http://127.0.0.1:$P_GLANCE/v2/images" '{"name":"foundry-tiny","disk_format":"qcow2","container_format":"bare","visibility":"public"}' | py "print(d['id'])")
  curl -sf -m 60 -X PUT -H "@$HDR" -H 'Content-Type: application/octet-stream' --data-binary "@$D/foundry-tiny.qcow2" "http://127.0.0.1:$P_GLANCE/v2/images/$IMG/file"
fi
for f in "foundry.nano 1 64" "foundry.micro 1 96"; do
  set -- $f
  [ -n "$(api GET "$NOVA/flavors" | py "print(next((x['id'] for x in d['flavors'] if x['name']=='$1'), ''))")" ] ||
    api POST "$NOVA/flavors" "{\"flavor\":{\"name\":\"$1\",\"vcpus\":$2,\"ram\":$3,\"disk\":1}}" >/dev/null
done
# The quota project may run one server: the live tests' quota error. The main project room for the
# benchmark's 20 servers and the tests beside it (Nova's defaults: 10 instances, 20 cores).
api PUT "$NOVA/os-quota-sets/$PROJ_Q" '{"quota_set":{"instances":1}}' >/dev/null
api PUT "$NOVA/os-quota-sets/$PROJ" '{"quota_set":{"instances":60,"cores":60,"ram":16384}}' >/dev/null

step "done"
printf 'openstack: up in %.1f s; clouds.yaml: %s (clouds foundry, foundry-quota, foundry-admin); project %s, admin %s\n' \
  "$(awk "BEGIN{print $(date +%s.%N) - $T0}")" "$D/clouds.yaml" "$PROJ" "$ADMIN_PROJ"
