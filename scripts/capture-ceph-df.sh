#!/bin/bash
# Tiny single-node Ceph 16 cluster (one mon, one mgr, one bluestore OSD on a 4 GiB file, cephx, loopback only)
# that captures `ceph df --format json` and `ceph df detail --format json` into $D (fixtures/ceph/ came from it).
# Needs Debian's ceph-mon ceph-mgr ceph-osd ceph-common; run as root. Stop the daemons with: kill $(cat $D/run/*.pid)
set -euxo pipefail
D=${1:-/tmp/foundry-ceph-capture}
rm -rf "$D"; mkdir -p "$D"/mon.a "$D"/osd.0 "$D"/mgr.x "$D"/run "$D"/log
FSID=$(cat /proc/sys/kernel/random/uuid)
cat > "$D"/ceph.conf <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:46789
mon initial members = a
keyring = $D/keyring
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
ms bind ipv6 = false
public network = 127.0.0.0/8
[mon.a]
mon data = $D/mon.a
[mgr.x]
mgr data = $D/mgr.x
[osd.0]
osd data = $D/osd.0
osd objectstore = bluestore
bluestore block path = $D/osd.0/block.file
bluestore block create = true
bluestore block size = 4294967296
bluestore fsck on mkfs = false
osd max object name len = 256
osd max object namespace len = 64
CONF
export CEPH_CONF="$D"/ceph.conf
ceph-authtool --create-keyring "$D"/keyring --gen-key -n mon. --cap mon 'allow *'
ceph-authtool "$D"/keyring --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *'
ceph-authtool "$D"/keyring --gen-key -n osd.0 --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *'
ceph-authtool "$D"/keyring --gen-key -n mgr.x --cap mon 'allow profile mgr' --cap osd 'allow *' --cap mds 'allow *'
monmaptool --create --addv a v1:127.0.0.1:46789 --fsid "$FSID" "$D"/monmap
ceph-mon --mkfs -i a --monmap "$D"/monmap --keyring "$D"/keyring
ceph-mon -i a
timeout 60 ceph -s
ceph-mgr -i x
OSD=$(ceph osd create)
ceph-osd -i "$OSD" --mkfs
ceph osd crush add osd."$OSD" 1.0 host=localhost root=default || ceph osd crush add-bucket localhost host
ceph-osd -i "$OSD"
sleep 10
ceph osd pool create rbd 8
ceph osd pool application enable rbd rbd
head -c 10485760 /dev/urandom > "$D"/obj
rados -p rbd put obj1 "$D"/obj
rados -p rbd put obj2 "$D"/obj
sleep 15
ceph -s
ceph df --format json > "$D"/ceph-df.json
ceph df detail --format json > "$D"/ceph-df-detail.json
ceph --version > "$D"/version.txt
cat "$D"/ceph-df.json
