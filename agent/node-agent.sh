#!/usr/bin/env bash
# serverless-service-controller node agent.
#
# Run by the SSM Command document (lib/dataplane/ssm-document.ts) on every node of the cluster, or by the local
# transport inside a network namespace. Inputs are environment variables only, set from SSM parameters that SSM has
# already checked against allowedPattern; they are re-checked here and only ever used as data, never evaluated.
#
#   SSC_VERSION          desired data-plane version (digits)
#   SSC_MODE             full | delta  (delta: apply the small transaction when this node is exactly one push behind)
#   SSC_MANIFEST_SHA256  sha256 of the manifest (inline archive or downloaded manifest)
#   SSC_MANIFEST_URL     https URL of the manifest (S3 presigned GET), or empty when SSC_INLINE is set
#   SSC_INLINE           base64 of a gzip'd tar holding manifest.tsv and bundles/ (small pushes), or empty
#   SSC_ROOT             prefix for every path written (tests, local mode); empty on a real node
#   SSC_INSTANCE_ID      overrides the instance id read from IMDSv2 (tests, local mode)
#   SSC_AGENT_DIR        where healthcheck.py and dns-responder.py live
#   SSC_DNS              on | off  (manage dnsmasq; default on)
#   SSC_DNS_LISTEN       address dnsmasq listens on (default 169.254.20.10 on a dummy interface, NodeLocal-DNS style)
#   SSC_DNS_UPSTREAM     upstream resolver (default 169.254.169.253, the Amazon-provided VPC resolver)
#   SSC_HOST_RESOLV_CONF the node's resolv.conf whose search domains Pods inherit, as the kubelet's --resolv-conf (default
#                        /etc/resolv.conf)
#   SSC_RESTORE          1: re-apply the last applied bundle kept on disk (boot-time restore: kernel rules, dnsmasq
#                        and the health server do not survive a reboot); no SSM parameters are read
#
# Output: exit status 0 on success, non-zero on failure, and one line of JSON on stdout:
#   {"status":"applied|unchanged|stale|failed","version":N,"instance":"i-...","rules":"full|delta|none",
#    "dns":"started|reloaded|unchanged|off","detail":"..."}
# A failed apply leaves the previous rules, DNS, env files and health data in place (every step is checked first
# and swapped in atomically; nft -f is one kernel transaction).
set -uo pipefail
umask 022
export LC_ALL=C

ROOT="${SSC_ROOT:-}"
CONF_DIR="$ROOT/etc/sscontroller"
STATE_DIR="$ROOT/var/lib/sscontroller"
RUN_DIR="$ROOT/run/sscontroller"
AGENT_DIR="${SSC_AGENT_DIR:-$ROOT/opt/sscontroller}"
VERSION="${SSC_VERSION:-}"
MODE="${SSC_MODE:-full}"
MANIFEST_SHA="${SSC_MANIFEST_SHA256:-}"
MANIFEST_URL="${SSC_MANIFEST_URL:-}"
INLINE="${SSC_INLINE:-}"
DNS="${SSC_DNS:-on}"
DNS_LISTEN="${SSC_DNS_LISTEN:-169.254.20.10}"
DNS_UPSTREAM="${SSC_DNS_UPSTREAM:-169.254.169.253}"
INSTANCE="${SSC_INSTANCE_ID:-}"
RULES="none"
DNS_DONE="off"
WORK=""

json_escape() { printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g'; }
report() { # status detail
  printf '{"status":"%s","version":%s,"instance":"%s","rules":"%s","dns":"%s","detail":"%s"}\n' \
    "$1" "${VERSION:-0}" "$(json_escape "$INSTANCE")" "$RULES" "$DNS_DONE" "$(json_escape "$2")"
}
fail() { report failed "$1"; exit "${2:-1}"; }
cleanup() { [ -n "$WORK" ] && rm -rf -- "$WORK"; }
trap cleanup EXIT

# --- input checks (the same patterns as the document's allowedPattern) -----------------------------------------
RESTORE="${SSC_RESTORE:-0}"
[[ "$RESTORE" =~ ^[01]$ ]] || fail "invalid SSC_RESTORE"
if [ "$RESTORE" = 1 ]; then
  # Boot-time restore: the input is the bundle saved by the last successful apply, re-verified below.
  VERSION="$(cat "$STATE_DIR/current/version" 2>/dev/null || echo 0)"
  [[ "$VERSION" =~ ^[0-9]{1,15}$ ]] || VERSION=0
  MODE=full
  INSTANCE="${INSTANCE:-restore}"
else
  [[ "$VERSION" =~ ^[0-9]{1,15}$ ]] || { VERSION=0; fail "invalid version"; }
  [[ "$MODE" =~ ^(full|delta)$ ]] || fail "invalid mode"
  [[ "$MANIFEST_SHA" =~ ^[0-9a-f]{64}$ ]] || fail "invalid manifest sha256"
  [[ "$MANIFEST_URL" =~ ^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~/%+=\&?-]*)?$ ]] || fail "invalid manifest url"
  [[ "$INLINE" =~ ^[A-Za-z0-9+/=]*$ ]] || fail "invalid inline bundle"
  [[ -n "$INLINE" || -n "$MANIFEST_URL" ]] || fail "neither inline bundle nor manifest url"
