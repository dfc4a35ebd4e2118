#!/bin/bash
# A real, minimal OpenStack (Zed, from Debian 12's own packages) on this machine, loopback only, for the
# OpenStack adapter's integration suite: keystone, glance, placement, nova (fake virt driver whose
# snapshots carry real bytes), cinder (fake volume driver), neutron-server (API only: nova needs it),
# octavia (no-op back ends). Run as root on Debian 12; no systemd needed.
#
#   bash docker/openstack/openstack.sh up       # install what is missing, configure, start, bootstrap (idempotent)
#   bash docker/openstack/openstack.sh down     # stop everything up started (PostgreSQL is shared: left running)
#   bash docker/openstack/openstack.sh status   # per service: pid, alive, port answering; exit 3 unless all up
#   bash docker/openstack/openstack.sh service-stop NAME | service-start NAME   # one service (fault tests)
#
# `up` writes the credentials the tests use to <repo>/.tmp/openstack/{tenant,admin}.env (KEY=value lines,
# no `export`: for the openstack CLI use `set -a; . .tmp/openstack/tenant.env; set +a`; override the folder
# with SKYGATE_OPENSTACK_ENV_DIR). The tenant is a non-admin project
# and member user, as a real customer of a cloud would be. Every choice and pitfall is explained inline.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# Debian's python, never a pyenv/virtualenv one that may come first on PATH (it lacks keystoneauth1).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ENV_DIR=${SKYGATE_OPENSTACK_ENV_DIR:-$REPO/.tmp/openstack}
PW=secret                               # service users, DB roles, admin: a throwaway loopback-only cloud
RUN=/run/skygate-openstack              # pid files and the "ready" stamp
LOGD=/var/log/skygate-openstack         # output of the processes started here
KS=http://127.0.0.1:5000
TRANSPORT="rabbit://guest:guest@127.0.0.1:5672/"
T0=$(date +%s)
log() { echo "[openstack.sh $(( $(date +%s) - T0 ))s] $*"; }

PKGS="keystone glance-api placement-api nova-api nova-conductor nova-scheduler
 python3-openstackclient python3-glanceclient python3-novaclient python3-cinderclient python3-neutronclient
 python3-octaviaclient rabbitmq-server qemu-utils python3-psycopg2 cinder-api cinder-scheduler neutron-common
 octavia-api octavia-worker mariadb-server python3-pymysql postgresql curl uwsgi-plugin-python3"

# name:port of the HTTP APIs (uwsgi), in start order; the eventlet daemons have no port.
APIS="keystone:5000 glance-api:9292 placement-api:8778 nova-api:8774 cinder-api:8776 neutron-server:9696 octavia-api:9876"
DAEMONS="nova-conductor nova-scheduler nova-compute cinder-scheduler cinder-volume octavia-worker"

