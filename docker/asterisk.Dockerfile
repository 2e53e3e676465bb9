# syntax=docker/dockerfile:1
# Asterisk 22 for the hotline. Build from the repository root (compose: context "..").
#
# dialplans/ is the single source of the Asterisk configuration: it is copied unchanged, then the
# few settings that must differ inside a container are overridden below, each in a marked block.
# Settings that come from the environment (passwords, the compose network, the NAT address) are
# written at every container start by the entrypoint, into /etc/asterisk/container-env/.
#
# Debian 12 has no asterisk package; Debian sid has Asterisk 22 (the same packages that
# scripts/dev-asterisk installs for development).
FROM debian:sid-slim

# Group shared with the hotline container for the recordings spool and the prompts folder.
# Must be the same number as MEDIA_GID in docker/service.Dockerfile.
ARG MEDIA_GID=10100

# The package's sample configuration is removed: as in development, dialplans/ is the whole
# configuration, so nothing loads with a sample config we never reviewed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      asterisk asterisk-modules asterisk-core-sounds-en-wav asterisk-moh-opsound-wav \
 && rm -rf /var/lib/apt/lists/* \
 && find /etc/asterisk -mindepth 1 -delete

# Folders shared with the hotline container (named volumes in docker/compose.yaml). Both images
# create them group hotline-media, setgid, group-writable, whichever initialises the volume.
# /run/asterisk is normally made by systemd-tmpfiles, which does not run in a container.
RUN groupadd --gid "$MEDIA_GID" hotline-media \
 && usermod --append --groups hotline-media asterisk \
 && install -d -o asterisk -g hotline-media -m 2775 \
      /var/spool/asterisk/recording /var/lib/asterisk/sounds/hotline \
 && install -d -o asterisk -g asterisk -m 0755 /run/asterisk \
 && install -d -o root -g asterisk -m 0750 /etc/asterisk/container-env

COPY dialplans/*.conf /etc/asterisk/

# Container overrides. "[section](+)" appends to a section already defined above it in the same
# file; for these settings Asterisk keeps the last value, so the dialplans/ value is replaced.
RUN <<'EOF'
set -eu
cd /etc/asterisk

# asterisk.conf names the amd64 module folder; use the folder of this image's architecture.
moddir=$(dirname "$(find /usr/lib -path '*/asterisk/modules/app_stasis.so' -print -quit)")
test -f "$moddir/app_stasis.so"
sed -i "s|^astmoddir => .*|astmoddir => $moddir|" asterisk.conf
grep -qx "astmoddir => $moddir" asterisk.conf

# ARI (http.conf) and AMI (manager.conf) listen on the container's interfaces, not loopback.
cat >> http.conf <<'CONF'

; --- container override (docker/asterisk.Dockerfile): reachable from the compose network
[general](+)
bindaddr = 0.0.0.0
CONF

cat >> manager.conf <<'CONF'

; --- container override (docker/asterisk.Dockerfile): reachable from the compose network;
; the user's permit for that network and its secret are set at start from the environment.
[general](+)
bindaddr = 0.0.0.0
#tryinclude "container-env/manager.conf"
CONF

cat >> ari.conf <<'CONF'

; --- container override (docker/asterisk.Dockerfile): password set at start from the environment
#tryinclude "container-env/ari.conf"
CONF

# SIP on all interfaces. media_address = 127.0.0.1 (and binding RTP to it) only suits a
# loopback-only development host: without it Asterisk advertises the container's address, or
# the transport's external_media_address when ASTERISK_EXTERNAL_ADDRESS is set.
grep -q '^media_address = 127\.0\.0\.1$' pjsip.conf
sed -i -e '/^media_address = 127\.0\.0\.1$/d' -e '/^bind_rtp_to_media_address = yes$/d' pjsip.conf
cat >> pjsip.conf <<'CONF'

; --- container override (docker/asterisk.Dockerfile): SIP on all interfaces; the NAT address
; (external_*_address, local_net) is set at start from the environment.
[transport-udp](+)
bind = 0.0.0.0:5060
#tryinclude "container-env/pjsip.conf"
CONF

# Logs also to the console, so that "docker logs" shows them.
cat >> logger.conf <<'CONF'