fi
[[ "$DNS" =~ ^(on|off)$ ]] || fail "invalid SSC_DNS"
IPV4='^([0-9]{1,3}\.){3}[0-9]{1,3}$'
[[ "$DNS_LISTEN" =~ $IPV4 && "$DNS_UPSTREAM" =~ $IPV4 ]] || fail "invalid DNS addresses"
for tool in nft sha256sum tar base64 awk; do command -v "$tool" >/dev/null || fail "missing tool: $tool"; done

# --- who am I --------------------------------------------------------------------------------------------------
if [ -z "$INSTANCE" ]; then
  # IMDSv2: a session token first (PUT), then the instance id; hop limit 1 keeps pods from doing the same.
  token="$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)" ||
    fail "IMDSv2 token request failed"
  INSTANCE="$(curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id)" ||
    fail "IMDSv2 instance-id request failed"
fi
[[ "$INSTANCE" =~ ^[A-Za-z0-9._-]{1,64}$ ]] || fail "invalid instance id"

mkdir -p "$CONF_DIR/dnsmasq.d" "$STATE_DIR/env" "$RUN_DIR" || fail "cannot create state directories"
# One apply at a time on a node (a retry may overlap a slow previous command). Daemons started below get `9>&-`
# so they never inherit (and hold) the lock.
exec 9>"$RUN_DIR/lock"
flock -w 120 9 || fail "another apply is still running"
WORK="$(mktemp -d "$RUN_DIR/work.XXXXXX")" || fail "mktemp failed"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }
fetch() { # url dest
  curl -fsS --retry 3 --retry-delay 1 -m 120 -o "$2" "$1"
}

# --- manifest and this node's bundle ---------------------------------------------------------------------------
if [ "$RESTORE" = 1 ]; then
  B="$WORK/bundle"
  [ -f "$STATE_DIR/current/version" ] || { report unchanged "no applied bundle to restore"; exit 0; }
  cp -a "$STATE_DIR/current" "$B" || fail "cannot copy the saved bundle"
  (cd "$B" && sha256sum --quiet --strict -c SHA256SUMS) >/dev/null 2>&1 || fail "saved bundle does not match SHA256SUMS"