alive() { [ -e "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }
answers() { curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$1/"; }
waitport() { # port [seconds]
  local i; for i in $(seq "${2:-120}"); do answers "$1" && return 0; sleep 1; done
  echo "port $1 not answering after ${2:-120}s" >&2; return 1
}

########## starting and stopping single services ##########
uw() { # name port wsgi-file user processes threads [extra uwsgi args]
  local n=$1 port=$2 wsgi=$3 u=$4 procs=$5 threads=$6; shift 6
  alive "$n" && return 0
  # Debian's own uwsgi ini files ask for 8-16 processes; on 2 cores a few are plenty.
  # "Connection: close": keystoneauth sessions got ConnectionResetError on reused uwsgi http-socket
  # connections (Debian's glance/placement/cinder ini files set the same header).
  uwsgi_python3 --master --http-socket "127.0.0.1:$port" --wsgi-file "$wsgi" \
    --processes "$procs" --threads "$threads" --enable-threads --lazy-apps --die-on-term --no-orphans \
    --buffer-size 65535 --add-header "Connection: close" --uid "$u" --gid "$u" --chdir "/var/lib/$u" --need-app \
    --pidfile "$RUN/$n.pid" --daemonize "$LOGD/$n.log" "$@"
  # --daemonize returns before the pid file is written
  local i; for i in $(seq 50); do [ -s "$RUN/$n.pid" ] && return 0; sleep 0.1; done
}
pyd() { # name user cmd...   (eventlet / oslo.service daemons)
  local n=$1 u=$2; shift 2
  alive "$n" && return 0
  # setsid makes the daemon a process group leader (its forked workers join the group), so stopping
  # signals the whole group; a background job is no group leader, so setsid does not fork: $! is the daemon.
  setsid setpriv --reuid="$u" --regid="$u" --init-groups -- "$@" >> "$LOGD/$n.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$n.pid"
}
start_service() {
  case "$1" in
    keystone) uw keystone 5000 /usr/bin/keystone-wsgi-public keystone 2 2 ;;
    glance-api) uw glance-api 9292 /usr/bin/glance-wsgi-api glance 2 2 --socket-timeout 120 ;;
    placement-api) uw placement-api 8778 /usr/bin/placement-api placement 2 2 ;;
    # nova-api is eventlet-patched and waits for RPC replies: one thread per process, as Debian's
    # nova-api-uwsgi.ini has it (with 2 threads, volume attach calls timed out waiting for nova-compute)
    nova-api) uw nova-api 8774 /usr/bin/nova-api-wsgi nova 3 1 ;;
    cinder-api) uw cinder-api 8776 /usr/bin/cinder-wsgi cinder 2 2 ;;
    octavia-api) uw octavia-api 9876 /usr/bin/octavia-wsgi octavia 2 2 ;;
    neutron-server) pyd neutron-server neutron /usr/bin/neutron-server --config-file /etc/neutron/neutron.conf \
      --config-file /etc/neutron/plugins/ml2/ml2_conf.ini ;;
    nova-conductor | nova-scheduler) pyd "$1" nova "/usr/bin/$1" --config-file /etc/nova/nova.conf ;;
    nova-compute) pyd nova-compute nova /usr/local/bin/nova-compute --config-file /etc/nova/nova-compute.conf ;;
    cinder-scheduler) pyd cinder-scheduler cinder /usr/bin/cinder-scheduler --config-file /etc/cinder/cinder.conf ;;
    cinder-volume) pyd cinder-volume cinder /usr/local/bin/cinder-volume --config-file /etc/cinder/cinder.conf ;;
    octavia-worker) pyd octavia-worker octavia /usr/bin/octavia-worker --config-file /etc/octavia/octavia.conf ;;
    *) echo "unknown service '$1' (known: ${APIS//:[0-9]*/} $DAEMONS)" >&2; return 2 ;;
  esac
}
port_of() { local a; for a in $APIS; do [ "${a%%:*}" != "$1" ] || echo "${a##*:}"; done; }
stop_pids() { # name... : TERM the process group (eventlet daemons) or the uwsgi master, wait, then KILL
  local n pid left groups=()
  for n in "$@"; do
    [ -e "$RUN/$n.pid" ] || continue
    pid=$(cat "$RUN/$n.pid"); rm -f "$RUN/$n.pid"
    kill -0 "$pid" 2>/dev/null || continue
    # a uwsgi master is no group leader: the group kill fails and the master alone is signalled (die-on-term)
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    groups+=("$pid")
  done
  local i; for i in $(seq 30); do
    left=""; for pid in "${groups[@]}"; do { kill -0 -- "-$pid" || kill -0 "$pid"; } 2>/dev/null && left="$left $pid"; done
    [ -z "$left" ] && return 0; sleep 1
  done
  for pid in $left; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
}

down() {
  rm -f "$RUN/ready"
  local all=() a
  # OpenStack services first: neutron's RPC worker ignored SIGTERM for 20 s once RabbitMQ was gone.
  for a in $APIS; do all+=("${a%%:*}"); done
  stop_pids "${all[@]}" $DAEMONS
  log "OpenStack services stopped"
  if [ -e "$RUN/mariadb.pid" ]; then stop_pids mariadb; log "mariadb stopped"; fi
  if [ -e "$RUN/rabbitmq.started" ]; then
    # `shutdown`, not `stop`: stop returns while the Erlang VM is still halting (beam.smp still there a
    # second later), so an `up` right after could find the dying node answering `rabbitmqctl status` and
    # start none; shutdown returns once the VM has exited.
    rabbitmqctl shutdown >/dev/null 2>&1 || true; epmd -kill >/dev/null 2>&1 || true
    rm -f "$RUN/rabbitmq.started"; log "rabbitmq stopped"
  fi
  # PostgreSQL is left running on purpose: the project's store tests share the cluster.
}