; --- container override (docker/asterisk.Dockerfile): also log to the console (docker logs)
console => notice,warning,error,verbose(1)
CONF
EOF

# Writes /etc/asterisk/container-env/*.conf from the environment at every start, then runs CMD.
#   ASTERISK_ARI_PASSWORD      password of ARI user "hotline" (dialplans/ari.conf); required
#   ASTERISK_AMI_SECRET        secret of AMI user "hotline" (dialplans/manager.conf); required
#   ASTERISK_AMI_PERMIT        networks allowed to log in to AMI as "hotline", comma-separated,
#                              e.g. 172.30.53.0/24 (the compose network); loopback is always allowed
#   ASTERISK_EXTERNAL_ADDRESS  address SIP phones and trunks reach this host on (NAT); empty: none
#   ASTERISK_LOCAL_NET         networks not behind that NAT, comma-separated (used with the above)
COPY --chmod=0755 <<'EOF' /usr/local/sbin/hotline-asterisk-entrypoint
#!/bin/sh
set -eu
dir=/etc/asterisk/container-env

# No container starts with dialplans/' development passwords: both secrets must be given, and
# must not be the development value.
require() {
  if [ -z "$2" ] || [ "$2" = hotline ]; then
    echo "hotline-asterisk-entrypoint: set $1 (not empty, not the development value)" >&2
    exit 64
  fi
}
require ASTERISK_ARI_PASSWORD "${ASTERISK_ARI_PASSWORD:-}"
require ASTERISK_AMI_SECRET "${ASTERISK_AMI_SECRET:-}"

# Asterisk config values: a ";" starts a comment unless escaped.
value() { printf '%s' "$1" | sed 's/;/\\;/g'; }
# One "key = value" line per comma-separated item.
lines() { printf '%s\n' "$2" | tr ',' '\n' | while read -r item; do
  [ -z "$item" ] || printf '%s = %s\n' "$1" "$(value "$item")"; done; }

# Secrets: readable by group asterisk only. (The umask is not passed on to Asterisk.)
old_umask=$(umask)
umask 027
{
  echo "; written by hotline-asterisk-entrypoint at container start"
  printf '[hotline](+)\npassword = %s\n' "$(value "$ASTERISK_ARI_PASSWORD")"
} > "$dir/ari.conf"
{
  echo "; written by hotline-asterisk-entrypoint at container start"
  echo "[hotline](+)"
  printf 'secret = %s\n' "$(value "$ASTERISK_AMI_SECRET")"
  lines permit "${ASTERISK_AMI_PERMIT:-}"
} > "$dir/manager.conf"
{
  echo "; written by hotline-asterisk-entrypoint at container start"
  if [ -n "${ASTERISK_EXTERNAL_ADDRESS:-}" ]; then
    printf 'external_media_address = %s\n' "$ASTERISK_EXTERNAL_ADDRESS"
    printf 'external_signaling_address = %s\n' "$ASTERISK_EXTERNAL_ADDRESS"
    lines local_net "${ASTERISK_LOCAL_NET:-}"
  fi
} > "$dir/pjsip.conf"
chgrp asterisk "$dir"/*.conf
umask "$old_umask"

# Volumes created before this image, or bind mounts, get the sharing permissions too.
for shared in /var/spool/asterisk/recording /var/lib/asterisk/sounds/hotline; do
  chown asterisk:hotline-media "$shared"
  chmod 2775 "$shared"
done

# Left over from a previous run of this container.
rm -f /run/asterisk/asterisk.ctl /run/asterisk/asterisk.pid
exec "$@"
EOF

# 5060/udp SIP, 8088 ARI (HTTP), 5038 AMI, RTP range from dialplans/rtp.conf.
EXPOSE 5060/udp 8088 5038 20000-20999/udp

# Fully booted means ARI, AMI and PJSIP are loaded.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD asterisk -rx "core waitfullybooted" | grep -q "fully booted"

# Runs as root only until Asterisk drops to user "asterisk" (-U, with its groups, including
# hotline-media); the entrypoint needs root to write container-env/ and fix volume permissions.
# -f: foreground (PID 1, logs on stdout), -n: no colour codes in the logs.
ENTRYPOINT ["/usr/local/sbin/hotline-asterisk-entrypoint"]
CMD ["asterisk", "-f", "-n", "-U", "asterisk"]