else
  if [ -n "$INLINE" ]; then
    printf '%s' "$INLINE" | base64 -d >"$WORK/push.tgz" 2>/dev/null || fail "inline bundle is not base64"
    [ "$(sha_of "$WORK/push.tgz")" = "$MANIFEST_SHA" ] || fail "inline bundle sha256 mismatch"
    mkdir "$WORK/push" && tar -xzf "$WORK/push.tgz" -C "$WORK/push" --no-same-owner --no-same-permissions ||
      fail "inline bundle is not a valid archive"
    MANIFEST="$WORK/push/manifest.tsv"
  else
    fetch "$MANIFEST_URL" "$WORK/manifest.tsv" || fail "manifest download failed"
    [ "$(sha_of "$WORK/manifest.tsv")" = "$MANIFEST_SHA" ] || fail "manifest sha256 mismatch"
    MANIFEST="$WORK/manifest.tsv"
  fi
  [ -f "$MANIFEST" ] || fail "manifest missing"
  # manifest.tsv: "<instance-id|*>\t<bundle sha256>\t<inline:path | https URL>"; '*' serves nodes that joined after
  # the push was rendered (no local endpoints yet, which is exactly what that entry was rendered for).
  entry="$(awk -F'\t' -v id="$INSTANCE" '$1 == id { print; found = 1; exit } END { }' "$MANIFEST")"
  [ -n "$entry" ] || entry="$(awk -F'\t' '$1 == "*" { print; exit }' "$MANIFEST")"
  [ -n "$entry" ] || fail "no manifest entry for this instance"
  BUNDLE_SHA="$(printf '%s' "$entry" | cut -f2)"
  LOCATION="$(printf '%s' "$entry" | cut -f3)"
  [[ "$BUNDLE_SHA" =~ ^[0-9a-f]{64}$ ]] || fail "invalid bundle sha256 in manifest"
  case "$LOCATION" in
    inline:bundles/*)
      rel="${LOCATION#inline:}"
      [[ "$rel" =~ ^bundles/[0-9a-f]{64}\.tgz$ && -n "$INLINE" ]] || fail "invalid inline bundle location"
      cp "$WORK/push/$rel" "$WORK/bundle.tgz" || fail "bundle missing from inline archive"
      ;;
    http://* | https://*)
      [[ "$LOCATION" =~ ^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~/%+=\&?-]*$ ]] || fail "invalid bundle url"
      fetch "$LOCATION" "$WORK/bundle.tgz" || fail "bundle download failed"
      ;;
    *) fail "invalid bundle location" ;;
  esac
  [ "$(sha_of "$WORK/bundle.tgz")" = "$BUNDLE_SHA" ] || fail "bundle sha256 mismatch"
  B="$WORK/bundle"
  mkdir "$B" && tar -xzf "$WORK/bundle.tgz" -C "$B" --no-same-owner --no-same-permissions || fail "bundle is not a valid archive"
  (cd "$B" && sha256sum --quiet --strict -c SHA256SUMS) >/dev/null 2>&1 || fail "bundle content does not match SHA256SUMS"
  [ "$(cat "$B/version")" = "$VERSION" ] || fail "bundle version does not match the command"

fi

# --- version ordering: never go backwards, re-running the same version is a no-op --------------------------------
APPLIED="$(cat "$STATE_DIR/applied-version" 2>/dev/null || echo 0)"
[[ "$APPLIED" =~ ^[0-9]+$ ]] || APPLIED=0
if [ "$VERSION" -lt "$APPLIED" ]; then report stale "node already at version $APPLIED"; exit 0; fi
# Whether our table exists (it is gone after a reboot or a manual flush), without listing it: with nft 1.0.6 both
# `nft list table` and even `nft list tables` load the whole ruleset (~0.4-0.7 s at 10,000 Services), while listing
# one small chain that every ruleset of ours has takes a few milliseconds.
table_present() { nft list chain ip sscontroller services >/dev/null 2>&1; }
if [ "$RESTORE" = 1 ] && table_present; then report unchanged "rules already present"; exit 0; fi
if [ "$RESTORE" = 0 ] && [ "$VERSION" -eq "$APPLIED" ] && table_present; then
  report unchanged "version $VERSION already applied"; exit 0
fi

# --- rules: the delta from this node's version when it has it, else a full sync; one transaction either way ---------
apply_nft() { nft -c -f "$1" >"$WORK/nft.err" 2>&1 && nft -f "$1" >>"$WORK/nft.err" 2>&1; }
# A full sync never deletes the table (that would forget every sessionAffinity client): nft-sync.awk turns what the
# kernel holds into a prelude that flushes and deletes all of it except the affinity sets the ruleset declares again,
# and the prelude and the ruleset go into the kernel as ONE checked transaction.
full_sync() {
  # (no table yet, e.g. first apply or after a reboot: an empty listing, so an empty prelude)
  { { nft -t list table ip sscontroller 2>/dev/null || true; } | awk -f "$AGENT_DIR/nft-sync.awk" "$1" - && cat "$1"; } \
    >"$WORK/full.nft" &&
    apply_nft "$WORK/full.nft"
}
# The delta skips the separate `nft -c` pass: `nft -f` is one kernel transaction either way (all or nothing), each
# nft run pays a cache load that grows with the table, and a refused delta falls back to the checked full ruleset.
if [ "$MODE" = delta ] && [ -f "$B/delta.nft" ] && [ "$(cat "$B/delta.base" 2>/dev/null)" = "$APPLIED" ] &&
  table_present && nft -f "$B/delta.nft" >"$WORK/nft.err" 2>&1; then
  RULES=delta
elif full_sync "$B/ruleset.nft"; then
  RULES=full
else
  fail "nft rejected the ruleset, previous rules kept: $(head -c 300 "$WORK/nft.err")" 2
fi

# --- stale UDP conntrack entries (kube-proxy clears them after each sync) -------------------------------------------
# Entries whose reply comes from an endpoint that is gone, and entries for UDP Services/NodePorts that just got their
# first endpoint (created while packets were rejected). Skipped on a node's first apply (nothing to compare with) and
# where conntrack(8) is not installed (said in the report). Every value is re-validated before it reaches conntrack.
CT_DETAIL=""
if [ -f "$B/conntrack.tsv" ]; then
  if ! command -v conntrack >/dev/null; then
    CT_DETAIL="; conntrack is not installed, stale UDP entries not cleared"
  elif [ -f "$STATE_DIR/conntrack.tsv" ]; then
    field() { awk -F'\t' -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$2" | sort -u; }
    cleared=0
    while read -r ip; do
      [[ "$ip" =~ $IPV4 ]] || continue
      conntrack -D -p udp --reply-src "$ip" >/dev/null 2>&1 && cleared=$((cleared + 1))
    done < <(comm -23 <(field endpoint "$STATE_DIR/conntrack.tsv") <(field endpoint "$B/conntrack.tsv"))
    while read -r ip port; do
      [[ "$ip" =~ $IPV4 && "$port" =~ ^[0-9]{1,5}$ ]] || continue
      conntrack -D -p udp --orig-dst "$ip" --orig-port-dst "$port" >/dev/null 2>&1 && cleared=$((cleared + 1))
    done < <(comm -13 <(field service "$STATE_DIR/conntrack.tsv") <(field service "$B/conntrack.tsv"))
    while read -r port; do
      [[ "$port" =~ ^[0-9]{1,5}$ ]] || continue
      conntrack -D -p udp --orig-port-dst "$port" >/dev/null 2>&1 && cleared=$((cleared + 1))
    done < <(comm -13 <(field nodeport "$STATE_DIR/conntrack.tsv") <(field nodeport "$B/conntrack.tsv"))
    [ "$cleared" -gt 0 ] && CT_DETAIL="; cleared stale UDP conntrack entries ($cleared matches)"
  fi
  install -m 0644 "$B/conntrack.tsv" "$STATE_DIR/conntrack.tsv.new" && mv -f "$STATE_DIR/conntrack.tsv.new" "$STATE_DIR/conntrack.tsv"
fi

# --- DNS ---------------------------------------------------------------------------------------------------------
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }
stop_pid() {
  if pid_alive "$1"; then
    local pid; pid="$(cat "$1")"; kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$1"
}
DNS_DETAIL=""
# Installs $B/dns/<f> under $STATE_DIR/dns when its content differs; sets DNS_CHANGED=1 if any did.
install_dns_files() {
  DNS_CHANGED=0
  mkdir -p "$STATE_DIR/dns"
  for f in hosts servers records; do
    [ "$(sha_of "$B/dns/$f" 2>/dev/null)" = "$(sha_of "$STATE_DIR/dns/$f" 2>/dev/null)" ] && continue
    install -m 0644 "$B/dns/$f" "$STATE_DIR/dns/$f.new" && mv -f "$STATE_DIR/dns/$f.new" "$STATE_DIR/dns/$f" && DNS_CHANGED=1
  done
}
# dnsmasq's start-up configuration: everything that changes per push is in the files above, which SIGHUP re-reads.
node_dns_conf() {
  cat <<CONF
# Written by the sscontroller node agent.
listen-address=$DNS_LISTEN
bind-interfaces
no-resolv
no-hosts
server=$DNS_UPSTREAM
local-ttl=5
cache-size=10000
conf-file=$CONF_DIR/dnsmasq.d/sscontroller.conf
addn-hosts=$STATE_DIR/dns/hosts
servers-file=$STATE_DIR/dns/servers
CONF
  [ "$DNS_LISTEN" = 127.0.0.1 ] || echo 'except-interface=lo'
}
if [ "$DNS" = on ] && ! command -v dnsmasq >/dev/null; then
  DNS_DETAIL="; dnsmasq is not installed, DNS not served"
elif [ "$DNS" = on ]; then
  if ! dnsmasq --test --conf-file="$B/dnsmasq.conf" >/dev/null 2>&1; then
    DNS_DETAIL="; dnsmasq rejected the new config, previous DNS kept"
  else
    install_dns_files
    # The listen address must be local: NodeLocal-DNS style, a link-local address on a dummy interface.
    if ! ip -o addr show | grep -q " inet $DNS_LISTEN/"; then
      ip link add ssc-dns type dummy 2>/dev/null; ip link set ssc-dns up; ip addr add "$DNS_LISTEN/32" dev ssc-dns 2>/dev/null
    fi
    node_dns_conf >"$WORK/dnsmasq-node.conf"
    if pid_alive "$RUN_DIR/dnsmasq.pid" && [ "$(sha_of "$WORK/dnsmasq-node.conf")" = "$(sha_of "$CONF_DIR/dnsmasq-node.conf" 2>/dev/null)" ] &&
      [ "$(sha_of "$B/dnsmasq.conf")" = "$(sha_of "$CONF_DIR/dnsmasq.d/sscontroller.conf" 2>/dev/null)" ]; then
      # Same start-up configuration: a data change is a reload. The responder first, so that names dnsmasq starts
      # forwarding to it already have their records. SIGHUP also empties dnsmasq's cache.
      if [ "$DNS_CHANGED" = 1 ]; then
        pid_alive "$RUN_DIR/dns-responder.pid" && kill -HUP "$(cat "$RUN_DIR/dns-responder.pid")" 2>/dev/null
        kill -HUP "$(cat "$RUN_DIR/dnsmasq.pid")" 2>/dev/null
        DNS_DONE="reloaded"
      else
        DNS_DONE="unchanged"
      fi
    else
      # First start, a restart after a reboot or crash, or a new cluster domain / listen address: (re)start.
      install -m 0644 "$B/dnsmasq.conf" "$CONF_DIR/dnsmasq.d/sscontroller.conf.new" &&
        mv -f "$CONF_DIR/dnsmasq.d/sscontroller.conf.new" "$CONF_DIR/dnsmasq.d/sscontroller.conf"
      mv -f "$WORK/dnsmasq-node.conf" "$CONF_DIR/dnsmasq-node.conf"
      stop_pid "$RUN_DIR/dnsmasq.pid"
      if dnsmasq --conf-file="$CONF_DIR/dnsmasq-node.conf" --pid-file="$RUN_DIR/dnsmasq.pid" >>"$RUN_DIR/dnsmasq.log" 2>&1 9>&-; then
        DNS_DONE="started"
      else
        DNS_DETAIL="; dnsmasq failed to start"
      fi
    fi
    if ! pid_alive "$RUN_DIR/dns-responder.pid" && [ -f "$AGENT_DIR/dns-responder.py" ]; then
      setsid python3 "$AGENT_DIR/dns-responder.py" --data "$STATE_DIR/dns/records" --listen 127.0.0.1 \
        --port 5354 --upstream "$DNS_LISTEN" --pid-file "$RUN_DIR/dns-responder.pid" </dev/null >>"$RUN_DIR/dns-responder.log" 2>&1 9>&- &
    fi
  fi
fi

# --- Pod DNS: what a kubelet (or anything creating Pod sandboxes) on this node needs ----------------------------------
# pod-dns.tsv (lib/dataplane/render/resolv.ts) holds the cluster part of the ClusterFirst search list per namespace;
# like the kubelet, the agent appends this node's own search domains and names its own DNS address as nameserver.
# pod-resolv/<namespace>.conf is then exactly the resolv.conf the kubelet gives a ClusterFirst Pod with
# --cluster-dns=$DNS_LISTEN; kubelet-dns.yaml is the KubeletConfiguration fragment that makes the kubelet do so.
if [ -f "$B/pod-dns.tsv" ]; then
  host_search="$(awk '$1 == "search" { $1 = ""; s = $0 } END { print s }' "${SSC_HOST_RESOLV_CONF:-/etc/resolv.conf}" 2>/dev/null)"
  [[ "$host_search" =~ ^[A-Za-z0-9.\ -]*$ ]] || host_search=""
  domain="$(awk -F'\t' '$1 == "domain" { print $2 }' "$B/pod-dns.tsv")"
  pod_opts="$(awk -F'\t' '$1 == "options" { print $2 }' "$B/pod-dns.tsv")"
  if [[ "$domain" =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ && "$pod_opts" =~ ^[a-z0-9:\ ]*$ ]]; then
    rm -rf "$STATE_DIR/pod-resolv.new" && mkdir -p "$STATE_DIR/pod-resolv.new"
    awk -F'\t' -v host="$host_search" -v ns_ip="$DNS_LISTEN" -v opts="$pod_opts" -v dir="$STATE_DIR/pod-resolv.new" '
      $1 == "search" && $2 ~ /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ {
        n = split($3 " " host, s, " "); out = ""; split("", seen)
        for (i = 1; i <= n; i++) { d = s[i]; sub(/\.$/, "", d); if (d == "" || (d in seen)) continue; seen[d] = 1; out = out (out == "" ? "" : " ") d }
        f = dir "/" $2 ".conf"; printf "search %s\nnameserver %s\noptions %s\n", out, ns_ip, opts > f; close(f)
      }' "$B/pod-dns.tsv"
    rm -rf "$STATE_DIR/pod-resolv.old"
    { [ ! -d "$STATE_DIR/pod-resolv" ] || mv "$STATE_DIR/pod-resolv" "$STATE_DIR/pod-resolv.old"; } &&
      mv "$STATE_DIR/pod-resolv.new" "$STATE_DIR/pod-resolv" && rm -rf "$STATE_DIR/pod-resolv.old"
    printf '%s\n' '# Written by the sscontroller node agent: a KubeletConfiguration fragment (kubelet --config-dir).' \
      'apiVersion: kubelet.config.k8s.io/v1beta1' 'kind: KubeletConfiguration' 'clusterDNS:' "  - $DNS_LISTEN" \
      "clusterDomain: $domain" >"$CONF_DIR/kubelet-dns.yaml.new" && mv -f "$CONF_DIR/kubelet-dns.yaml.new" "$CONF_DIR/kubelet-dns.yaml"
  fi
fi

# --- env files: build a new directory, then swap it in --------------------------------------------------------------
rm -rf "$STATE_DIR/env.new" && mkdir -p "$STATE_DIR/env.new"
if [ -d "$B/env" ]; then cp -p "$B"/env/*.env "$STATE_DIR/env.new/" 2>/dev/null || true; fi
rm -rf "$STATE_DIR/env.old" && mv "$STATE_DIR/env" "$STATE_DIR/env.old" && mv "$STATE_DIR/env.new" "$STATE_DIR/env" &&
  rm -rf "$STATE_DIR/env.old"

# --- health-check data and server --------------------------------------------------------------------------------
install -m 0644 "$B/health.tsv" "$STATE_DIR/health.tsv.new" && mv -f "$STATE_DIR/health.tsv.new" "$STATE_DIR/health.tsv"
if pid_alive "$RUN_DIR/healthcheck.pid"; then
  kill -HUP "$(cat "$RUN_DIR/healthcheck.pid")" 2>/dev/null
elif [ -f "$AGENT_DIR/healthcheck.py" ]; then
  setsid python3 "$AGENT_DIR/healthcheck.py" --data "$STATE_DIR/health.tsv" --pid-file "$RUN_DIR/healthcheck.pid" \
    </dev/null >>"$RUN_DIR/healthcheck.log" 2>&1 9>&- &
fi

printf '%s\n' "$VERSION" >"$STATE_DIR/applied-version.new" && mv -f "$STATE_DIR/applied-version.new" "$STATE_DIR/applied-version"

# --- keep what was applied, and restore it at boot ----------------------------------------------------------------
# Kernel rules, dnsmasq and the health server are gone after a reboot while SSM has nothing new to send: keep the
# verified bundle and, on a systemd node (never under SSC_ROOT, i.e. tests), a oneshot unit that re-runs this agent
# with SSC_RESTORE=1 at boot.
if [ "$RESTORE" = 0 ]; then
  rm -rf "$STATE_DIR/current.new" && cp -a "$B" "$STATE_DIR/current.new" && rm -rf "$STATE_DIR/current" &&
    mv "$STATE_DIR/current.new" "$STATE_DIR/current"
  if [ -z "$ROOT" ] && command -v systemctl >/dev/null && [ -d /etc/systemd/system ] &&
    [ ! -f /etc/systemd/system/sscontroller-restore.service ]; then
    cat >/etc/systemd/system/sscontroller-restore.service <<UNIT
[Unit]
Description=Restore the serverless-service-controller data plane after boot
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
Environment=SSC_RESTORE=1
ExecStart=/bin/bash $AGENT_DIR/node-agent.sh

[Install]
WantedBy=multi-user.target
UNIT
    systemctl daemon-reload >/dev/null 2>&1 && systemctl enable sscontroller-restore.service >/dev/null 2>&1
  fi
fi
report applied "rules $RULES$DNS_DETAIL$CT_DETAIL"
exit 0