status() {
  local a n rc=0 line
  for a in $APIS; do
    n=${a%%:*}; line="$n pid=$(cat "$RUN/$n.pid" 2>/dev/null || echo -)"
    if alive "$n" && answers "${a##*:}"; then echo "$line up :${a##*:}"; else echo "$line DOWN :${a##*:}"; rc=3; fi
  done
  for n in $DAEMONS; do
    if alive "$n"; then echo "$n pid=$(cat "$RUN/$n.pid") up"; else echo "$n DOWN"; rc=3; fi
  done
  [ -e "$RUN/ready" ] && echo "ready since $(head -n 1 "$RUN/ready")" || { echo "not ready"; rc=3; }
  return $rc
}

########## credentials files the tests read ##########
write_env_files() { # tenant password
  mkdir -p "$ENV_DIR"; chmod 700 "$ENV_DIR"
  umask 077
  cat > "$ENV_DIR/admin.env" <<EOF
OS_AUTH_URL=$KS/v3
OS_IDENTITY_API_VERSION=3
OS_REGION_NAME=RegionOne
OS_USERNAME=admin
OS_PASSWORD=$PW
OS_PROJECT_NAME=admin
OS_USER_DOMAIN_NAME=Default
OS_PROJECT_DOMAIN_NAME=Default
EOF
  cat > "$ENV_DIR/tenant.env" <<EOF
OS_AUTH_URL=$KS/v3
OS_IDENTITY_API_VERSION=3
OS_REGION_NAME=RegionOne
OS_USERNAME=skygate-tenant
OS_PASSWORD=$1
OS_PROJECT_NAME=skygate
OS_USER_DOMAIN_NAME=Default
OS_PROJECT_DOMAIN_NAME=Default
EOF
  umask 022
}

case "${1:-}" in
  down) down; exit 0 ;;
  status) status; exit $? ;;
  service-stop) [ -n "${2:-}" ] || { echo "usage: $0 service-stop NAME" >&2; exit 2; }
    stop_pids "$2"; exit 0 ;;
  service-start) [ -n "${2:-}" ] || { echo "usage: $0 service-start NAME" >&2; exit 2; }
    start_service "$2"; p=$(port_of "$2"); [ -z "$p" ] || waitport "$p"; exit 0 ;;
  up) ;;
  *) echo "usage: $0 up|down|status|service-stop NAME|service-start NAME" >&2; exit 2 ;;
esac

########## up, fast path: already up from this very script ##########
STAMP=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
tenant_pw() { sed -n 's/^OS_PASSWORD=//p' "$ENV_DIR/tenant.env" 2>/dev/null || true; }
if [ -e "$RUN/ready" ] && [ "$(sed -n 2p "$RUN/ready")" = "$STAMP" ] && status >/dev/null; then
  pw=$(sed -n 3p "$RUN/ready")
  [ "$(tenant_pw)" = "$pw" ] || write_env_files "$pw"
  log "already up (status: all services answering); credentials in $ENV_DIR"
  exit 0
fi
# Services started by an older version of this script would keep its configuration: restart them.
if [ -e "$RUN/ready" ] && [ "$(sed -n 2p "$RUN/ready")" != "$STAMP" ]; then log "script changed since the last up: restarting"; down; fi

########## 1. packages ##########
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
  log "apt-get install: $(echo $missing | wc -w) missing top-level packages"
  # Package postinst scripts must not start daemons (we start them ourselves, on loopback, as we like):
  # policy-rc.d exit 101 says so, for the duration of this install only.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  # Every openstack-pkg-tools question already defaults to "false"; preseeding makes that certain, so
  # the packages configure nothing and the install never prompts.
  for q in keystone:keystone/configure_db keystone:keystone/create-admin-tenant keystone:keystone/register-endpoint \
    keystone:keystone/dbconfig-install glance-common:glance/configure_db glance-common:glance/configure_rabbit \
    glance-common:glance/configure_ksat glance-api:glance/configure_api-endpoint placement-common:placement/configure_db \
    placement-common:placement/configure_ksat placement-api:placement/configure_api-endpoint nova-common:nova/configure_db \
    nova-common:nova/configure_rabbit nova-common:nova/configure_ksat nova-common:nova/configure_neutron \
    nova-common:nova/configure_placement nova-api:novaapi/configure_db nova-api:nova/configure_api-endpoint \
    cinder-common:cinder/configure_db cinder-common:cinder/configure_rabbit cinder-common:cinder/configure_ksat \
    cinder-api:cinder/configure_api-endpoint neutron-common:neutron/configure_db neutron-common:neutron/configure_rabbit \
    neutron-common:neutron/configure_ksat neutron-api:neutron/configure_api-endpoint octavia-common:octavia/configure_db \
    octavia-common:octavia/configure_rabbit octavia-common:octavia/configure_ksat octavia-api:octavia/configure_api-endpoint; do
    echo "${q%%:*} ${q#*:} boolean false"
  done | debconf-set-selections
  [ -n "$(find /var/lib/apt/lists -name '*_InRelease' -mmin -600 2>/dev/null)" ] || apt-get update -q
  t=$(date +%s)
  # nova-compute and cinder-volume are deliberately absent: their packages drag in libvirt/qemu,
  # open-iscsi, lvm2 and tgt, and with fake drivers only their console-script wrappers are needed.
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold $PKGS
  [ -z "$made_policy" ] || { rm -f /usr/sbin/policy-rc.d; trap - EXIT; }
  log "apt-get install took $(( $(date +%s) - t ))s"
fi
mk_wrapper() { [ -x "$1" ] || printf '#!/usr/bin/python3\nimport sys\nfrom %s import main\nif __name__ == "__main__":\n    sys.exit(main())\n' "$2" > "$1"; chmod +x "$1"; }
mk_wrapper /usr/local/bin/nova-compute nova.cmd.compute
mk_wrapper /usr/local/bin/cinder-volume cinder.cmd.volume

# FakeDriver.snapshot() uploads nothing, so a createImage image stays 'queued' forever. This subclass
# copies the server's base image bytes into the snapshot, so it goes 'active' and can be booted and
# downloaded. nova loads virt drivers only from the nova.virt package, hence the location.
cat > /usr/lib/python3/dist-packages/nova/virt/skygate_fake.py <<'PYEOF'
"""skygate test rig: a FakeDriver whose snapshot uploads real bytes (the server's base image) to glance."""
import io

from nova.image import glance
from nova.virt import fake


class SnapshotFakeDriver(fake.FakeDriver):
    def snapshot(self, context, instance, image_id, update_task_state):
        super().snapshot(context, instance, image_id, update_task_state)
        api = glance.API()
        data, disk_format = io.BytesIO(), "raw"
        try:
            # download() must be given a file: the iterator it returns otherwise is already closed
            # (its finally closes it), so a snapshot would silently hold 0 bytes
            api.download(context, instance.image_ref, data=data)
            disk_format = api.get(context, instance.image_ref).get("disk_format") or "raw"
        except Exception:  # boot-from-volume server, or its base image is gone
            data = io.BytesIO(b"skygate-fake-snapshot")
        data.seek(0)
        api.update(context, image_id, {"disk_format": disk_format, "container_format": "bare"},
                   data=data, purge_props=False)
PYEOF

mkdir -p "$RUN" "$LOGD"
########## 2. PostgreSQL (shared, never stopped here), MariaDB (octavia), RabbitMQ ##########
read -r PGVER PGNAME PGPORT PGSTATUS _ < <(pg_lsclusters --no-header 2>/dev/null | head -n 1) || true
if [ -z "${PGVER:-}" ]; then
  PGVER=$(ls /usr/lib/postgresql | sort -V | tail -n 1); PGNAME=main
  pg_createcluster "$PGVER" main >/dev/null; PGSTATUS=down
  read -r PGVER PGNAME PGPORT PGSTATUS _ < <(pg_lsclusters --no-header | head -n 1)
fi
[[ $PGSTATUS == online* ]] || pg_ctlcluster "$PGVER" "$PGNAME" start
DB="postgresql+psycopg2://openstack:${PW}@127.0.0.1:${PGPORT}"
# from /: the postgres user may not enter the caller's directory (a checkout in root's home: psql then
# warns 'could not change directory to ...: Permission denied' on every call)
psql_q() { (cd / && runuser -u postgres -- psql -X -p "$PGPORT" -v ON_ERROR_STOP=1 -tAq -c "$1"); }
for i in $(seq 30); do pg_isready -q -h 127.0.0.1 -p "$PGPORT" && break; sleep 1; done
# Eight services' connection pools (every uwsgi process and daemon has its own) outgrow PostgreSQL's
# default 100 connections under load: with 500 servers being deleted nova-compute got "sorry, too many
# clients already" and servers went to ERROR. Raised once, with a restart, before any service is started.
if [ "$(psql_q "show max_connections")" -lt 400 ]; then
  psql_q "alter system set max_connections = 400"
  pg_ctlcluster "$PGVER" "$PGNAME" restart
  for i in $(seq 30); do pg_isready -q -h 127.0.0.1 -p "$PGPORT" && break; sleep 1; done
  log "postgresql: max_connections raised to 400"
fi
[ "$(psql_q "select 1 from pg_roles where rolname='openstack'")" = 1 ] || psql_q "create role openstack login password '${PW}'"
for d in keystone glance placement nova_api nova nova_cell0 cinder neutron; do
  [ "$(psql_q "select 1 from pg_database where datname='$d'")" = 1 ] || psql_q "create database $d owner openstack"
done
log "postgresql $PGVER/$PGNAME ready on :$PGPORT"

# octavia's alembic migrations are MySQL-only (on PostgreSQL: 'constraint "PRIMARY" of relation
# "listener_statistics" does not exist'), so octavia alone gets MariaDB.
if ! mysql -e 'select 1' >/dev/null 2>&1; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  setsid /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 --innodb-buffer-pool-size=64M \
    >> "$LOGD/mariadb.log" 2>&1 < /dev/null &
  echo $! > "$RUN/mariadb.pid"
  for i in $(seq 30); do mysql -e 'select 1' >/dev/null 2>&1 && break; sleep 1; done
fi
mysql -e "CREATE DATABASE IF NOT EXISTS octavia; CREATE USER IF NOT EXISTS 'openstack'@'127.0.0.1' IDENTIFIED BY '${PW}'; GRANT ALL ON octavia.* TO 'openstack'@'127.0.0.1';"
log "mariadb ready"

# Every RabbitMQ port (5672, 25672, epmd's 4369) on loopback only.
cat > /etc/rabbitmq/rabbitmq-env.conf <<'EOF'
NODE_IP_ADDRESS=127.0.0.1
NODENAME=rabbit@localhost
export ERL_EPMD_ADDRESS=127.0.0.1
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  HOME=/var/lib/rabbitmq setsid /usr/sbin/rabbitmq-server > "$LOGD/rabbitmq.log" 2>&1 < /dev/null &
  touch "$RUN/rabbitmq.started"
  for i in $(seq 60); do rabbitmqctl -q status >/dev/null 2>&1 && break; sleep 2; done
fi
log "rabbitmq ready"

########## 3. config files (rewritten whole; Debian's originals kept as *.debian-orig) ##########
keep() { [ -e "$1.debian-orig" ] || cp -a "$1" "$1.debian-orig" 2>/dev/null || true; }
authtoken() { # $1 = service user
cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $KS
auth_url = $KS
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $PW
service_token_roles_required = true
EOF
}
password_auth() { # $1 = section, $2 = user
cat <<EOF
[$1]
region_name = RegionOne
auth_type = password
auth_url = $KS/v3
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $PW
EOF
}
keep /etc/keystone/keystone.conf
cat > /etc/keystone/keystone.conf <<EOF
[DEFAULT]
log_dir = /var/log/keystone
[database]
connection = $DB/keystone
[token]
provider = fernet
[fernet_tokens]
key_repository = /etc/keystone/fernet-keys/
[credential]
key_repository = /etc/keystone/credential-keys/
EOF

keep /etc/glance/glance-api.conf
mkdir -p /var/lib/glance/images && chown -R glance:glance /var/lib/glance
cat > /etc/glance/glance-api.conf <<EOF
[DEFAULT]
enabled_backends = fs:file
log_dir = /var/log/glance
# os_hash_value as SHA-256, so a test can compare the server's own hash of an upload with a local sha256
hashing_algorithm = sha256
[database]
connection = $DB/glance
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = /var/lib/glance/images/
[paste_deploy]
flavor = keystone
$(authtoken glance)
EOF

keep /etc/placement/placement.conf
cat > /etc/placement/placement.conf <<EOF
[api]
auth_strategy = keystone
[placement_database]
connection = $DB/placement
$(authtoken placement)
EOF

keep /etc/nova/nova.conf
cat > /etc/nova/nova.conf <<EOF
[DEFAULT]
transport_url = $TRANSPORT
my_ip = 127.0.0.1
host = skygate-compute1
compute_driver = skygate_fake.SnapshotFakeDriver
state_path = /var/lib/nova
log_dir = /var/log/nova
heal_instance_info_cache_interval = -1
[api]
auth_strategy = keystone
[api_database]
connection = $DB/nova_api
[database]
connection = $DB/nova
[conductor]
workers = 1
[scheduler]
workers = 1
[oslo_concurrency]
lock_path = /var/lib/nova/tmp
[vnc]
enabled = false
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
$(password_auth placement placement)
$(password_auth neutron neutron)
[cinder]
os_region_name = RegionOne
# Since the CVE-2023-2088 fix cinder refuses a detach unless nova sends a service token: without it
# a detached volume stays 'detaching' forever.
$(password_auth service_user nova)
send_service_user_token = true
$(authtoken nova)
# nova-api keeps no cache of token validations: a token revoked at Keystone is refused at once (the fault
# tests revoke one mid-operation), not after up to 5 minutes depending on which API worker answers. Only
# nova's: with every service validating every call at Keystone, Keystone alone slowed nova to ~7 builds/min.
token_cache_time = -1
EOF
# nova-compute must not see the DB sections ("No DB access allowed in nova-compute" otherwise)
awk '/^\[/{skip=($0=="[database]"||$0=="[api_database]")} !skip' /etc/nova/nova.conf > /etc/nova/nova-compute.conf
chown root:nova /etc/nova/nova-compute.conf; chmod 640 /etc/nova/nova-compute.conf

keep /etc/cinder/cinder.conf
cat > /etc/cinder/cinder.conf <<EOF
[DEFAULT]
transport_url = $TRANSPORT
auth_strategy = keystone
host = skygate-volume1
enabled_backends = fake
default_volume_type = __DEFAULT__
log_dir = /var/log/cinder
state_path = /var/lib/cinder
my_ip = 127.0.0.1
[database]
connection = $DB/cinder
[oslo_concurrency]
lock_path = /var/lib/cinder/tmp
[fake]
# shipped in python3-cinder: an LVM driver subclass whose every operation is a logged no-op
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
$(authtoken cinder)
EOF

keep /etc/neutron/neutron.conf; keep /etc/neutron/plugins/ml2/ml2_conf.ini
cat > /etc/neutron/neutron.conf <<EOF
[DEFAULT]
core_plugin = ml2
service_plugins = router
transport_url = $TRANSPORT
auth_strategy = keystone
bind_host = 127.0.0.1
bind_port = 9696
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
log_dir = /var/log/neutron
state_path = /var/lib/neutron
[database]
connection = $DB/neutron
[oslo_concurrency]
lock_path = /var/lib/neutron/lock
$(authtoken neutron)
EOF
cat > /etc/neutron/plugins/ml2/ml2_conf.ini <<EOF
[ml2]
type_drivers = flat,vlan,vxlan,local
tenant_network_types = local
mechanism_drivers =
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[securitygroup]
enable_security_group = true
firewall_driver = noop
EOF

keep /etc/octavia/octavia.conf
mkdir -p /etc/octavia/certs
if [ ! -e /etc/octavia/certs/ca.key ]; then
  # The CA key MUST be encrypted: an empty ca_private_key_passphrase is passed on as b'' -> TypeError.
  openssl req -x509 -newkey rsa:2048 -passout "pass:${PW}ca" -days 3650 -subj "/CN=skygate-octavia-ca" \
    -keyout /etc/octavia/certs/ca.key -out /etc/octavia/certs/ca.pem 2>/dev/null
fi
chown -R octavia:octavia /etc/octavia/certs; chmod 700 /etc/octavia/certs
cat > /etc/octavia/octavia.conf <<EOF
[DEFAULT]
transport_url = $TRANSPORT
log_dir = /var/log/octavia
[api_settings]
bind_host = 127.0.0.1
bind_port = 9876
auth_strategy = keystone
# no comma allowed in the description
enabled_provider_drivers = amphora:Amphora provider with noop back ends
default_provider_driver = amphora
[database]
connection = mysql+pymysql://openstack:${PW}@127.0.0.1/octavia
[controller_worker]
amphora_driver = amphora_noop_driver
compute_driver = compute_noop_driver
network_driver = network_noop_driver
volume_driver = volume_noop_driver
image_driver = image_noop_driver
loadbalancer_topology = SINGLE
client_ca = /etc/octavia/certs/ca.pem
workers = 1
[certificates]
ca_certificate = /etc/octavia/certs/ca.pem
ca_private_key = /etc/octavia/certs/ca.key
ca_private_key_passphrase = ${PW}ca
[oslo_messaging]
# without it the amphorav1 RPC consumer crash-loops: "target must have topic and server names"
topic = octavia_prov
[oslo_concurrency]
lock_path = /var/lib/octavia/tmp
$(password_auth service_auth octavia)
$(authtoken octavia)
EOF
log "config written"

########## 4. database schemas and keystone bootstrap ##########
asu() { runuser -u "$1" -- /bin/sh -c "$2"; }
asu keystone "keystone-manage db_sync"
keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone
keystone-manage credential_setup --keystone-user keystone --keystone-group keystone
keystone-manage bootstrap --bootstrap-password "$PW" --bootstrap-username admin \
  --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-service-name keystone \
  --bootstrap-region-id RegionOne --bootstrap-admin-url $KS/v3/ \
  --bootstrap-internal-url $KS/v3/ --bootstrap-public-url $KS/v3/ >/dev/null
asu glance "glance-manage db_sync" >/dev/null 2>&1
asu placement "placement-manage db sync"
asu nova "nova-manage api_db sync"
# no `grep -q` inside a pipe: under pipefail nova-manage gets SIGPIPE and the "match" fails
cells=$(asu nova "nova-manage cell_v2 list_cells" 2>/dev/null)
echo "$cells" | grep -q ' cell0 ' || asu nova "nova-manage cell_v2 map_cell0 --database_connection $DB/nova_cell0"
echo "$cells" | grep -q ' cell1 ' || asu nova "nova-manage cell_v2 create_cell --name=cell1"
asu nova "nova-manage db sync"
asu cinder "cinder-manage db sync"
asu neutron "neutron-db-manage --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade head" >/dev/null 2>&1
asu octavia "octavia-db-manage --config-file /etc/octavia/octavia.conf upgrade head" >/dev/null 2>&1
log "database schemas done"

########## 5. start: keystone, the catalog and the tenant ##########
start_service keystone
waitport 5000
log "keystone up :5000"
TENANT_PW=$(tenant_pw)
[ -n "$TENANT_PW" ] || TENANT_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
# One python process instead of ~40 `openstack` invocations (each ~1.5 s of CPU).
KS=$KS PW=$PW TENANT_PW=$TENANT_PW /usr/bin/python3 - <<'EOF'
import os
from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client
ks_url, pw = os.environ["KS"], os.environ["PW"]
s = session.Session(auth=v3.Password(auth_url=ks_url + "/v3", username="admin", password=pw,
    project_name="admin", user_domain_name="Default", project_domain_name="Default"))
ks = client.Client(session=s)
dom = ks.domains.get("default")
def project(name): return next(iter(ks.projects.list(name=name)), None) or ks.projects.create(name, dom)
def user(name, password):
    u = next(iter(ks.users.list(name=name)), None)
    return ks.users.update(u, password=password) if u else ks.users.create(name, domain=dom, password=password)
def role(name): return next(iter(ks.roles.list(name=name)), None) or ks.roles.create(name)
svc_project = project("service")
admin, service = role("admin"), role("service")
for r in ("member", "reader", "load-balancer_member", "load-balancer_admin"): role(r)
for u in ("glance", "placement", "nova", "cinder", "neutron", "octavia"):
    usr = next(iter(ks.users.list(name=u)), None) or ks.users.create(u, domain=dom, password=pw)
    ks.roles.grant(admin, user=usr, project=svc_project)
    ks.roles.grant(service, user=usr, project=svc_project)
# The adapter's tenant: a non-admin project and member user, as a real customer of a cloud.
tenant_project = project("skygate")
tenant = user("skygate-tenant", os.environ["TENANT_PW"])
for r in ("member", "reader", "load-balancer_member"):
    ks.roles.grant(role(r), user=tenant, project=tenant_project)
# RegionTwo: the same services minus block storage and load balancing, so a test can meet a catalog
# that lacks a service without tearing anything down.
if not any(r.id == "RegionTwo" for r in ks.regions.list()): ks.regions.create(id="RegionTwo")
endpoints = {
    ("glance", "image"): ("http://127.0.0.1:9292", True),
    ("placement", "placement"): ("http://127.0.0.1:8778", False),
    ("nova", "compute"): ("http://127.0.0.1:8774/v2.1", True),
    ("cinderv3", "volumev3"): ("http://127.0.0.1:8776/v3/%(project_id)s", False),
    ("cinder", "block-storage"): ("http://127.0.0.1:8776/v3/%(project_id)s", False),
    ("neutron", "network"): ("http://127.0.0.1:9696", True),
    ("octavia", "load-balancer"): ("http://127.0.0.1:9876", False),
}
for (name, typ), (url, in_region_two) in endpoints.items():
    svc = next(iter(ks.services.list(type=typ)), None) or ks.services.create(name, type=typ)
    have = {(e.region, e.interface) for e in ks.endpoints.list(service=svc)}
    for region in ("RegionOne", "RegionTwo") if in_region_two else ("RegionOne",):
        for itf in ("public", "internal", "admin"):
            if (region, itf) not in have: ks.endpoints.create(svc, url, interface=itf, region=region)
identity = next(iter(ks.services.list(type="identity")))
if not any(e.region == "RegionTwo" for e in ks.endpoints.list(service=identity)):
    ks.endpoints.create(identity, ks_url + "/v3/", interface="public", region="RegionTwo")
print("keystone: catalog, service users and tenant ready")
EOF
write_env_files "$TENANT_PW"
log "keystone catalog and tenant done"

########## 6. start everything else ##########
for s in glance-api placement-api nova-api nova-conductor nova-scheduler nova-compute \
  cinder-api cinder-scheduler cinder-volume neutron-server octavia-api octavia-worker; do
  start_service "$s"
done
for a in $APIS; do waitport "${a##*:}"; done
log "APIs answering"

# nova-compute registers itself in cell1; discover_hosts maps it. Then flavors, quotas and the tenant's network.
KS=$KS PW=$PW /usr/bin/python3 - <<'EOF'
import os, subprocess, time
from keystoneauth1 import session
from keystoneauth1.identity import v3
s = session.Session(auth=v3.Password(auth_url=os.environ["KS"] + "/v3", username="admin", password=os.environ["PW"],
    project_name="admin", user_domain_name="Default", project_domain_name="Default"))
nova = dict(service_type="compute", interface="public", region_name="RegionOne")
for _ in range(180):
    services = s.get("/os-services?binary=nova-compute", endpoint_filter=nova).json()["services"]
    if any(x["state"] == "up" for x in services): break
    time.sleep(1)
else:
    raise SystemExit("nova-compute never reported up")
subprocess.run(["runuser", "-u", "nova", "--", "nova-manage", "cell_v2", "discover_hosts"], check=True)
have = {f["id"] for f in s.get("/flavors", endpoint_filter=nova).json()["flavors"]}
for fid, name, ram, disk in (("1", "m1.tiny", 512, 1), ("2", "m1.small", 2048, 20)):
    if fid not in have:
        s.post("/flavors", json={"flavor": {"id": fid, "name": name, "vcpus": 1, "ram": ram, "disk": disk}}, endpoint_filter=nova)
tenant = next(p for p in s.get(os.environ["KS"] + "/v3/projects?name=skygate").json()["projects"])["id"]
# Room for the suite and the 500-server benchmark; the over-limit test lowers a quota and restores it.
s.put(f"/os-quota-sets/{tenant}", json={"quota_set": {"instances": -1, "cores": -1, "ram": -1}}, endpoint_filter=nova)
s.put(f"/os-quota-sets/{tenant}", json={"quota_set": {"volumes": 200, "snapshots": 200, "gigabytes": 2000}},
      endpoint_filter=dict(service_type="volumev3", interface="public", region_name="RegionOne"))
net = dict(service_type="network", interface="public", region_name="RegionOne")
nets = s.get(f"/v2.0/networks?name=skygate-net&project_id={tenant}", endpoint_filter=net).json()["networks"]
net_id = nets[0]["id"] if nets else s.post("/v2.0/networks", json={"network": {"name": "skygate-net", "project_id": tenant}},
                                           endpoint_filter=net).json()["network"]["id"]
if not s.get(f"/v2.0/subnets?network_id={net_id}", endpoint_filter=net).json()["subnets"]:
    s.post("/v2.0/subnets", json={"subnet": {"name": "skygate-subnet", "network_id": net_id, "project_id": tenant,
           "ip_version": 4, "cidr": "192.0.2.0/24"}}, endpoint_filter=net)
print("nova: compute host mapped, flavors m1.tiny/m1.small; tenant quotas and network skygate-net ready")
# cinder-scheduler learns the volume back end from cinder-volume's periodic capability report (every 60 s):
# until the first one, every volume create fails "No valid backend was found" and the volume goes to error.
vol = dict(service_type="volumev3", interface="public", region_name="RegionOne")
for _ in range(180):
    if s.get("/scheduler-stats/get_pools", endpoint_filter=vol).json().get("pools"): break
    time.sleep(1)
else:
    raise SystemExit("cinder-scheduler never learned a volume back end")
print("cinder: the scheduler knows the volume back end")
EOF

printf '%s\n%s\n%s\n' "$(date -Is)" "$STAMP" "$TENANT_PW" > "$RUN/ready"; chmod 600 "$RUN/ready"
log "all up; credentials in $ENV_DIR (tenant.env, admin.env)"
free -m | sed -n 2p
